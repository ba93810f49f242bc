"""The edge's CDN paths for custom emoji and sticker images and soundboard sounds, as Discord's CDN
lays them out: ``GET /emojis/{emoji_id}.{png|gif|webp|jpg}``, ``GET /stickers/{sticker_id}.{png|gif|json}``
and ``GET /soundboard-sounds/{sound_id}``.

Public like attachments (rest_attachments.py): the id is the permission. An emoji's image is kept
as a data URI (``emoji-image:<id>``) and a sticker's file as base64 (``sticker-file:<id>``) in the
settings documents of their guild (or application); the CDN path names only the id, so creating
one also records its owner under owner 0 (``expression-owner:<kind>:<id>``), removed on delete.
The bytes are served with the type their header shows (``media.describe``); an unknown id, or an
expression made before the owner was recorded, is Discord's 404.

Media sent as base64 data URIs (an emoji's or a profile's image, a sound) are read here too
(``DataUri``), each kind with Discord's error code and messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form
from rayguild.http_api.forms import text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.media import describe

EMOJI_PATH = "/emojis/{file}"
STICKER_PATH = "/stickers/{file}"
SOUND_PATH = "/soundboard-sounds/{file}"
OWNER_PREFIX = "expression-owner:"
_STORED = {
    "emoji": "emoji-image:",
    "sticker": "sticker-file:",
    "sound": "sound-file:",
}  # rest_emojis, _stickers, _soundboard
MAX_IMAGE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class DataUri:
    """A media field sent as a base64 data URI; a bad one is 400 50035 ``code`` naming the field."""

    pattern: re.Pattern[str]  # group 1: the media subtype, group 2: the base64 data
    code: str
    not_a_uri: str
    not_base64: str

    def parse(self, body: dict[str, Any], field: str, max_chars: int) -> tuple[str, str, int]:
        """(the data URI in ``field``, its media subtype, how many bytes it decodes to)."""
        raw = text(body, field, 1, max_chars) or ""
        match = self.pattern.match(raw)
        if match is None:
            raise invalid_form(field, self.code, self.not_a_uri)
        try:
            size = len(base64.b64decode(match.group(2), validate=True))
        except (binascii.Error, ValueError):
            raise invalid_form(field, self.code, self.not_base64) from None
        return raw, match.group(1), size


IMAGE = DataUri(re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,(.+)$", re.S), "IMAGE_INVALID",
                "Invalid image data: send a base64 data URI.", "Invalid image data: not base64.")  # fmt: skip
SOUND = DataUri(re.compile(r"^data:audio/(mpeg|mp3|ogg);base64,(.+)$", re.S), "SOUND_INVALID",
                "Send an MP3 or Ogg sound as a base64 data URI.", "Invalid sound data: not base64.")  # fmt: skip


def image_data_uri(body: dict[str, Any], field: str = "image") -> tuple[str, bool]:
    """The image data URI in ``field`` (PNG / JPEG / GIF / WebP, at most MAX_IMAGE_BYTES decoded)
    and whether it is animated (a GIF); 400 50035 naming the field otherwise."""
    raw, subtype, size = IMAGE.parse(body, field, 2 * MAX_IMAGE_BYTES)
    if size > MAX_IMAGE_BYTES:
        raise invalid_form(field, "BINARY_TYPE_MAX_SIZE", "File cannot be larger than 256.0 kb.")
    return raw, subtype == "gif"


async def record_owner(ctx: EdgeContext, kind: str, expression_id: str, owner_id: int) -> None:
    await ctx.storage.put_setting(0, f"{OWNER_PREFIX}{kind}:{expression_id}", json.dumps(str(owner_id)))


async def forget_owner(ctx: EdgeContext, kind: str, expression_id: str) -> None:
    await ctx.storage.delete_setting(0, f"{OWNER_PREFIX}{kind}:{expression_id}")


def _not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


async def _bytes(ctx: EdgeContext, kind: str, file: str) -> bytes:
    expression_id, _, _ = file.partition(".")
    if not expression_id.isdigit():
        raise _not_found()
    owner = await ctx.storage.get_setting(0, f"{OWNER_PREFIX}{kind}:{expression_id}")
    stored = (
        await ctx.storage.get_setting(int(json.loads(owner)), f"{_STORED[kind]}{expression_id}")
        if owner
        else None
    )
    if stored is None:
        raise _not_found()
    encoded: str = json.loads(stored)
    return base64.b64decode(encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded)


async def _serve(request: web.Request, kind: str) -> web.Response:
    data = await _bytes(ctx_of(request), kind, request.match_info["file"])
    headers = {"Content-Type": describe(request.match_info["file"], data[:64]).content_type,
               "Cache-Control": "public, max-age=31536000, immutable"}  # fmt: skip
    return web.Response(body=data, headers=headers)


async def serve_emoji(request: web.Request) -> web.Response:
    return await _serve(request, "emoji")


async def serve_sticker(request: web.Request) -> web.Response:
    return await _serve(request, "sticker")


async def serve_sound(request: web.Request) -> web.Response:
    return await _serve(request, "sound")


def add_routes(app: web.Application) -> None:
    app.router.add_get(EMOJI_PATH, serve_emoji)
    app.router.add_get(STICKER_PATH, serve_sticker)
    app.router.add_get(SOUND_PATH, serve_sound)
