"""Prune and bulk delete.

Prune: rayguild keeps no "last seen" per member, so a member counts as inactive for ``days`` when
they joined more than ``days`` ago (1-30, default 7) and hold no role, or only roles listed in
``include_roles``; the owner is never pruned. GET counts (KICK_MEMBERS), POST removes them
(KICK_MEMBERS and MANAGE_GUILD) with GUILD_MEMBER_REMOVE each and one MEMBER_PRUNE audit entry.

Bulk delete: 2-100 distinct message ids, none older than 14 days (400 50034), MANAGE_MESSAGES;
ids that name no message of the channel are skipped; one MESSAGE_DELETE_BULK with the ids deleted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rayguild.fanout.permissions import KICK_MEMBERS, MANAGE_GUILD, MANAGE_MESSAGES
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess, channel_request, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.forms import flag, integer, optional_id, query_int, read_json
from rayguild.http_api.moderation import in_guild, now_ms, publish_bulk_delete
from rayguild.http_api.rest_members import remove_member
from rayguild.ids import snowflake_time_ms
from rayguild.storage.models import Member

routes = web.RouteTableDef()

DAY_MS = 86_400_000
BULK_DELETE_MAX_AGE_MS = 14 * DAY_MS
TOO_OLD_TO_BULK_DELETE = 50034


def _include_roles(raw: Any, field: str) -> set[int]:
    values = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(values, list):
        raise invalid_form(field, "BASE_TYPE_ARRAY", "Must be an array.")
    return {_id(v, f"{field}.{i}") for i, v in enumerate(values) if v != ""}


def _id(value: Any, field: str) -> int:
    number = optional_id({field: value}, field)
    if number is None:
        raise invalid_form(field, "BASE_TYPE_REQUIRED", "This field is required")
    return number


async def _prunable(ctx: EdgeContext, access: GuildAccess, days: int, roles: set[int]) -> list[Member]:
    joined_before = now_ms() - days * DAY_MS
    found = []
    async for member in ctx.storage.iter_members(access.guild.id):
        if member.user_id == access.guild.owner_id or member.joined_at_ms > joined_before:
            continue
        if set(member.roles) <= roles:
            found.append(member)
    return found


@routes.get("/guilds/{guild_id}/prune")
async def prune_count(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(KICK_MEMBERS)
    days = query_int(request, "days", 7, 1, 30)
    roles = _include_roles(request.query.get("include_roles", ""), "include_roles")
    return json_response({"pruned": len(await _prunable(ctx, access, days, roles))})


@routes.post("/guilds/{guild_id}/prune")
async def prune(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(KICK_MEMBERS | MANAGE_GUILD)
    body = await read_json(request)
    days = integer(body, "days", 7, 1, 30)
    roles = _include_roles(body.get("include_roles") or [], "include_roles")
    members = await _prunable(ctx, access, days, roles)
    for member in members:
        await remove_member(ctx, access.guild.id, member)
    options = {"delete_member_days": str(days), "members_removed": str(len(members))}
    await audit.record(
        request, ctx, access.guild.id, access.member.user_id, audit.MEMBER_PRUNE, options=options
    )
    return json_response({"pruned": len(members) if flag(body, "compute_prune_count", True) else None})


@routes.post("/channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(MANAGE_MESSAGES)
    raw = (await read_json(request)).get("messages")
    if not isinstance(raw, list):
        raise invalid_form("messages", "BASE_TYPE_REQUIRED", "This field is required")
    ids = list(dict.fromkeys(_id(v, f"messages.{i}") for i, v in enumerate(raw)))
    if not 2 <= len(ids) <= 100:
        raise invalid_form("messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
    oldest = now_ms() - BULK_DELETE_MAX_AGE_MS
    if any(snowflake_time_ms(i) < oldest for i in ids):
        raise ApiError(
            400, TOO_OLD_TO_BULK_DELETE, "You can only bulk delete messages that are under 14 days old."
        )
    channel = found.channel
    deleted = [i for i in ids if await ctx.storage.delete_message(channel.id, i)]
    if deleted:
        await publish_bulk_delete(ctx, channel.guild_id, channel.id, deleted)
        await audit.record(request, ctx, channel.guild_id, in_guild(found).member.user_id, audit.MESSAGE_BULK_DELETE,
                           channel.id, options={"count": str(len(deleted))})  # fmt: skip
    return web.Response(status=204)
