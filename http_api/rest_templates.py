"""Guild templates: a snapshot of a guild's settings, roles and channels under a code, as
Discord's: list, create, sync (re-snapshot), modify, delete, and get by code for anyone.

Every route but get-by-code needs MANAGE_GUILD. A guild has at most one template (30031). The
template is a settings document of its guild (``template:<code>``); its code is also recorded
under owner 0 (``template-code:<code>`` -> guild id), so get-by-code finds it in one read. In
the snapshot, roles and channels are numbered from 0 as Discord's (role 0 is @everyone; a
channel's ``parent_id`` and an overwrite's ``id`` name those numbers). Creating a guild from a
template is not offered (rayguild's guild creation takes a name only).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from rayguild.fanout.permissions import MANAGE_GUILD
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, json_response
from rayguild.http_api.extra_fields import all_channel_extras, guild_extras
from rayguild.http_api.forms import read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.moderation import now_ms
from rayguild.shapes import iso, role_colors
from rayguild.shapes import user as user_shape

routes = web.RouteTableDef()

UNKNOWN_TEMPLATE = 10057
TEMPLATE_EXISTS = 30031
PREFIX = "template:"
CODE_PREFIX = "template-code:"
TEMPLATE_CHANNEL_TYPES = (0, 2, 4)


async def snapshot(ctx: EdgeContext, access: GuildAccess) -> dict[str, Any]:
    """The guild as a template keeps it: settings, roles and channels numbered from 0."""
    gid = access.guild.id
    extras = await guild_extras(ctx, gid)
    roles = sorted(access.roles, key=lambda r: (r.id != gid, r.position, r.id))  # @everyone first
    role_index = {r.id: i for i, r in enumerate(roles)}
    channels = sorted(await ctx.storage.list_channels(gid), key=lambda c: (c.type != 4, c.position, c.id))
    channels = [c for c in channels if c.type in TEMPLATE_CHANNEL_TYPES]
    channel_index = {c.id: i for i, c in enumerate(channels)}
    channel_extras = await all_channel_extras(ctx, gid)
    shown_roles = [{"id": role_index[r.id], "name": r.name, "permissions": str(r.permissions), "color": r.color,
                    "colors": role_colors(r), "hoist": r.hoist, "mentionable": r.mentionable, "icon": None,
                    "unicode_emoji": None} for r in roles]  # fmt: skip
    shown_channels = []
    for c in channels:
        more = channel_extras.get(c.id, {})
        overwrites = [{"id": str(role_index[o.id]), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
                      for o in c.permission_overwrites if o.type == 0 and o.id in role_index]  # fmt: skip
        parent = channel_index.get(c.parent_id or 0)
        shown_channels.append({
            "id": channel_index[c.id], "type": c.type, "name": c.name, "position": c.position, "topic": c.topic,
            "bitrate": more.get("bitrate", 64000), "user_limit": more.get("user_limit", 0),
            "nsfw": more.get("nsfw", False), "rate_limit_per_user": more.get("rate_limit_per_user", 0),
            "parent_id": str(parent) if parent is not None else None, "default_auto_archive_duration": None,
            "permission_overwrites": overwrites, "available_tags": None, "template": "",
            "default_reaction_emoji": None, "default_thread_rate_limit_per_user": None, "default_sort_order": None,
            "default_forum_layout": None, "default_tag_setting": None, "theme_color": None,
        })  # fmt: skip
    return {"name": access.guild.name, "description": extras.get("description"), "region": None,
            "verification_level": extras.get("verification_level", 0),
            "default_message_notifications": extras.get("default_message_notifications", 0),
            "explicit_content_filter": extras.get("explicit_content_filter", 0),
            "preferred_locale": extras.get("preferred_locale", "en-US"),
            "afk_channel_id": None, "afk_timeout": extras.get("afk_timeout", 300), "system_channel_id": None,
            "system_channel_flags": extras.get("system_channel_flags", 0), "roles": shown_roles,
            "channels": shown_channels}  # fmt: skip


async def template_shape(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    creator = await ctx.storage.get_user(int(stored["creator_id"]))
    out = {k: v for k, v in stored.items() if k not in ("created_ms", "updated_ms")}
    for role in out["serialized_source_guild"]["roles"]:  # kept before roles carried their colors
        if role.get("colors") is None:
            role["colors"] = {"primary_color": role["color"], "secondary_color": None, "tertiary_color": None}
    out.update(created_at=iso(stored["created_ms"]), updated_at=iso(stored["updated_ms"]),
               creator=user_shape(creator) if creator is not None else None, usage_count=0)  # fmt: skip
    return out


async def _manager(request: web.Request) -> tuple[EdgeContext, GuildAccess]:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return ctx, access


async def _template_of(ctx: EdgeContext, guild_id: int, code: str) -> dict[str, Any]:
    stored = await ctx.storage.get_setting(guild_id, f"{PREFIX}{code}")
    if stored is None:
        raise ApiError(404, UNKNOWN_TEMPLATE, "Unknown Guild Template")
    return dict(json.loads(stored))


async def _store(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    await ctx.storage.put_setting(
        int(stored["source_guild_id"]), f"{PREFIX}{stored['code']}", json.dumps(stored)
    )
    return await template_shape(ctx, stored)


def _describe(body: dict[str, Any], stored: dict[str, Any]) -> None:
    if "name" in body or "name" not in stored:
        stored["name"] = text(body, "name", 1, 100)
    if "description" in body:
        stored["description"] = text(body, "description", 0, 120, required=False)


@routes.get("/guilds/{guild_id}/templates")
async def list_templates(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    found = await ctx.storage.list_settings(access.guild.id, PREFIX)
    return json_response([await template_shape(ctx, json.loads(doc)) for _, doc in found])


@routes.post("/guilds/{guild_id}/templates")
async def create_template(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    body = await read_json(request)
    stored: dict[str, Any] = {"description": None}
    _describe(body, stored)
    if await ctx.storage.list_settings(access.guild.id, PREFIX):
        raise ApiError(400, TEMPLATE_EXISTS, "A guild template already exists")
    code, at = secrets.token_urlsafe(9), now_ms()
    stored.update(code=code, creator_id=str(access.member.user_id), created_ms=at, updated_ms=at,
                  source_guild_id=str(access.guild.id), serialized_source_guild=await snapshot(ctx, access),
                  is_dirty=None)  # fmt: skip
    await ctx.storage.put_setting(0, f"{CODE_PREFIX}{code}", json.dumps(str(access.guild.id)))
    return json_response(await _store(ctx, stored))


@routes.put("/guilds/{guild_id}/templates/{code}")
async def sync_template(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    stored = await _template_of(ctx, access.guild.id, request.match_info["code"])
    stored.update(serialized_source_guild=await snapshot(ctx, access), updated_ms=now_ms())
    return json_response(await _store(ctx, stored))


@routes.patch("/guilds/{guild_id}/templates/{code}")
async def modify_template(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    stored = await _template_of(ctx, access.guild.id, request.match_info["code"])
    _describe(await read_json(request), stored)
    stored["updated_ms"] = now_ms()
    return json_response(await _store(ctx, stored))


@routes.delete("/guilds/{guild_id}/templates/{code}")
async def delete_template(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    code = request.match_info["code"]
    stored = await _template_of(ctx, access.guild.id, code)
    await ctx.storage.delete_setting(access.guild.id, f"{PREFIX}{code}")
    await ctx.storage.delete_setting(0, f"{CODE_PREFIX}{code}")
    return json_response(await template_shape(ctx, stored))


@routes.get("/guilds/templates/{code}")
async def get_template(request: web.Request) -> web.Response:
    await authenticate(request)
    ctx = ctx_of(request)
    code = request.match_info["code"]
    guild_id = await ctx.storage.get_setting(0, f"{CODE_PREFIX}{code}")
    if guild_id is None:
        raise ApiError(404, UNKNOWN_TEMPLATE, "Unknown Guild Template")
    return json_response(await template_shape(ctx, await _template_of(ctx, int(json.loads(guild_id)), code)))
