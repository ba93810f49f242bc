"""A user's role connection with an application (``/users/@me/applications/{app}/role-connection``):
the platform name, username and metadata values the application's linked roles read.

Kept as the user's settings document ``role-connection:<application id>`` on every backend; the
metadata keys must be ones the application declared (``PUT /applications/{app}/role-connections/
metadata``), at most 5, each value 1-100 characters, as Discord's. An application that does not
exist is 404 10002; a user with no connection reads Discord's empty one.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.forms import path_id, read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.rest_applications import UNKNOWN_APPLICATION

routes = web.RouteTableDef()

PATH = "/users/@me/applications/{application_id}/role-connection"
EMPTY: dict[str, Any] = {"platform_username": None, "metadata": {}}  # no platform_name: not set
MAX_METADATA = 5


async def _addressed(request: web.Request) -> tuple[EdgeContext, int, str, int]:
    """(ctx, user id, the settings name, the application id) of the request's connection."""
    caller = await authenticate(request)
    ctx = ctx_of(request)
    app_id = path_id(request, "application_id")
    application = await ctx.storage.get_user(app_id)
    if application is None or not application.bot:
        raise ApiError(404, UNKNOWN_APPLICATION, "Unknown Application")
    return ctx, caller.id, f"role-connection:{app_id}", app_id


def _metadata(body: dict[str, Any], declared: set[str]) -> dict[str, str]:
    raw = body.get("metadata") or {}
    if not isinstance(raw, dict) or len(raw) > MAX_METADATA:
        raise invalid_form("metadata", "BASE_TYPE_MAX_LENGTH", f"Must have at most {MAX_METADATA} keys.")
    for key, value in raw.items():
        if key not in declared:
            raise invalid_form(
                "metadata", "APPLICATION_ROLE_CONNECTION_METADATA_UNKNOWN_KEY", f"Unknown key {key}."
            )
        if not isinstance(value, str | int) or isinstance(value, bool) or not 1 <= len(str(value)) <= 100:
            raise invalid_form("metadata", "BASE_TYPE_BAD_LENGTH", "Each value must be 1 to 100 characters.")
    return {k: str(v) for k, v in raw.items()}


@routes.get(PATH)
async def get_connection(request: web.Request) -> web.Response:
    ctx, user_id, name, _ = await _addressed(request)
    stored = await ctx.storage.get_setting(user_id, name)
    return json_response(json.loads(stored) if stored else EMPTY)


@routes.put(PATH)
async def put_connection(request: web.Request) -> web.Response:
    ctx, user_id, name, app_id = await _addressed(request)
    body = await read_json(request)
    declared_doc = await ctx.storage.get_setting(app_id, "role_connections_metadata")
    declared = {r["key"] for r in json.loads(declared_doc)} if declared_doc else set()
    shown: dict[str, Any] = {"platform_username": text(body, "platform_username", 0, 100, required=False),
                             "metadata": _metadata(body, declared)}  # fmt: skip
    platform = text(body, "platform_name", 0, 50, required=False)
    if platform is not None:
        shown["platform_name"] = platform
    await ctx.storage.put_setting(user_id, name, json.dumps(shown))
    return json_response(shown)


@routes.delete(PATH)
async def delete_connection(request: web.Request) -> web.Response:
    ctx, user_id, name, _ = await _addressed(request)
    await ctx.storage.delete_setting(user_id, name)
    return web.Response(status=204)
