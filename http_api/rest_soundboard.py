"""Guild soundboard sounds: list, get, create (the sound as a data URI, MP3 or Ogg, as Discord
takes it), modify, delete, kept like the other expressions (``expressions.py``): each sound its
own settings document (``sound:<id>``), its audio apart (``sound-file:<id>``, served at the edge's
``/soundboard-sounds/{id}``). Creating needs CREATE_EXPRESSIONS; changing or deleting another
member's sound MANAGE_GUILD_EXPRESSIONS. Every write is durable before GUILD_SOUNDBOARD_SOUND_CREATE
/ UPDATE / DELETE and its audit entry (130-132). rayguild has no voice, so a sound is kept and
listed but never played (``send-soundboard-sound`` is not served). At most 8 sounds per guild
(Discord's count without boosts); the edge's 256 KiB body bound limits the audio first.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aiohttp import web

from rayguild.http_api import audit, expression_media
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import invalid_form, json_response
from rayguild.http_api.expressions import (
    CREATE_EXPRESSIONS,
    Kind,
    announce,
    may_change,
    stored_all,
    stored_one,
)
from rayguild.http_api.forms import optional_id, read_json, text
from rayguild.shapes import user as user_shape

routes = web.RouteTableDef()

SOUND_CREATE, SOUND_UPDATE, SOUND_DELETE = 130, 131, 132
UNKNOWN_SOUND = 10097
MAX_SOUNDS = 8
_DATA_URI = re.compile(r"^data:audio/(mpeg|mp3|ogg);base64,(.+)$", re.S)
PREFIX, FILE_PREFIX = "sound:", "sound-file:"


async def _shape(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    out = {k: stored[k] for k in ("name", "volume", "emoji_id", "emoji_name", "guild_id")}
    out.update(sound_id=stored["id"], available=True)
    creator = await ctx.storage.get_user(int(stored["user_id"]))
    if creator is not None:
        out["user"] = user_shape(creator)
    return out


SOUNDS = Kind(PREFIX, "sound_id", UNKNOWN_SOUND, "Unknown Sound", _shape, "GUILD_SOUNDBOARD_SOUND_UPDATE", "")


def _sound(body: dict[str, Any]) -> str:
    raw = text(body, "sound", 1, 1 << 20) or ""
    match = _DATA_URI.match(raw)
    if match is None:
        raise invalid_form("sound", "SOUND_INVALID", "Send an MP3 or Ogg sound as a base64 data URI.")
    try:
        base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_form("sound", "SOUND_INVALID", "Invalid sound data: not base64.") from None
    return raw


def _fields(body: dict[str, Any], stored: dict[str, Any]) -> None:
    if "name" in body or "name" not in stored:
        stored["name"] = text(body, "name", 2, 32)
    if "volume" in body or "volume" not in stored:
        volume = body.get("volume", 1.0)
        volume = 1.0 if volume is None else volume
        if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 <= volume <= 1:
            raise invalid_form("volume", "NUMBER_TYPE_MAX", "Must be between 0 and 1.")
        stored["volume"] = float(volume)
    if "emoji_id" in body or "emoji_id" not in stored:
        emoji_id = optional_id(body, "emoji_id")
        stored["emoji_id"] = str(emoji_id) if emoji_id is not None else None
    if "emoji_name" in body or "emoji_name" not in stored:
        stored["emoji_name"] = text(body, "emoji_name", 1, 32, required=False)


async def _store(ctx: EdgeContext, access: GuildAccess, stored: dict[str, Any]) -> None:
    await ctx.storage.put_setting(access.guild.id, f"{PREFIX}{stored['id']}", json.dumps(stored))


@routes.get("/guilds/{guild_id}/soundboard-sounds")
async def list_sounds(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    return json_response(
        {"items": [await _shape(ctx, s) for s in await stored_all(ctx, SOUNDS, access.guild.id)]}
    )


@routes.get("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def get_sound(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    return json_response(await _shape(ctx, await stored_one(ctx, SOUNDS, access.guild.id, request)))


@routes.post("/guilds/{guild_id}/soundboard-sounds")
async def create_sound(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    access.require(CREATE_EXPRESSIONS)
    body = await read_json(request)
    stored: dict[str, Any] = {"id": str(ctx.snowflakes.next()), "guild_id": str(access.guild.id),
                              "user_id": str(caller.id)}  # fmt: skip
    _fields(body, stored)
    sound = _sound(body)
    if len(await stored_all(ctx, SOUNDS, access.guild.id)) >= MAX_SOUNDS:
        raise invalid_form(
            "sound", "MAX_SOUNDBOARD_SOUNDS", f"Maximum number of sounds reached ({MAX_SOUNDS})."
        )
    await ctx.storage.put_setting(access.guild.id, f"{FILE_PREFIX}{stored['id']}", json.dumps(sound))
    await expression_media.record_owner(ctx, "sound", stored["id"], access.guild.id)
    await _store(ctx, access, stored)
    await announce(request, ctx, SOUNDS, access, SOUND_CREATE, stored, [audit.change("name", None, stored["name"])],
                   event="GUILD_SOUNDBOARD_SOUND_CREATE")  # fmt: skip
    return json_response(await _shape(ctx, stored), status=201)


@routes.patch("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def modify_sound(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await stored_one(ctx, SOUNDS, access.guild.id, request)
    may_change(access, stored)
    before = dict(stored)
    _fields(await read_json(request), stored)
    await _store(ctx, access, stored)
    changes = [audit.change(k, before[k], stored[k]) for k in ("name", "volume") if before[k] != stored[k]]
    await announce(request, ctx, SOUNDS, access, SOUND_UPDATE, stored, changes)
    return json_response(await _shape(ctx, stored))


@routes.delete("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def delete_sound(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await stored_one(ctx, SOUNDS, access.guild.id, request)
    may_change(access, stored)
    await ctx.storage.delete_setting(access.guild.id, f"{PREFIX}{stored['id']}")
    await ctx.storage.delete_setting(access.guild.id, f"{FILE_PREFIX}{stored['id']}")
    await expression_media.forget_owner(ctx, "sound", stored["id"])
    d = {"sound_id": stored["id"], "guild_id": str(access.guild.id)}
    await announce(request, ctx, SOUNDS, access, SOUND_DELETE, stored, [audit.change("name", stored["name"], None)],
                   event="GUILD_SOUNDBOARD_SOUND_DELETE", d=d)  # fmt: skip
    return web.Response(status=204)
