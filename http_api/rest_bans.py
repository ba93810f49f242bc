"""Bans: ban (with ``delete_message_seconds``), list with paging, get, unban, bulk ban.

A ban is durable before anything is dispatched: the ban row, then the member's removal
(GUILD_MEMBER_REMOVE, their sessions get GUILD_DELETE), then the deletion of their messages of
the last ``delete_message_seconds`` (MESSAGE_DELETE_BULK per channel), GUILD_BAN_ADD and the
audit entry. A banned user cannot join through an invite (rest_invites). Bounds as Discord's:
``delete_message_seconds`` 0-604800 (body or query), a list ``limit`` 1-1000, a bulk ban 1-200 users.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.fanout.permissions import BAN_MEMBERS, MANAGE_GUILD
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, missing_permissions, unknown
from rayguild.http_api.forms import integer, optional_id, path_id, query_id, query_int, read_json
from rayguild.http_api.moderation import GUILD_MODERATION, now_ms, publish_bulk_delete, require_above
from rayguild.http_api.notify import publish
from rayguild.http_api.rest_members import remove_member
from rayguild.ids import snowflake_at
from rayguild.shapes import user as user_shape
from rayguild.storage.models import User
from rayguild.storage.moderation import MAX_BANS_LIMIT, Ban, BanQuery
from rayguild.storage.protocol import MAX_HISTORY_LIMIT, HistoryQuery

routes = web.RouteTableDef()

MAX_DELETE_SECONDS = 604_800
MAX_BULK_BAN = 200
BULK_BAN_FAILED = 500_000  # Discord's "Failed to ban users"
TEXT_TYPES = (0, 5)


def ban_shape(ban: Ban, user: User) -> dict[str, Any]:
    return {"user": user_shape(user), "reason": ban.reason}


def _delete_seconds(request: web.Request, body: dict[str, Any]) -> int:
    """From the JSON body, or the query string as discord.py sends it (Discord takes both)."""
    if "delete_message_seconds" in body:
        return integer(body, "delete_message_seconds", 0, 0, MAX_DELETE_SECONDS)
    if "delete_message_days" in body:
        return 86_400 * integer(body, "delete_message_days", 0, 0, 7)  # the deprecated field
    if "delete_message_days" in request.query:
        return 86_400 * query_int(request, "delete_message_days", 0, 0, 7)
    return query_int(request, "delete_message_seconds", 0, 0, MAX_DELETE_SECONDS)


async def _delete_recent_messages(ctx: EdgeContext, guild_id: int, user_id: int, seconds: int) -> None:
    """Delete ``user_id``'s messages of the last ``seconds`` in every text channel of the guild;
    one MESSAGE_DELETE_BULK per channel that lost any."""
    since = snowflake_at(now_ms() - seconds * 1000)
    for channel in await ctx.storage.list_channels(guild_id):
        if channel.type not in TEXT_TYPES:
            continue
        deleted: list[int] = []
        after: int = since
        while True:
            page = await ctx.storage.history(HistoryQuery(channel.id, MAX_HISTORY_LIMIT, after=after))
            for message in page:
                if message.author_id == user_id and await ctx.storage.delete_message(channel.id, message.id):
                    deleted.append(message.id)
            if len(page) < MAX_HISTORY_LIMIT:
                break
            after = max(m.id for m in page)
        if deleted:
            await publish_bulk_delete(ctx, guild_id, channel.id, deleted)


async def ban_user(
    request: web.Request, ctx: EdgeContext, access: GuildAccess, user_id: int, delete_seconds: int
) -> None:
    """Ban ``user_id`` (who may not be a member); 404 10013 for an unknown user, 403 above you."""
    guild = access.guild
    target = await ctx.storage.get_user(user_id)
    if target is None:
        raise unknown("user")
    member = await ctx.storage.get_member(guild.id, user_id)
    if user_id == guild.owner_id or (member is not None and user_id == access.member.user_id):
        raise missing_permissions()
    if member is not None:
        require_above(guild, access.roles, access.member, member)
    ban = Ban(guild.id, user_id, audit.reason_of(request))
    await ctx.storage.put_ban(ban)
    if member is not None:
        await remove_member(ctx, guild.id, member)
    if delete_seconds:
        await _delete_recent_messages(ctx, guild.id, user_id, delete_seconds)
    d = {"guild_id": str(guild.id), "user": user_shape(target)}
    await publish(ctx, Publish(guild.id, "GUILD_BAN_ADD", d, intent=GUILD_MODERATION))
    await audit.record(request, ctx, guild.id, access.member.user_id, audit.MEMBER_BAN_ADD, user_id)


def _snowflake_item(value: Any, field: str) -> int:
    """A snowflake from a JSON array item, reported under ``field`` ("user_ids.3") when malformed."""
    number = optional_id({field: value}, field)
    if number is None:
        raise invalid_form(field, "BASE_TYPE_REQUIRED", "This field is required")
    return number


@routes.put("/guilds/{guild_id}/bans/{user_id}")
async def create_ban(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(BAN_MEMBERS)
    seconds = _delete_seconds(request, await read_json(request))
    await ban_user(request, ctx, access, path_id(request, "user_id"), seconds)
    return web.Response(status=204)


@routes.get("/guilds/{guild_id}/bans")
async def list_bans(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(BAN_MEMBERS)
    query = BanQuery(
        access.guild.id, query_int(request, "limit", MAX_BANS_LIMIT, 1, MAX_BANS_LIMIT),
        before=query_id(request, "before"), after=query_id(request, "after"),
    )  # fmt: skip
    bans = await ctx.storage.list_bans(query)
    users = await ctx.storage.get_users([b.user_id for b in bans])
    return json_response([ban_shape(b, users[b.user_id]) for b in bans if b.user_id in users])


@routes.get("/guilds/{guild_id}/bans/{user_id}")
async def get_ban(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(BAN_MEMBERS)
    ban = await ctx.storage.get_ban(access.guild.id, path_id(request, "user_id"))
    user = await ctx.storage.get_user(ban.user_id) if ban is not None else None
    if ban is None or user is None:
        raise ApiError(404, 10026, "Unknown Ban")
    return json_response(ban_shape(ban, user))


@routes.delete("/guilds/{guild_id}/bans/{user_id}")
async def delete_ban(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(BAN_MEMBERS)
    user_id = path_id(request, "user_id")
    if not await ctx.storage.delete_ban(access.guild.id, user_id):
        raise ApiError(404, 10026, "Unknown Ban")
    user = await ctx.storage.get_user(user_id)
    d = {"guild_id": str(access.guild.id), "user": user_shape(user) if user else {"id": str(user_id)}}
    await publish(ctx, Publish(access.guild.id, "GUILD_BAN_REMOVE", d, intent=GUILD_MODERATION))
    await audit.record(request, ctx, access.guild.id, access.member.user_id, audit.MEMBER_BAN_REMOVE, user_id)
    return web.Response(status=204)


@routes.post("/guilds/{guild_id}/bulk-ban")
async def bulk_ban(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(BAN_MEMBERS | MANAGE_GUILD)
    body = await read_json(request)
    raw = body.get("user_ids")
    if not isinstance(raw, list):
        raise invalid_form("user_ids", "BASE_TYPE_REQUIRED", "This field is required")
    if not 1 <= len(raw) <= MAX_BULK_BAN:
        raise invalid_form(
            "user_ids", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_BULK_BAN} in length."
        )
    ids = list(dict.fromkeys(_snowflake_item(v, f"user_ids.{i}") for i, v in enumerate(raw)))
    seconds = _delete_seconds(request, body)
    banned, failed = [], []
    for user_id in ids:
        try:
            await ban_user(request, ctx, access, user_id, seconds)
        except ApiError:
            failed.append(str(user_id))
        else:
            banned.append(str(user_id))
    if not banned:
        raise ApiError(403, BULK_BAN_FAILED, "Failed to ban users")
    return json_response({"banned_users": banned, "failed_users": failed})
