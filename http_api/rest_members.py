"""Guild members: list (``after``, ``limit`` 1-1000), get, leave, kick, add/remove a role.

Leaving or being kicked removes the member durably, then the guild dispatches
GUILD_MEMBER_REMOVE and the user's sessions on this edge get GUILD_DELETE. A role is given or
taken with MANAGE_ROLES, only for a role below the caller's highest (the owner: any), as Discord
enforces its hierarchy; the member is stored, then GUILD_MEMBER_UPDATE goes out with the change
applied to the guild process first, so the member's new permissions decide that event's and every
later event's fan-out. Giving a role the member has (or taking one they lack) changes nothing.
A kick and a role change each leave an audit entry. ``PATCH`` of a member (nick, roles, timeouts,
mute, deaf) is ``rest_member_edit``'s.
"""

from __future__ import annotations

from aiohttp import web

from rayguild.actors.commands import MemberLeft, MemberUpdated, Publish
from rayguild.fanout.events import GUILD_MEMBERS
from rayguild.fanout.permissions import KICK_MEMBERS, MANAGE_ROLES
from rayguild.http_api import audit, thread_sync
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import INVALID_GUILD, ApiError, json_response, missing_permissions, unknown
from rayguild.http_api.forms import path_id, query_id, query_int
from rayguild.http_api.moderation import member_with_state
from rayguild.http_api.notify import disconnect_user_sessions, publish
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Member
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.semantics import MemberChange

routes = web.RouteTableDef()


async def shown_member(ctx: EdgeContext, member: Member) -> dict[str, object]:
    account = await ctx.storage.get_user(member.user_id)
    if account is None:
        raise unknown("user")
    state = await ctx.storage.get_member_state(member.guild_id, member.user_id)  # timeout, mute, deaf
    return member_with_state(member, account, state)


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
    await remove_member(ctx, access.guild.id, access.member)
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
    await remove_member(ctx, access.guild.id, target)
    await audit.record(
        request, ctx, access.guild.id, access.member.user_id, audit.MEMBER_KICK, target.user_id
    )
    return web.Response(status=204)


async def remove_member(ctx: EdgeContext, guild_id: int, member: Member) -> None:
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
    # Atomic in storage: a concurrent change to this member's roles is never lost. The update
    # event goes last (a bot that waits for GUILD_MEMBER_UPDATE when the request returns sees it).
    before, after = await _changed(ctx, access, target.user_id, change)
    if before != after:
        audited = audit.change("$add" if give else "$remove", None, [{"id": str(role.id), "name": role.name}])
        actor = access.member.user_id
        await audit.record(
            request, ctx, access.guild.id, actor, audit.MEMBER_ROLE_UPDATE, target.user_id, [audited]
        )
        await _published(ctx, access, after)
        await thread_sync.after_member_roles(ctx, access.guild.id, target.user_id, before.roles, after.roles)
    return web.Response(status=204)


async def _changed(
    ctx: EdgeContext, access: GuildAccess, user_id: int, change: MemberChange
) -> tuple[Member, Member]:
    changed = await ctx.storage.change_member(access.guild.id, user_id, change)
    if changed is None:
        raise unknown("member")
    return changed


async def _published(ctx: EdgeContext, access: GuildAccess, member: Member) -> dict[str, object]:
    shown = await shown_member(ctx, member)
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
