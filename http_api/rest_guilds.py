"""Guilds with their channels and roles: create, read, modify, delete.

A new guild gets an @everyone role whose id is the guild's id and a text channel "general"; the
creator owns it and is its first member. Every write is durable before the response and before
the guild process is told (GUILD_UPDATE, CHANNEL_CREATE, GUILD_ROLE_CREATE...).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from aiohttp import web

from rayguild.actors.commands import ChannelUpserted, GuildDeleted, GuildUpdated, Publish, RoleUpserted
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import DEFAULT_EVERYONE, MANAGE_CHANNELS, MANAGE_GUILD, MANAGE_ROLES
from rayguild.http_api import audit
from rayguild.http_api.access import guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import invalid_form, json_response, missing_permissions
from rayguild.http_api.extra_fields import all_channel_extras, guild_extras, patch_guild_extras
from rayguild.http_api.forms import integer, optional_id, permission_bits, read_json, role_color, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.notify import connect_user_sessions, publish
from rayguild.http_api.overwrites import parse_overwrites
from rayguild.http_api.rest_attachments import forget_channel_files
from rayguild.shapes import channel as channel_shape
from rayguild.shapes import guild as guild_shape
from rayguild.shapes import role as role_shape
from rayguild.storage.models import Channel, Guild, Member, Role

routes = web.RouteTableDef()

CHANNEL_TYPES = (0, 2, 4)  # GUILD_TEXT, GUILD_VOICE, GUILD_CATEGORY


@routes.post("/guilds")
async def create_guild(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await read_json(request)
    name = text(body, "name", 2, 100)
    assert name is not None
    guild = Guild(id=ctx.snowflakes.next(), name=name, owner_id=caller.id)
    everyone = Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=DEFAULT_EVERYONE)
    general = Channel(id=ctx.snowflakes.next(), guild_id=guild.id, name="general")
    await ctx.storage.put_guild(guild)
    await ctx.storage.put_role(everyone)
    await ctx.storage.put_channel(general)
    await ctx.storage.put_member(Member(guild.id, caller.id, time.time_ns() // 1_000_000))
    await connect_user_sessions(ctx, caller.id, guild.id)
    return json_response(guild_shape(guild, [everyone]), status=201)


@routes.get("/guilds/{guild_id}")
async def get_guild(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    count = None
    if request.query.get("with_counts") in ("true", "1", "True"):
        count = await ctx.guilds.member_count(access.guild.id)
    out = {**guild_shape(access.guild, access.roles, count), **await guild_extras(ctx, access.guild.id)}
    if count is not None:
        out["approximate_presence_count"] = 0
    return json_response(out)


@routes.patch("/guilds/{guild_id}")
async def modify_guild(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    body = await read_json(request)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = text(body, "name", 2, 100)
    if "description" in body:
        changes["description"] = text(body, "description", 0, 120, required=False)
    if "icon" in body:
        changes["icon"] = text(body, "icon", 0, 256, required=False)
    extras, extra_changes = await patch_guild_extras(ctx, access, body)  # the fields extra_fields.py keeps
    guild = replace(access.guild, **changes)
    await ctx.storage.put_guild(guild)
    shown = {**guild_shape(guild, access.roles), **extras}
    await audit.record(request, ctx, guild.id, access.member.user_id, audit.GUILD_UPDATE, guild.id,
                       [audit.change(k, getattr(access.guild, k), v) for k, v in changes.items()] + extra_changes)  # fmt: skip
    await publish(ctx, Publish(guild.id, "GUILD_UPDATE", shown, intent=GUILDS, change=GuildUpdated(guild)))
    return json_response(shown)


@routes.delete("/guilds/{guild_id}")
async def delete_guild(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    if not access.is_owner:
        raise missing_permissions()
    channels = [c.id for c in await ctx.storage.list_channels(access.guild.id)]
    await ctx.storage.delete_guild(access.guild.id)
    await forget_channel_files(ctx.storage.blobs, channels)
    gid = access.guild.id
    await publish(ctx, Publish(gid, "GUILD_DELETE", {"id": str(gid)}, intent=GUILDS, change=GuildDeleted()))
    for session in ctx.sessions.sessions.values():
        session.guild_ids.discard(gid)
    return web.Response(status=204)


@routes.get("/guilds/{guild_id}/channels")
async def list_channels(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    channels = await ctx.storage.list_channels(access.guild.id)
    extras = await all_channel_extras(ctx, access.guild.id)
    return json_response([{**channel_shape(c), **extras.get(c.id, {})} for c in channels])


@routes.post("/guilds/{guild_id}/channels")
async def create_channel(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_CHANNELS)
    body = await read_json(request)
    name = text(body, "name", 1, 100)
    assert name is not None
    kind = integer(body, "type", 0, 0, 4)
    if kind not in CHANNEL_TYPES:
        raise invalid_form("type", "BASE_TYPE_CHOICES", f"Value must be one of {CHANNEL_TYPES}.")
    existing = await ctx.storage.list_channels(access.guild.id)
    channel = Channel(
        id=ctx.snowflakes.next(), guild_id=access.guild.id, name=name, type=kind,
        position=integer(body, "position", len(existing), 0, 10_000),
        topic=text(body, "topic", 0, 1024, required=False),
        parent_id=optional_id(body, "parent_id"),
        permission_overwrites=parse_overwrites(body),
    )  # fmt: skip
    await ctx.storage.put_channel(channel)
    shown = channel_shape(channel)
    await audit.record(request, ctx, channel.guild_id, access.member.user_id, audit.CHANNEL_CREATE, channel.id,
                       [audit.change("name", None, name), audit.change("type", None, kind)])  # fmt: skip
    await publish(ctx, Publish(
        channel.guild_id, "CHANNEL_CREATE", shown, channel_id=channel.id, intent=GUILDS,
        change=ChannelUpserted(channel),
    ))  # fmt: skip
    return json_response(shown, status=201)


@routes.get("/guilds/{guild_id}/roles")
async def list_roles(request: web.Request) -> web.Response:
    _, _, access = await guild_request(request)
    return json_response([role_shape(r) for r in sorted(access.roles, key=lambda r: r.position)])


@routes.post("/guilds/{guild_id}/roles")
async def create_role(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_ROLES)
    body = await read_json(request)
    permissions = permission_bits(body, "permissions", DEFAULT_EVERYONE)
    if permissions & ~access.permissions:
        raise missing_permissions()  # Discord: a role cannot grant what its creator lacks
    role = Role(
        id=ctx.snowflakes.next(), guild_id=access.guild.id,
        name=text(body, "name", 1, 100, required=False) or "new role",
        permissions=permissions, position=1 + max((r.position for r in access.roles), default=0),
        color=role_color(body, 0),
        hoist=bool(body.get("hoist", False)), mentionable=bool(body.get("mentionable", False)),
    )  # fmt: skip
    await ctx.storage.put_role(role)
    shown = role_shape(role)
    await audit.record(request, ctx, role.guild_id, access.member.user_id, audit.ROLE_CREATE, role.id,
                       [audit.change("name", None, role.name), audit.change("permissions", None, str(permissions))])  # fmt: skip
    await publish(ctx, Publish(
        role.guild_id, "GUILD_ROLE_CREATE", {"guild_id": str(role.guild_id), "role": shown},
        intent=GUILDS, change=RoleUpserted(role),
    ))  # fmt: skip
    return json_response(shown)
