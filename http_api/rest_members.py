"""Guild members: list (``after``, ``limit`` 1-1000), get, edit, leave, kick, add/remove a role.

Leaving or being kicked removes the member durably, then the guild dispatches
GUILD_MEMBER_REMOVE and the user's sessions on this edge get GUILD_DELETE. A role is given or
taken with MANAGE_ROLES, only for a role below the caller's highest (the owner: any), as Discord
enforces its hierarchy; the member is stored, then GUILD_MEMBER_UPDATE goes out with the change
applied to the guild process first, so the member's new permissions decide that event's and every
later event's fan-out. Giving a role the member has (or taking one they lack) changes nothing.
``PATCH`` edits ``nick`` (MANAGE_NICKNAMES; one's own with CHANGE_NICKNAME through ``@me``) and
``roles`` (MANAGE_ROLES, each added or removed role below the caller's highest); other fields
are ignored.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from rayguild.actors.commands import MemberLeft, MemberUpdated, Publish
from rayguild.fanout.events import GUILD_MEMBERS
from rayguild.fanout.permissions import CHANGE_NICKNAME, KICK_MEMBERS, MANAGE_ROLES
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import (
    INVALID_GUILD,
    ApiError,
    invalid_form,
    json_response,
    missing_permissions,
    unknown,
)
from rayguild.http_api.forms import path_id, query_id, query_int, read_json, snowflake, text
from rayguild.http_api.notify import disconnect_user_sessions, publish
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Member
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.semantics import MemberChange

routes = web.RouteTableDef()

MANAGE_NICKNAMES = 1 << 27
MAX_NICK = 32


async def shown_member(ctx: EdgeContext, member: Member) -> dict[str, object]:
    account = await ctx.storage.get_user(member.user_id)
    if account is None:
        raise unknown("user")
    return member_shape(member, account)


@routes.get("/guilds/{guild_id}/members")
async def list_members(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    limit = query_int(request, "limit", 1, 1, MAX_MEMBERS_LIMIT)
    after = query_id(request, "after") or 0
    members = await ctx.storage.list_members(access.guild.id, after, limit)
    users = await ctx.storage.get_users([m.user_id for m in members])
    return json_response([member_shape(m, users[m.user_id]) for m in members if m.user_id in users])


@routes.get("/guilds/{guild_id}/members/{user_id}")
async def get_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    member = await ctx.storage.get_member(access.guild.id, path_id(request, "user_id"))
    if member is None:
        raise unknown("member")
    return json_response(await shown_member(ctx, member))


@routes.delete("/users/@me/guilds/{guild_id}")
async def leave_guild(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    if access.is_owner:
        raise ApiError(400, INVALID_GUILD, "Invalid Guild: the owner cannot leave; delete the guild")
    await _remove(ctx, access.guild.id, access.member)
    return web.Response(status=204)


@routes.delete("/guilds/{guild_id}/members/{user_id}")
async def kick_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(KICK_MEMBERS)
    target = await ctx.storage.get_member(access.guild.id, path_id(request, "user_id"))
    if target is None:
        raise unknown("member")
    if target.user_id == access.guild.owner_id:
        raise missing_permissions()
    mine = {r.id: r.position for r in access.roles}
    theirs = max((mine.get(r, 0) for r in target.roles), default=0)
    if theirs >= access.top_position() and not access.is_owner:
        raise missing_permissions()  # Discord: only members below your highest role
    await _remove(ctx, access.guild.id, target)
    return web.Response(status=204)


async def _remove(ctx: EdgeContext, guild_id: int, member: Member) -> None:
    if not await ctx.storage.remove_member(guild_id, member.user_id):
        raise unknown("member")
    account = await ctx.storage.get_user(member.user_id)
    d = {"guild_id": str(guild_id), "user": user_shape(account) if account else {"id": str(member.user_id)}}
    await disconnect_user_sessions(ctx, member.user_id, guild_id)
    await publish(ctx, Publish(guild_id, "GUILD_MEMBER_REMOVE", d, intent=GUILD_MEMBERS,
                               change=MemberLeft(member.user_id)))  # fmt: skip


async def _change_role(request: web.Request, give: bool) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_ROLES)
    role_id = path_id(request, "role_id")
    role = next((r for r in access.roles if r.id == role_id and r.id != access.guild.id), None)
    if role is None:
        raise unknown("role")
    target = await ctx.storage.get_member(access.guild.id, path_id(request, "user_id"))
    if target is None:
        raise unknown("member")
    if role.position >= access.top_position():
        raise missing_permissions()  # Discord: only roles below your highest role
    change = MemberChange(add_roles=(role_id,)) if give else MemberChange(remove_roles=(role_id,))
    await _update_member(ctx, access, target.user_id, change)
    return web.Response(status=204)


async def _update_member(
    ctx: EdgeContext, access: GuildAccess, user_id: int, change: MemberChange
) -> dict[str, object]:
    """Apply ``change`` atomically in storage (a concurrent change is never lost) and, if it
    changed anything, tell the guild."""
    changed = await ctx.storage.change_member(access.guild.id, user_id, change)
    if changed is None:
        raise unknown("member")
    before, member = changed
    if before == member:
        return await shown_member(ctx, member)
    account = await ctx.storage.get_user(member.user_id)
    shown = member_shape(member, account)
    d = {**shown, "guild_id": str(access.guild.id)}
    await publish(ctx, Publish(access.guild.id, "GUILD_MEMBER_UPDATE", d, intent=GUILD_MEMBERS,
                               change=MemberUpdated(member.user_id, member.roles)))  # fmt: skip
    return shown


@routes.put("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(request: web.Request) -> web.Response:
    return await _change_role(request, True)


@routes.delete("/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(request: web.Request) -> web.Response:
    return await _change_role(request, False)


def _nick(body: dict[str, object]) -> str | None:
    return text(body, "nick", 0, MAX_NICK, required=False) or None


@routes.patch("/guilds/{guild_id}/members/@me")
async def edit_own_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    body = await read_json(request)
    if "nick" not in body:
        return json_response(await shown_member(ctx, access.member))
    access.require(CHANGE_NICKNAME)
    change = MemberChange(set_nick=True, nick=_nick(body))
    return json_response(await _update_member(ctx, access, access.member.user_id, change))


@routes.patch("/guilds/{guild_id}/members/{user_id}")
async def edit_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    target = await ctx.storage.get_member(access.guild.id, path_id(request, "user_id"))
    if target is None:
        raise unknown("member")
    body = await read_json(request)
    change = MemberChange()
    if "nick" in body:
        if target.user_id != access.member.user_id:
            access.require(MANAGE_NICKNAMES)
            _require_above(access, target)
        elif not access.permissions & MANAGE_NICKNAMES:
            access.require(CHANGE_NICKNAME)
        change = replace(change, set_nick=True, nick=_nick(body))
    if body.get("roles") is not None:  # as a difference, so a concurrent change to other roles stays
        wanted = _roles(access, target, body["roles"])
        added = tuple(r for r in wanted if r not in target.roles)
        change = replace(change, add_roles=added, remove_roles=tuple(set(target.roles) - set(wanted)))
    if change == MemberChange():
        return json_response(await shown_member(ctx, target))
    return json_response(await _update_member(ctx, access, target.user_id, change))


def _require_above(access: GuildAccess, target: Member) -> None:
    """Only the owner acts on the owner; others only on members whose highest role is lower."""
    if access.is_owner:
        return
    positions = {r.id: r.position for r in access.roles}
    theirs = max((positions.get(r, 0) for r in target.roles), default=0)
    if target.user_id == access.guild.owner_id or theirs >= access.top_position():
        raise missing_permissions()


def _roles(access: GuildAccess, target: Member, value: object) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise invalid_form("roles", "BASE_TYPE_LIST", "Must be a list.")
    wanted = tuple(dict.fromkeys(snowflake(v, f"roles.{i}") for i, v in enumerate(value)))
    known = {r.id: r for r in access.roles if r.id != access.guild.id}
    for i, role_id in enumerate(wanted):
        if role_id not in known:
            raise invalid_form(f"roles.{i}", "UNKNOWN_ROLE", "Unknown role")
    changed = set(wanted) ^ set(target.roles)
    if changed:
        access.require(MANAGE_ROLES)
        if any(known[r].position >= access.top_position() for r in changed if r in known):
            raise missing_permissions()  # Discord: only roles below your highest role
    return wanted
