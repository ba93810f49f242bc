"""Guild stickers: list, get, create (multipart, as Discord takes it: name, tags, description,
file), modify, delete. Each sticker is its own settings document of the guild (``sticker:<id>``;
the file's bytes apart in ``sticker-file:<id>``, base64, written first), like emojis.

Creating needs CREATE_EXPRESSIONS, changing another member's sticker MANAGE_GUILD_EXPRESSIONS.
Every write is durable before GUILD_STICKERS_UPDATE (the guild's whole list, GUILD_EXPRESSIONS
intent) and its audit entry. Bounds as Discord's: name 2-30, tags 1-200, description up to 100,
a PNG / APNG / GIF / Lottie JSON file of at most 512 KiB (the edge's 256 KiB request body bound
answers 413 40005 first), 5 stickers per guild (Discord's count without boosts).
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from rayguild.http_api import audit, expressions
from rayguild.http_api.access import guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.expressions import CREATE_EXPRESSIONS, Kind, announce, may_change
from rayguild.http_api.forms import read_json, text

routes = web.RouteTableDef()

STICKER_CREATE, STICKER_UPDATE, STICKER_DELETE = 90, 91, 92
UNKNOWN_STICKER = 10060
MAX_STICKERS = 5
MAX_STICKERS_REACHED = 30039
MAX_FILE_BYTES = 512 * 1024
FORMATS = {"image/png": 1, "image/apng": 2, "application/json": 3, "image/gif": 4}
PREFIX, FILE_PREFIX = "sticker:", "sticker-file:"


def _fields(body: dict[str, Any], required: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if required or "name" in body:
        out["name"] = text(body, "name", 2, 30)
    if required or "tags" in body:
        out["tags"] = text(body, "tags", 1, 200)
    if "description" in body:
        out["description"] = text(body, "description", 0, 100, required=False) or None
    return out


async def _shape(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    out = {k: stored[k] for k in ("id", "name", "tags", "description", "format_type", "guild_id")}
    out.update(type=2, available=True)
    return await expressions.with_creator(ctx, out, stored)


STICKERS = Kind(prefix=PREFIX, path_param="sticker_id", unknown_code=UNKNOWN_STICKER,
                unknown_message="Unknown Sticker", shape=_shape, event="GUILD_STICKERS_UPDATE", listed_as="stickers",
                media_prefix=FILE_PREFIX, media_kind="sticker")  # fmt: skip


@routes.get("/guilds/{guild_id}/stickers")
async def list_stickers(request: web.Request) -> web.Response:
    return json_response(await expressions.shown_all(request, STICKERS))


@routes.get("/guilds/{guild_id}/stickers/{sticker_id}")
async def get_sticker(request: web.Request) -> web.Response:
    return await expressions.get_one(request, STICKERS)


@routes.post("/guilds/{guild_id}/stickers")
async def create_sticker(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    access.require(CREATE_EXPRESSIONS)
    if not request.content_type.startswith("multipart/"):
        raise invalid_form("file", "BASE_TYPE_REQUIRED", "Send multipart/form-data with a file.")
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise invalid_form("file", "BASE_TYPE_REQUIRED", "This field is required")
    data = upload.file.read(MAX_FILE_BYTES + 1)
    kind = FORMATS.get(upload.content_type)
    if kind is None or len(data) > MAX_FILE_BYTES:
        raise invalid_form(
            "file", "STICKER_INVALID", "A PNG, APNG, GIF or Lottie JSON file of at most 512 KiB."
        )
    fields = _fields({k: v for k, v in form.items() if isinstance(v, str)}, required=True)
    if len(await expressions.stored_all(ctx, STICKERS, access.guild.id)) >= MAX_STICKERS:
        raise ApiError(400, MAX_STICKERS_REACHED, f"Maximum number of stickers reached ({MAX_STICKERS})")
    sticker_id = str(ctx.snowflakes.next())
    stored = {"id": sticker_id, "guild_id": str(access.guild.id), "description": None, **fields,
              "format_type": kind, "user_id": str(caller.id)}  # fmt: skip
    await expressions.store(ctx, STICKERS, access.guild.id, stored, base64.b64encode(data).decode())
    await announce(
        request, ctx, STICKERS, access, STICKER_CREATE, stored, [audit.change("name", None, stored["name"])]
    )
    return json_response(await _shape(ctx, stored), status=201)


@routes.patch("/guilds/{guild_id}/stickers/{sticker_id}")
async def modify_sticker(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await expressions.stored_one(ctx, STICKERS, access.guild.id, request)
    may_change(access, stored)
    fields = _fields(await read_json(request), required=False)
    changes = [audit.change(k, stored.get(k), v) for k, v in fields.items() if stored.get(k) != v]
    stored.update(fields)
    await expressions.store(ctx, STICKERS, access.guild.id, stored)
    await announce(request, ctx, STICKERS, access, STICKER_UPDATE, stored, changes)
    return json_response(await _shape(ctx, stored))


@routes.delete("/guilds/{guild_id}/stickers/{sticker_id}")
async def delete_sticker(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await expressions.stored_one(ctx, STICKERS, access.guild.id, request)
    may_change(access, stored)
    if not await expressions.drop(ctx, STICKERS, access.guild.id, stored["id"]):
        raise expressions.unknown(STICKERS)
    await announce(request, ctx, STICKERS, access, STICKER_DELETE, stored,
                   [audit.change("name", stored["name"], None)])  # fmt: skip
    return web.Response(status=204)
