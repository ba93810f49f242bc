"""Honest minimal answers for what rayguild has no machinery for, so a bot that asks gets
Discord's shape instead of a 404 on the route: no voice (voice states, stage instances,
soundboard), no announcement channels to follow, no standard sticker packs, no integrations, scheduled events, auto-moderation rules or templates,
no third-party connections. Lists are empty; a named entity is Discord's "Unknown ..." 404.
Each handler is marked ``minimal_body`` so docs/api-coverage.md lists it as minimal.
"""

from __future__ import annotations

from aiohttp import web

from rayguild.fanout.permissions import MANAGE_GUILD
from rayguild.http_api.access import channel_request, guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import ApiError, json_response, unknown
from rayguild.http_api.forms import optional_id, path_id, read_json
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.minimal import minimal_body

routes = web.RouteTableDef()

UNKNOWN_VOICE_STATE = 10065
UNKNOWN_STAGE_INSTANCE = 10067
UNKNOWN_STICKER = 10060
UNKNOWN_SOUND = 10097
WRONG_CHANNEL_TYPE = 50024
MANAGE_WEBHOOKS = 1 << 29


@routes.get("/users/@me/connections")
@minimal_body("no third-party connections")
async def connections(request: web.Request) -> web.Response:
    await authenticate(request)
    return json_response([])


@routes.get("/soundboard-default-sounds")
@minimal_body("no voice: no soundboard")
async def default_sounds(request: web.Request) -> web.Response:
    await authenticate(request)
    return json_response([])


@routes.get("/guilds/{guild_id}/soundboard-sounds")
@minimal_body("no voice: no soundboard")
async def guild_sounds(request: web.Request) -> web.Response:
    await guild_request(request)
    return json_response({"items": []})


@routes.get("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
@minimal_body("no voice: every sound is unknown", errors_only=True)
async def guild_sound(request: web.Request) -> web.Response:
    await guild_request(request)
    path_id(request, "sound_id")
    raise ApiError(404, UNKNOWN_SOUND, "Unknown Sound")


@routes.get("/sticker-packs")
@minimal_body("no standard sticker packs")
async def sticker_packs(request: web.Request) -> web.Response:
    await authenticate(request)
    return json_response({"sticker_packs": []})


@routes.get("/stickers/{sticker_id}")
@minimal_body("standard stickers only, and there are none", errors_only=True)
async def sticker(request: web.Request) -> web.Response:
    await authenticate(request)
    path_id(request, "sticker_id")
    raise ApiError(404, UNKNOWN_STICKER, "Unknown Sticker")


@routes.get("/guilds/{guild_id}/integrations")
@routes.get("/guilds/{guild_id}/scheduled-events")
@routes.get("/guilds/{guild_id}/auto-moderation/rules")
@minimal_body("none kept: an empty list")
async def empty_guild_list(request: web.Request) -> web.Response:
    await guild_request(request)
    return json_response([])


@routes.get("/guilds/{guild_id}/templates")
@minimal_body("no templates: an empty list")
async def templates(request: web.Request) -> web.Response:
    _, _, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return json_response([])


@routes.get("/guilds/{guild_id}/voice-states/{user_id}")
@routes.get("/guilds/{guild_id}/voice-states/@me")
@minimal_body("no voice: nobody has a voice state", errors_only=True)
async def voice_state(request: web.Request) -> web.Response:
    await guild_request(request)
    raise ApiError(404, UNKNOWN_VOICE_STATE, "Unknown Voice State")


@routes.get("/stage-instances/{channel_id}")
@routes.patch("/stage-instances/{channel_id}")
@routes.delete("/stage-instances/{channel_id}")
@minimal_body("no stage channels: every stage instance is unknown", errors_only=True)
async def stage_instance(request: web.Request) -> web.Response:
    await authenticate(request)
    path_id(request, "channel_id")
    raise ApiError(404, UNKNOWN_STAGE_INSTANCE, "Unknown Stage Instance")


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
