"""A guild's settings beyond its record: preview, widget (settings and widget.json), vanity URL,
welcome screen, onboarding, invite lists and channel positions.

Widget, welcome screen and onboarding are stored as settings documents (``SettingsStore``) and
read back as written; writes need MANAGE_GUILD (onboarding also MANAGE_ROLES) and leave a
GUILD_UPDATE audit entry. What rayguild has no machinery for answers an honest minimal body,
marked so the coverage report lists it: no vanity URLs (``code`` null), no presences in
widget.json, no voice regions, onboarding without prompts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from rayguild.actors.commands import ChannelUpserted, Publish
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import MANAGE_CHANNELS, MANAGE_GUILD, MANAGE_ROLES
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess, channel_request, guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, unknown
from rayguild.http_api.forms import flag, integer, optional_id, path_id, read_json, snowflake, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.minimal import minimal_body
from rayguild.http_api.notify import publish
from rayguild.http_api.rest_roles import read_json_array
from rayguild.shapes import channel as channel_shape
from rayguild.shapes import invite as invite_shape

routes = web.RouteTableDef()

WIDGET_DISABLED = 50004
MAX_WELCOME_CHANNELS = 5


async def _setting(ctx: EdgeContext, owner_id: int, name: str, default: dict[str, Any]) -> dict[str, Any]:
    stored = await ctx.storage.get_setting(owner_id, name)
    return {**default, **json.loads(stored)} if stored else dict(default)


Apply = Callable[[EdgeContext, GuildAccess, dict[str, Any], dict[str, Any]], Awaitable[None]]


async def patch_setting(request: web.Request, name: str, default: dict[str, Any], permissions: int,
                        apply: Apply) -> tuple[GuildAccess, dict[str, Any]]:  # fmt: skip
    """A write of the guild's ``name`` document: the caller needs ``permissions``; ``enabled`` and
    then what ``apply`` reads from the body (into the new document) are validated before the write;
    a GUILD_UPDATE audit entry names each field changed. (The caller's access, the new document.)"""
    _, ctx, access = await guild_request(request)
    access.require(permissions)
    body = await read_json(request)
    old = await _setting(ctx, access.guild.id, name, default)
    new = dict(old)
    if "enabled" in body:
        new["enabled"] = flag(body, "enabled", False)
    await apply(ctx, access, body, new)
    await ctx.storage.put_setting(access.guild.id, name, json.dumps(new))
    changes = [audit.change(f"{name}.{k}", old.get(k), v) for k, v in new.items() if old.get(k) != v]
    await audit.record(
        request, ctx, access.guild.id, access.member.user_id, audit.GUILD_UPDATE, access.guild.id, changes
    )
    return access, new


async def _guild_channel(
    ctx: EdgeContext, access: GuildAccess, field: str, body: dict[str, Any]
) -> str | None:
    channel_id = optional_id(body, field)
    if channel_id is None:
        return None
    channel = await ctx.storage.get_channel(channel_id)
    if channel is None or channel.guild_id != access.guild.id:
        raise invalid_form(field, "CHANNEL_INVALID", "Unknown channel in this guild.")
    return str(channel_id)


@routes.get("/guilds/{guild_id}/preview")
async def preview(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    g = access.guild
    return json_response({
        "id": str(g.id), "name": g.name, "icon": g.icon, "description": g.description, "home_header": None,
        "splash": None, "discovery_splash": None, "features": [], "emojis": [], "stickers": [],
        "approximate_member_count": await ctx.guilds.member_count(g.id), "approximate_presence_count": 0,
    })  # fmt: skip


WIDGET: dict[str, Any] = {"enabled": False, "channel_id": None}


@routes.get("/guilds/{guild_id}/widget")
async def widget_settings(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return json_response(await _setting(ctx, access.guild.id, "widget", WIDGET))


async def _widget_fields(
    ctx: EdgeContext, access: GuildAccess, body: dict[str, Any], new: dict[str, Any]
) -> None:
    if "channel_id" in body:
        new["channel_id"] = await _guild_channel(ctx, access, "channel_id", body)


@routes.patch("/guilds/{guild_id}/widget")
async def modify_widget(request: web.Request) -> web.Response:
    _, new = await patch_setting(request, "widget", WIDGET, MANAGE_GUILD, _widget_fields)
    return json_response(new)


@routes.get("/guilds/{guild_id}/widget.json")
@minimal_body("no presences: members is empty and presence_count 0")
async def widget(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    guild = await ctx.storage.get_guild(path_id(request, "guild_id"))
    if guild is None:
        raise unknown("guild")
    settings = await _setting(ctx, guild.id, "widget", WIDGET)
    if not settings["enabled"]:
        raise ApiError(403, WIDGET_DISABLED, "Widget Disabled")
    return json_response({"id": str(guild.id), "name": guild.name, "instant_invite": None, "channels": [],
                          "members": [], "presence_count": 0})  # fmt: skip


@routes.get("/guilds/{guild_id}/vanity-url")
@minimal_body("no vanity URLs: code is null")
async def vanity_url(request: web.Request) -> web.Response:
    _, _, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return json_response({"code": None, "uses": 0})


WELCOME: dict[str, Any] = {"description": None, "welcome_channels": [], "enabled": False}


def _welcome_shape(stored: dict[str, Any]) -> dict[str, Any]:
    return {"description": stored["description"], "welcome_channels": stored["welcome_channels"]}


@routes.get("/guilds/{guild_id}/welcome-screen")
async def welcome_screen(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    return json_response(_welcome_shape(await _setting(ctx, access.guild.id, "welcome_screen", WELCOME)))


async def _welcome_fields(
    ctx: EdgeContext, access: GuildAccess, body: dict[str, Any], new: dict[str, Any]
) -> None:
    if "description" in body:
        new["description"] = text(body, "description", 0, 140, required=False)
    if "welcome_channels" in body:
        raw = body["welcome_channels"] or []
        if not isinstance(raw, list) or len(raw) > MAX_WELCOME_CHANNELS:
            raise invalid_form("welcome_channels", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        channels = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise invalid_form(
                    f"welcome_channels.{i}", "DICT_TYPE_CONVERT", "Only dictionaries may be used"
                )
            channel_id = await _guild_channel(ctx, access, "channel_id", item)
            if channel_id is None:
                raise invalid_form(
                    f"welcome_channels.{i}.channel_id", "BASE_TYPE_REQUIRED", "This field is required"
                )
            channels.append({
                "channel_id": channel_id, "description": text(item, "description", 1, 42) or "",
                "emoji_id": None, "emoji_name": text(item, "emoji_name", 1, 32, required=False),
            })  # fmt: skip
        new["welcome_channels"] = channels


@routes.patch("/guilds/{guild_id}/welcome-screen")
async def modify_welcome_screen(request: web.Request) -> web.Response:
    _, new = await patch_setting(request, "welcome_screen", WELCOME, MANAGE_GUILD, _welcome_fields)
    return json_response(_welcome_shape(new))


ONBOARDING: dict[str, Any] = {"prompts": [], "default_channel_ids": [], "enabled": False, "mode": 0}


@routes.get("/guilds/{guild_id}/onboarding")
@minimal_body("onboarding without prompts")
async def onboarding(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await _setting(ctx, access.guild.id, "onboarding", ONBOARDING)
    return json_response({"guild_id": str(access.guild.id), **stored})


async def _onboarding_fields(
    ctx: EdgeContext, access: GuildAccess, body: dict[str, Any], new: dict[str, Any]
) -> None:
    if body.get("prompts"):
        raise invalid_form(
            "prompts", "BASE_TYPE_MAX_LENGTH", "rayguild keeps no onboarding prompts: send []."
        )
    if "mode" in body:
        new["mode"] = integer(body, "mode", 0, 0, 1)
    if "default_channel_ids" in body:
        raw = body["default_channel_ids"] or []
        if not isinstance(raw, list):
            raise invalid_form("default_channel_ids", "BASE_TYPE_ARRAY", "Must be an array.")
        for i, value in enumerate(raw):  # ids only: anything else is unhashable or not a snowflake
            snowflake(value if isinstance(value, str | int) else None, f"default_channel_ids.{i}")
        new["default_channel_ids"] = [
            await _guild_channel(ctx, access, str(i), {str(i): v}) for i, v in enumerate(dict.fromkeys(raw))
        ]


@routes.put("/guilds/{guild_id}/onboarding")
@minimal_body("onboarding without prompts")
async def put_onboarding(request: web.Request) -> web.Response:
    access, new = await patch_setting(request, "onboarding", ONBOARDING, MANAGE_GUILD | MANAGE_ROLES,
                                      _onboarding_fields)  # fmt: skip
    return json_response({"guild_id": str(access.guild.id), **new})


async def _invites(ctx: EdgeContext, guild_id: int, channel_id: int | None = None) -> list[dict[str, Any]]:
    guild = await ctx.storage.get_guild(guild_id)
    channels = {c.id: c for c in await ctx.storage.list_channels(guild_id)}
    invites = [i for i in await ctx.storage.list_invites(guild_id) if channel_id in (None, i.channel_id)]
    users = await ctx.storage.get_users([i.inviter_id for i in invites])
    return [invite_shape(i, guild, channels[i.channel_id], users.get(i.inviter_id))
            for i in invites if guild is not None and i.channel_id in channels]  # fmt: skip


@routes.get("/guilds/{guild_id}/invites")
async def guild_invites(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return json_response(await _invites(ctx, access.guild.id))


@routes.get("/channels/{channel_id}/invites")
async def channel_invites(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(MANAGE_CHANNELS)
    return json_response(await _invites(ctx, found.channel.guild_id, found.channel.id))


@routes.patch("/guilds/{guild_id}/channels")
async def channel_positions(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_CHANNELS)
    raw = await read_json_array(request)
    channels = {c.id: c for c in await ctx.storage.list_channels(access.guild.id)}
    moved = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid_form(str(i), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        channel = channels.get(optional_id(item, "id") or 0)
        if channel is None:
            raise unknown("channel")
        changes: dict[str, Any] = {"position": integer(item, "position", channel.position, 0, 10_000)}
        if "parent_id" in item:
            parent = optional_id(item, "parent_id")
            if parent is not None and (parent not in channels or channels[parent].type != 4):
                raise invalid_form(
                    f"{i}.parent_id", "CHANNEL_PARENT_INVALID", "Not a category of this guild."
                )
            changes["parent_id"] = parent
        moved.append((channel, replace(channel, **changes)))
    for old, new in moved:
        if new == old:
            continue
        await ctx.storage.put_channel(new)
        shown = channel_shape(new)
        await publish(
            ctx, Publish(new.guild_id, "CHANNEL_UPDATE", shown, intent=GUILDS, change=ChannelUpserted(new))
        )
        await audit.record(request, ctx, new.guild_id, access.member.user_id, audit.CHANNEL_UPDATE, new.id,
                           [audit.change("position", old.position, new.position)])  # fmt: skip
    return web.Response(status=204)


@routes.get("/guilds/{guild_id}/regions")
@minimal_body("no voice: no regions")
async def guild_regions(request: web.Request) -> web.Response:
    await guild_request(request)
    return json_response([])


@routes.get("/voice/regions")
@minimal_body("no voice: no regions")
async def voice_regions(request: web.Request) -> web.Response:
    await authenticate(request)
    return json_response([])
