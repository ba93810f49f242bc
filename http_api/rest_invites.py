"""Invites: create on a channel, look up, accept (join the guild), delete
(INVITE_CREATE / INVITE_DELETE to who sees the channel, with the GUILD_INVITES intent).

Accepting counts one use atomically in storage (a used-up or expired invite is 404 10006); a
caller who is already a member gets the invite back without using it. Joining is durable before
GUILD_MEMBER_ADD is dispatched and the joiner's sessions on this edge get GUILD_CREATE.
"""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from rayguild.actors.commands import MemberJoined, Publish
from rayguild.fanout.events import GUILD_MEMBERS
from rayguild.fanout.permissions import CREATE_INSTANT_INVITE, MANAGE_CHANNELS, MANAGE_GUILD
from rayguild.http_api import audit
from rayguild.http_api.access import channel_request, guild_access
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, json_response, missing_permissions, unknown
from rayguild.http_api.forms import integer, read_json
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.notify import connect_user_sessions, publish
from rayguild.shapes import invite as invite_shape
from rayguild.shapes import member as member_shape
from rayguild.storage.models import Invite, Member

routes = web.RouteTableDef()

MAX_AGE_S = 604_800  # 7 days, Discord's bound
MAX_USES = 100
GUILD_INVITES = 1 << 6  # the gateway intent of INVITE_CREATE / INVITE_DELETE


async def _shown(ctx: EdgeContext, invite: Invite) -> dict[str, object]:
    guild = await ctx.storage.get_guild(invite.guild_id)
    channel = await ctx.storage.get_channel(invite.channel_id)
    if guild is None or channel is None:
        raise unknown("invite")
    return invite_shape(invite, guild, channel, await ctx.storage.get_user(invite.inviter_id))


def _invite_changes(invite: Invite, created: bool) -> list[audit.Change]:
    values = {
        "code": invite.code, "channel_id": str(invite.channel_id), "inviter_id": str(invite.inviter_id),
        "uses": invite.uses, "max_uses": invite.max_uses, "max_age": invite.max_age_s, "temporary": False,
    }  # fmt: skip
    return [audit.change(k, None if created else v, v if created else None) for k, v in values.items()]


@routes.post("/channels/{channel_id}/invites")
async def create_invite(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(CREATE_INSTANT_INVITE)
    body = await read_json(request)
    invite = Invite(
        code=secrets.token_urlsafe(6), guild_id=found.channel.guild_id,
        channel_id=found.channel.id, inviter_id=caller.id,
        created_at_ms=time.time_ns() // 1_000_000,
        max_age_s=integer(body, "max_age", 86_400, 0, MAX_AGE_S),
        max_uses=integer(body, "max_uses", 0, 0, MAX_USES),
    )  # fmt: skip
    await ctx.storage.put_invite(invite)
    changes = _invite_changes(invite, created=True)
    await audit.record(request, ctx, invite.guild_id, caller.id, audit.INVITE_CREATE, changes=changes)
    shown = await _shown(ctx, invite)
    d = {
        k: shown[k] for k in ("code", "uses", "max_uses", "max_age", "temporary", "created_at", "expires_at")
    }
    d.update(guild_id=str(invite.guild_id), channel_id=str(invite.channel_id), inviter=shown["inviter"])
    await publish(
        ctx, Publish(invite.guild_id, "INVITE_CREATE", d, channel_id=invite.channel_id, intent=GUILD_INVITES)
    )
    return json_response(shown)


@routes.get("/invites/{code}")
async def get_invite(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    invite = await ctx.storage.get_invite(request.match_info["code"])
    if invite is None:
        raise unknown("invite")
    return json_response(await _shown(ctx, invite))


@routes.post("/invites/{code}")
async def accept_invite(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    code = request.match_info["code"]
    invite = await ctx.storage.get_invite(code)
    if invite is None:
        raise unknown("invite")
    if await ctx.storage.get_member(invite.guild_id, caller.id) is not None:
        return json_response(await _shown(ctx, invite))
    if await ctx.storage.get_ban(invite.guild_id, caller.id) is not None:
        raise ApiError(403, 40007, "The user is banned from this guild.")
    used = await ctx.storage.use_invite(code)
    if used is None:
        raise unknown("invite")
    member = Member(used.guild_id, caller.id, time.time_ns() // 1_000_000)
    await ctx.storage.put_member(member)
    d = {**member_shape(member, caller), "guild_id": str(used.guild_id)}
    await publish(ctx, Publish(used.guild_id, "GUILD_MEMBER_ADD", d, intent=GUILD_MEMBERS,
                               change=MemberJoined(caller.id)))  # fmt: skip
    await connect_user_sessions(ctx, caller.id, used.guild_id)
    return json_response(await _shown(ctx, used))


@routes.delete("/invites/{code}")
async def delete_invite(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    invite = await ctx.storage.get_invite(request.match_info["code"])
    if invite is None:
        raise unknown("invite")
    access = await guild_access(ctx, invite.guild_id, caller)
    if invite.inviter_id != caller.id and not access.permissions & (MANAGE_GUILD | MANAGE_CHANNELS):
        raise missing_permissions()
    shown = await _shown(ctx, invite)
    if not await ctx.storage.delete_invite(invite.code):
        raise unknown("invite")
    changes = _invite_changes(invite, created=False)
    await audit.record(request, ctx, invite.guild_id, caller.id, audit.INVITE_DELETE, changes=changes)
    d = {"code": invite.code, "guild_id": str(invite.guild_id), "channel_id": str(invite.channel_id)}
    await publish(
        ctx, Publish(invite.guild_id, "INVITE_DELETE", d, channel_id=invite.channel_id, intent=GUILD_INVITES)
    )
    return json_response(shown)
