"""Application emojis: an application's own emojis (usable by its bot everywhere), kept like guild
emojis (``rest_emojis``) with the application as their owner: list (``{"items": [...]}``), get,
create from a data URI, rename, delete. Only the application's own bot may manage them; at most
2000 per application, as on Discord. Discord sends no gateway event for them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import ApiError, json_response
from rayguild.http_api.expression_media import image_data_uri
from rayguild.http_api.forms import path_id, read_json
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.rest_applications import UNKNOWN_APPLICATION
from rayguild.http_api.rest_emojis import (
    MAX_EMOJIS_REACHED,
    drop_emoji,
    emoji_name,
    emoji_of,
    emoji_shape,
    emojis_of,
    store_emoji,
)
from rayguild.storage.models import User

routes = web.RouteTableDef()

MAX_APPLICATION_EMOJIS = 2000


async def _application(request: web.Request) -> User:
    caller = await authenticate(request)
    if path_id(request, "application_id") != caller.id:
        raise ApiError(404, UNKNOWN_APPLICATION, "Unknown Application")
    return caller


@routes.get("/applications/{application_id}/emojis")
async def list_app_emojis(request: web.Request) -> web.Response:
    app, ctx = await _application(request), ctx_of(request)
    return json_response({"items": [await emoji_shape(ctx, e) for e in await emojis_of(ctx, app.id)]})


@routes.get("/applications/{application_id}/emojis/{emoji_id}")
async def get_app_emoji(request: web.Request) -> web.Response:
    app, ctx = await _application(request), ctx_of(request)
    return json_response(await emoji_shape(ctx, await emoji_of(ctx, app.id, request)))


@routes.post("/applications/{application_id}/emojis")
async def create_app_emoji(request: web.Request) -> web.Response:
    app, ctx = await _application(request), ctx_of(request)
    body = await read_json(request)
    name, (image, animated) = emoji_name(body), image_data_uri(body)
    if len(await emojis_of(ctx, app.id)) >= MAX_APPLICATION_EMOJIS:
        raise ApiError(
            400, MAX_EMOJIS_REACHED, f"Maximum number of emojis reached ({MAX_APPLICATION_EMOJIS})"
        )
    stored: dict[str, Any] = {"id": str(ctx.snowflakes.next()), "name": name, "roles": [], "animated": animated,
                              "user_id": str(app.id)}  # fmt: skip
    await store_emoji(ctx, app.id, stored, image)
    return json_response(await emoji_shape(ctx, stored), status=201)


@routes.patch("/applications/{application_id}/emojis/{emoji_id}")
async def modify_app_emoji(request: web.Request) -> web.Response:
    app, ctx = await _application(request), ctx_of(request)
    stored = await emoji_of(ctx, app.id, request)
    stored["name"] = emoji_name(await read_json(request))
    await store_emoji(ctx, app.id, stored)
    return json_response(await emoji_shape(ctx, stored))


@routes.delete("/applications/{application_id}/emojis/{emoji_id}")
async def delete_app_emoji(request: web.Request) -> web.Response:
    app, ctx = await _application(request), ctx_of(request)
    await drop_emoji(ctx, app.id, (await emoji_of(ctx, app.id, request))["id"])
    return web.Response(status=204)
