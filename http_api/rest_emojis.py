"""Guild emojis: list, get, create (the image as a data URI, as Discord takes it), modify, delete.

Each emoji is its own settings document (``emoji:<id>``: name, roles, creator; the image data
URI apart in ``emoji-image:<id>``, written first), so concurrent writers of different emojis
never overwrite each other. Creating needs CREATE_EXPRESSIONS; changing or deleting another member's emoji MANAGE_GUILD_EXPRESSIONS. Every
write is durable before GUILD_EMOJIS_UPDATE (the guild's whole emoji list, GUILD_EXPRESSIONS
intent) and its audit entry. Bounds as Discord's: name 2-32 of a-z A-Z 0-9 _, image PNG / JPEG /
GIF / WebP of at most 256 KiB (below that, the edge's 256 KiB request body bound answers 413
40005 first), 50 emojis of each kind per guild.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from rayguild.http_api import audit, expressions
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.expression_media import image_data_uri
from rayguild.http_api.expressions import CREATE_EXPRESSIONS, Kind, announce, may_change
from rayguild.http_api.forms import read_json, text

routes = web.RouteTableDef()

EMOJI_CREATE, EMOJI_UPDATE, EMOJI_DELETE = 60, 61, 62
UNKNOWN_EMOJI = 10014
MAX_EMOJIS = 50
MAX_EMOJIS_REACHED = 30008
_NAME = re.compile(r"^[A-Za-z0-9_]{2,32}$")
PREFIX = "emoji:"  # the emoji's record; its image apart, so lists never read images
IMAGE_PREFIX = "emoji-image:"


def emoji_name(body: dict[str, Any]) -> str:
    name = text(body, "name", 2, 32)
    assert name is not None
    if not _NAME.match(name):
        raise invalid_form("name", "STRING_TYPE_REGEX", "Only letters, digits and _.")
    return name


def _roles(body: dict[str, Any], access: GuildAccess) -> list[str]:
    raw = body.get("roles") or []
    known = {str(r.id) for r in access.roles}
    if not isinstance(raw, list) or any(str(r) not in known for r in raw):
        raise invalid_form("roles", "UNKNOWN_ROLE", "Roles must be roles of this guild.")
    return [str(r) for r in dict.fromkeys(raw)]


async def emoji_shape(ctx: EdgeContext, stored: dict[str, Any]) -> dict[str, Any]:
    out = {k: stored[k] for k in ("id", "name", "roles", "animated")}
    out.update(require_colons=True, managed=False, available=True)
    return await expressions.with_creator(ctx, out, stored)


EMOJIS = Kind(prefix=PREFIX, path_param="emoji_id", unknown_code=UNKNOWN_EMOJI, unknown_message="Unknown Emoji",
              shape=emoji_shape, event="GUILD_EMOJIS_UPDATE", listed_as="emojis", media_prefix=IMAGE_PREFIX,
              media_kind="emoji")  # fmt: skip


async def store_emoji(
    ctx: EdgeContext, owner_id: int, stored: dict[str, Any], image: str | None = None
) -> None:
    """Write the emoji's record (and first its image, when given)."""
    await expressions.store(ctx, EMOJIS, owner_id, stored, image)


async def drop_emoji(ctx: EdgeContext, owner_id: int, emoji_id: str) -> None:
    """Delete the record, then the image; 404 10014 if another request deleted it first."""
    if not await expressions.drop(ctx, EMOJIS, owner_id, emoji_id):
        raise expressions.unknown(EMOJIS)


async def emojis_of(ctx: EdgeContext, owner_id: int) -> list[dict[str, Any]]:
    return await expressions.stored_all(ctx, EMOJIS, owner_id)


async def emoji_of(ctx: EdgeContext, owner_id: int, request: web.Request) -> dict[str, Any]:
    """The stored emoji the path's ``{emoji_id}`` names (404 10014 if ``owner_id`` has none)."""
    return await expressions.stored_one(ctx, EMOJIS, owner_id, request)


@routes.get("/guilds/{guild_id}/emojis")
async def list_emojis(request: web.Request) -> web.Response:
    return json_response(await expressions.shown_all(request, EMOJIS))


@routes.get("/guilds/{guild_id}/emojis/{emoji_id}")
async def get_emoji(request: web.Request) -> web.Response:
    return await expressions.get_one(request, EMOJIS)


@routes.post("/guilds/{guild_id}/emojis")
async def create_emoji(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    access.require(CREATE_EXPRESSIONS)
    body = await read_json(request)
    name, (image, animated), roles = emoji_name(body), image_data_uri(body), _roles(body, access)
    if sum(e["animated"] == animated for e in await emojis_of(ctx, access.guild.id)) >= MAX_EMOJIS:
        raise ApiError(400, MAX_EMOJIS_REACHED, f"Maximum number of emojis reached ({MAX_EMOJIS})")
    emoji_id = str(ctx.snowflakes.next())
    stored = {"id": emoji_id, "name": name, "roles": roles, "animated": animated, "user_id": str(caller.id)}
    await store_emoji(ctx, access.guild.id, stored, image)
    await announce(request, ctx, EMOJIS, access, EMOJI_CREATE, stored, [audit.change("name", None, name)])
    return json_response(await emoji_shape(ctx, stored), status=201)


@routes.patch("/guilds/{guild_id}/emojis/{emoji_id}")
async def modify_emoji(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await emoji_of(ctx, access.guild.id, request)
    may_change(access, stored)
    body = await read_json(request)
    changes = []
    if "name" in body:
        name = emoji_name(body)
        changes.append(audit.change("name", stored["name"], name))
        stored["name"] = name
    if "roles" in body:
        stored["roles"] = _roles(body, access)
    await store_emoji(ctx, access.guild.id, stored)
    await announce(request, ctx, EMOJIS, access, EMOJI_UPDATE, stored, changes)
    return json_response(await emoji_shape(ctx, stored))


@routes.delete("/guilds/{guild_id}/emojis/{emoji_id}")
async def delete_emoji(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await emoji_of(ctx, access.guild.id, request)
    may_change(access, stored)
    await drop_emoji(ctx, access.guild.id, stored["id"])
    await announce(
        request, ctx, EMOJIS, access, EMOJI_DELETE, stored, [audit.change("name", stored["name"], None)]
    )
    return web.Response(status=204)
