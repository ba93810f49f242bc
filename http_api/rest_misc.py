"""Honest minimal answers for what rayguild has no machinery for, so a bot that asks gets
Discord's shape instead of a 404 on the route: no voice (voice states, stage instances,
Soundboard default sounds), no announcement channels to follow, no standard sticker packs, no integrations,
no third-party connections, no OAuth2 grants (a member is added by invite), incident actions kept but not
enforced, no server guide (new-member-welcome is 204). Lists are empty; a named entity is Discord's "Unknown ..." 404.
Each handler is marked ``minimal_body`` so docs/api-coverage.md lists it as minimal; the plain
"empty list" and "Unknown ..." answers are a table of ``answer_empty`` / ``answer_unknown`` lines.
"""

from __future__ import annotations

import json

from aiohttp import web

from rayguild.fanout.permissions import MANAGE_GUILD
from rayguild.http_api.access import channel_request, guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import ApiError, invalid_form, json_response, unknown
from rayguild.http_api.forms import optional_id, path_id, read_json, timestamp_ms
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.minimal import answer_empty, answer_unknown, minimal_body
from rayguild.http_api.moderation import now_ms
from rayguild.shapes import iso

routes = web.RouteTableDef()

UNKNOWN_VOICE_STATE = 10065
UNKNOWN_STAGE_INSTANCE = 10067
UNKNOWN_STICKER = 10060
WRONG_CHANNEL_TYPE = 50024
MANAGE_WEBHOOKS = 1 << 29
UNKNOWN_STICKER_PACK = 10061
UNKNOWN_INTEGRATION = 10005
INVALID_OAUTH_TOKEN = 50025
CREATE_INSTANT_INVITE = 1 << 0
MAX_INCIDENT_MS = 24 * 3600 * 1000


async def _guild_manager(request: web.Request) -> None:
    _, _, access = await guild_request(request)
    access.require(MANAGE_GUILD)


async def _anyone(request: web.Request) -> None:
    """Public routes: no token needed."""


answer_empty(routes, ["/users/@me/connections"], [], "no third-party connections", authenticate)
answer_empty(routes, ["/oauth2/keys"], {"keys": []}, "no OpenID Connect tokens: no signing keys", _anyone)
answer_empty(routes, ["/guilds/{guild_id}/requests"], {"total": 0, "guild_join_requests": []},
             "no member verification: no join requests", _guild_manager)  # fmt: skip
answer_empty(routes, ["/soundboard-default-sounds"], [], "no voice: no soundboard", authenticate)
answer_empty(routes, ["/sticker-packs"], {"sticker_packs": []}, "no standard sticker packs", authenticate)
answer_empty(routes, ["/guilds/{guild_id}/integrations"], [], "no integrations: an empty list", guild_request)
answer_unknown(
    routes,
    [("GET", "/stickers/{sticker_id}")],
    (404, UNKNOWN_STICKER, "Unknown Sticker"),
    "standard stickers only, and there are none",
    authenticate,
)
answer_unknown(
    routes,
    [("GET", "/sticker-packs/{pack_id}")],
    (404, UNKNOWN_STICKER_PACK, "Unknown Sticker Pack"),
    "no standard sticker packs: every pack is unknown",
    authenticate,
)
answer_unknown(
    routes,
    [
        (m, p)
        for p in ("/guilds/{guild_id}/voice-states/@me", "/guilds/{guild_id}/voice-states/{user_id}")
        for m in ("GET", "PATCH")
    ],
    (404, UNKNOWN_VOICE_STATE, "Unknown Voice State"),
    "no voice: nobody has a voice state",
    guild_request,
)
answer_unknown(
    routes,
    [(m, "/stage-instances/{channel_id}") for m in ("GET", "PATCH", "DELETE")],
    (404, UNKNOWN_STAGE_INSTANCE, "Unknown Stage Instance"),
    "no stage channels: every stage instance is unknown",
    authenticate,
)
answer_unknown(routes, [("DELETE", "/guilds/{guild_id}/integrations/{integration_id}")],
               (404, UNKNOWN_INTEGRATION, "Unknown Integration"), "no integrations: every one is unknown",
               _guild_manager)  # fmt: skip


@routes.post("/stage-instances")
@minimal_body("no stage channels: a stage instance cannot be started", errors_only=True)
async def start_stage(request: web.Request) -> web.Response:
    await authenticate(request)
    channel_id = optional_id(await read_json(request), "channel_id")
    channel = await ctx_of(request).storage.get_channel(channel_id) if channel_id is not None else None
    if channel is None:
        raise unknown("channel")
    raise ApiError(400, WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")


@routes.post("/channels/{channel_id}/followers")
@minimal_body("no announcement channels: nothing can be followed", errors_only=True)
async def follow_channel(request: web.Request) -> web.Response:
    _, _, found = await channel_request(request)
    found.require(MANAGE_WEBHOOKS)
    raise ApiError(400, WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")


@routes.put("/guilds/{guild_id}/incident-actions")
@minimal_body("kept and shown back, not enforced: invites and DMs stay open")
async def incident_actions(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    body = await read_json(request)
    shown = {}
    for field in ("invites_disabled_until", "dms_disabled_until"):
        until = timestamp_ms(body, field)
        if until is not None and until - now_ms() > MAX_INCIDENT_MS:
            raise invalid_form(field, "NUMBER_TYPE_MAX", "Can be at most 24 hours from now.")
        shown[field] = iso(until) if until is not None and until > now_ms() else None
    await ctx.storage.put_setting(access.guild.id, "incidents_data", json.dumps(shown))
    return json_response(shown)


@routes.put("/guilds/{guild_id}/members/{user_id}")
@minimal_body("no OAuth2 grants: only an existing member can be added (204)")
async def add_member(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(CREATE_INSTANT_INVITE)
    if await ctx.storage.get_member(access.guild.id, path_id(request, "user_id")) is not None:
        return web.Response(status=204)
    if not isinstance((await read_json(request)).get("access_token"), str):
        raise invalid_form("access_token", "BASE_TYPE_REQUIRED", "This field is required")
    raise ApiError(401, INVALID_OAUTH_TOKEN, "Invalid OAuth2 access token")


@routes.get("/guilds/{guild_id}/new-member-welcome")
@minimal_body("no server guide: Discord's 204 for a guild without one")
async def new_member_welcome(request: web.Request) -> web.Response:
    await guild_request(request)
    return web.Response(status=204)
