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

from typing import Any

from aiohttp import web

from rayguild.http_api import audit, expressions
from rayguild.http_api.access import guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import invalid_form, json_response
from rayguild.http_api.expression_media import SOUND
from rayguild.http_api.expressions import CREATE_EXPRESSIONS, Kind, announce, may_change
from rayguild.http_api.forms import optional_id, read_json, text

routes = web.RouteTableDef()

SOUND_CREATE, SOUND_UPDATE, SOUND_DELETE = 130, 131, 132
UNKNOWN_SOUND = 10097
MAX_SOUNDS = 8
PREFIX, FILE_PREFIX = "sound:", "sound-file:"


async def _shape(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    out = {k: stored[k] for k in ("name", "volume", "emoji_id", "emoji_name", "guild_id")}
    out.update(sound_id=stored["id"], available=True)
    return await expressions.with_creator(ctx, out, stored)


SOUNDS = Kind(prefix=PREFIX, path_param="sound_id", unknown_code=UNKNOWN_SOUND, unknown_message="Unknown Sound",
              shape=_shape, event="GUILD_SOUNDBOARD_SOUND_UPDATE", listed_as="", media_prefix=FILE_PREFIX,
              media_kind="sound")  # fmt: skip


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


@routes.get("/guilds/{guild_id}/soundboard-sounds")
async def list_sounds(request: web.Request) -> web.Response:
    return json_response({"items": await expressions.shown_all(request, SOUNDS)})


@routes.get("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def get_sound(request: web.Request) -> web.Response:
    return await expressions.get_one(request, SOUNDS)


@routes.post("/guilds/{guild_id}/soundboard-sounds")
async def create_sound(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    access.require(CREATE_EXPRESSIONS)
    body = await read_json(request)
    stored: dict[str, Any] = {"id": str(ctx.snowflakes.next()), "guild_id": str(access.guild.id),
                              "user_id": str(caller.id)}  # fmt: skip
    _fields(body, stored)
    sound, _, _ = SOUND.parse(body, "sound", 1 << 20)
    if len(await expressions.stored_all(ctx, SOUNDS, access.guild.id)) >= MAX_SOUNDS:
        raise invalid_form(
            "sound", "MAX_SOUNDBOARD_SOUNDS", f"Maximum number of sounds reached ({MAX_SOUNDS})."
        )
    await expressions.store(ctx, SOUNDS, access.guild.id, stored, sound)
    await announce(request, ctx, SOUNDS, access, SOUND_CREATE, stored, [audit.change("name", None, stored["name"])],
                   event="GUILD_SOUNDBOARD_SOUND_CREATE")  # fmt: skip
    return json_response(await _shape(ctx, stored), status=201)


@routes.patch("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def modify_sound(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await expressions.stored_one(ctx, SOUNDS, access.guild.id, request)
    may_change(access, stored)
    before = dict(stored)
    _fields(await read_json(request), stored)
    await expressions.store(ctx, SOUNDS, access.guild.id, stored)
    changes = [audit.change(k, before[k], stored[k]) for k in ("name", "volume") if before[k] != stored[k]]
    await announce(request, ctx, SOUNDS, access, SOUND_UPDATE, stored, changes)
    return json_response(await _shape(ctx, stored))


@routes.delete("/guilds/{guild_id}/soundboard-sounds/{sound_id}")
async def delete_sound(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await expressions.stored_one(ctx, SOUNDS, access.guild.id, request)
    may_change(access, stored)
    if not await expressions.drop(ctx, SOUNDS, access.guild.id, stored["id"]):
        raise expressions.unknown(SOUNDS)  # another request deleted it first (and announced it)
    d = {"sound_id": stored["id"], "guild_id": str(access.guild.id)}
    await announce(request, ctx, SOUNDS, access, SOUND_DELETE, stored, [audit.change("name", stored["name"], None)],
                   event="GUILD_SOUNDBOARD_SOUND_DELETE", d=d)  # fmt: skip
    return web.Response(status=204)
