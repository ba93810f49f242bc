"""Editing members: ``PATCH /guilds/{g}/members/{u}`` (nick, roles, mute, deaf,
``communication_disabled_until``, ``channel_id``: null), ``PATCH /guilds/{g}/members/@me`` (nick),
member search, and the caller's own member object.

Each field needs Discord's permission (nick: MANAGE_NICKNAMES, or CHANGE_NICKNAME on oneself;
roles: MANAGE_ROLES and only roles below the caller's highest; mute / deaf: MUTE_MEMBERS /
DEAFEN_MEMBERS; a timeout: MODERATE_MEMBERS, at most 28 days ahead, never on an owner or an
administrator), and acting on another member needs to outrank them. The new record and state are
durable before GUILD_MEMBER_UPDATE and the audit entries (MEMBER_UPDATE, MEMBER_ROLE_UPDATE).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from rayguild.actors.commands import MemberUpdated, Publish
from rayguild.fanout.events import GUILD_MEMBERS
from rayguild.fanout.permissions import ADMINISTRATOR, CHANGE_NICKNAME, MANAGE_ROLES, base_permissions
from rayguild.http_api import audit, thread_sync
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, missing_permissions, unknown
from rayguild.http_api.forms import flag, path_id, query_int, read_json, text
from rayguild.http_api.moderation import (
    DEAFEN_MEMBERS,
    MANAGE_NICKNAMES,
    MAX_TIMEOUT_MS,
    MODERATE_MEMBERS,
    MUTE_MEMBERS,
    member_with_state,
    now_ms,
    require_above,
    timed_out,
    top_position,
)
from rayguild.http_api.notify import publish
from rayguild.shapes import iso
from rayguild.storage.models import Member
from rayguild.storage.moderation import MemberState
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.semantics import MemberChange

routes = web.RouteTableDef()

NOT_IN_VOICE = 40032


def _timeout_until(body: dict[str, Any]) -> int | None:
    raw = body["communication_disabled_until"]
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        raise invalid_form("communication_disabled_until", "DATE_TIME_TYPE_PARSE",
                           f'Could not parse {raw}. Should be ISO8601.') from None  # fmt: skip
    if at.tzinfo is None:
        raise invalid_form("communication_disabled_until", "DATE_TIME_TYPE_PARSE", "Give a UTC offset.")
    until = int(at.timestamp() * 1000)
    if until - now_ms() > MAX_TIMEOUT_MS:
        raise invalid_form("communication_disabled_until", "COMMUNICATION_DISABLED_TIMESTAMP_TOO_LARGE",
                           "The timeout can be at most 28 days from now.")  # fmt: skip
    return until if until > now_ms() else None


def _roles(body: dict[str, Any], access: GuildAccess, before: tuple[int, ...]) -> tuple[int, ...]:
    raw = body["roles"]
    if not isinstance(raw, list):
        raise invalid_form("roles", "BASE_TYPE_ARRAY", "Must be an array.")
    known = {r.id: r for r in access.roles}
    wanted: list[int] = []
    for i, value in enumerate(raw):
        try:
            role_id = int(value)
        except (TypeError, ValueError):
            raise invalid_form(
                f"roles.{i}", "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.'
            ) from None
        if role_id not in known:
            raise invalid_form(f"roles.{i}", "UNKNOWN_ROLE", f"Unknown role: {role_id}")
        if role_id != access.guild.id and role_id not in wanted:  # @everyone is implicit
            wanted.append(role_id)
    mine = top_position(access.guild, access.roles, access.member)
    if any(known[r].position >= mine for r in set(wanted) ^ set(before)):
        raise missing_permissions()  # Discord: only roles below your highest
    return tuple(wanted)


async def edit_member(
    request: web.Request, ctx: EdgeContext, access: GuildAccess, target: Member
) -> web.Response:
    body = await read_json(request)
    is_self = target.user_id == access.member.user_id
    if not is_self:
        require_above(access.guild, access.roles, access.member, target)
    state = await ctx.storage.get_member_state(target.guild_id, target.user_id) or MemberState(
        target.guild_id, target.user_id
    )
    member, new_state = target, state
    changes: list[audit.Change] = []
    if "nick" in body:
        access.require(CHANGE_NICKNAME if is_self else MANAGE_NICKNAMES)
        nick = text(body, "nick", 0, 32, required=False) or None
        changes.append(audit.change("nick", member.nick, nick))
        member = replace(member, nick=nick)
    if "roles" in body:
        access.require(MANAGE_ROLES)
        member = replace(member, roles=_roles(body, access, target.roles))
    for field, bit in (("mute", MUTE_MEMBERS), ("deaf", DEAFEN_MEMBERS)):
        if field in body:
            access.require(bit)
            value = flag(body, field, False)
            changes.append(audit.change(field, getattr(state, field), value))
            new_state = replace(new_state, **{field: value})
    if body.get("channel_id") is not None:
        raise ApiError(400, NOT_IN_VOICE, "Target user is not connected to voice.")
    if "communication_disabled_until" in body:
        access.require(MODERATE_MEMBERS)
        until = _timeout_until(body)
        if until is not None and await _is_admin(ctx, access, target):
            raise missing_permissions()  # owners and administrators cannot be timed out
        old = iso(state.timeout_until_ms) if timed_out(state) and state.timeout_until_ms else None
        changes.append(audit.change("communication_disabled_until", old, iso(until) if until else None))
        new_state = replace(new_state, timeout_until_ms=until)
    if member != target:  # atomic in storage, as a difference: a concurrent role change is kept
        removed_roles = tuple(r for r in target.roles if r not in member.roles)
        added_roles = tuple(r for r in member.roles if r not in target.roles)
        change = MemberChange(added_roles, removed_roles, set_nick="nick" in body, nick=member.nick)
        changed = await ctx.storage.change_member(target.guild_id, target.user_id, change)
        if changed is None:
            raise unknown("member")
        member = changed[1]
    if new_state != state:
        await ctx.storage.put_member_state(new_state)
    user = await ctx.storage.get_user(member.user_id)
    shown = member_with_state(member, user, new_state)
    await publish_update(ctx, member, shown)
    if member.roles != target.roles:
        await thread_sync.after_member_roles(ctx, member.guild_id, member.user_id, target.roles, member.roles)
    actor, gid = access.member.user_id, access.guild.id
    if changes:
        await audit.record(request, ctx, gid, actor, audit.MEMBER_UPDATE, member.user_id, changes)
    if member.roles != target.roles:
        names = {r.id: r.name for r in access.roles}
        added = [{"id": str(r), "name": names[r]} for r in member.roles if r not in target.roles]
        removed = [{"id": str(r), "name": names.get(r, "")} for r in target.roles if r not in member.roles]
        role_changes = [c for c in (audit.change("$add", None, added or None),
                                    audit.change("$remove", None, removed or None)) if len(c) > 1]  # fmt: skip
        await audit.record(request, ctx, gid, actor, audit.MEMBER_ROLE_UPDATE, member.user_id, role_changes)
    return json_response(shown)


async def _is_admin(ctx: EdgeContext, access: GuildAccess, target: Member) -> bool:
    roles = {r.id: r.permissions for r in access.roles}
    perms = base_permissions(access.guild.id, access.guild.owner_id, target.user_id, roles, target.roles)
    return bool(perms & ADMINISTRATOR)


async def publish_update(ctx: EdgeContext, member: Member, shown: dict[str, Any]) -> None:
    d = {**shown, "guild_id": str(member.guild_id)}
    await publish(ctx, Publish(member.guild_id, "GUILD_MEMBER_UPDATE", d, intent=GUILD_MEMBERS,
                               change=MemberUpdated(member.user_id, member.roles)))  # fmt: skip


@routes.patch("/guilds/{guild_id}/members/@me")
async def edit_own_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    body_fields = set((await read_json(request)).keys())
    if body_fields - {"nick"}:
        raise invalid_form(
            sorted(body_fields - {"nick"})[0], "BASE_TYPE_INVALID", "Only nick can be set here."
        )
    return await edit_member(request, ctx, access, access.member)


@routes.patch("/guilds/{guild_id}/members/{user_id}")
async def edit_other_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    target = await ctx.storage.get_member(access.guild.id, path_id(request, "user_id"))
    if target is None:
        raise unknown("member")
    return await edit_member(request, ctx, access, target)


@routes.get("/guilds/{guild_id}/members/search")
async def search_members(request: web.Request) -> web.Response:
    """Members whose username or nickname starts with ``query`` (case-insensitive), by user id."""
    _, ctx, access = await guild_request(request)
    raw = request.query.get("query")
    if raw is None:
        raise invalid_form("query", "BASE_TYPE_REQUIRED", "This field is required")
    prefix = raw.casefold()
    limit = query_int(request, "limit", 1, 1, MAX_MEMBERS_LIMIT)
    found: list[dict[str, Any]] = []
    async for member in ctx.storage.iter_members(access.guild.id):
        user = await ctx.storage.get_user(member.user_id)
        names = (user.username if user else "", user.global_name if user else None, member.nick)
        if user is not None and any(n is not None and n.casefold().startswith(prefix) for n in names):
            state = await ctx.storage.get_member_state(member.guild_id, member.user_id)
            found.append(member_with_state(member, user, state))
            if len(found) >= limit:
                break
    return json_response(found)


@routes.get("/users/@me/guilds/{guild_id}/member")
async def my_member(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    state = await ctx.storage.get_member_state(access.guild.id, caller.id)
    return json_response(member_with_state(access.member, caller, state))
