"""Push devices: ``POST /users/@me/devices`` registers ``{provider, token}``; ``GET`` lists them.

Provider ``webhook`` (the only one here) takes an http(s) URL as its token: each notification for
the user (a mention or DM while no session of theirs is connected) is POSTed there with an
``Idempotency-Key`` header (see ``rayguild.actors.push``). Registering the same token again keeps
one device.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from rayguild.actors.push import PROVIDERS
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import invalid_form, json_response
from rayguild.http_api.forms import read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.storage.models import Device

routes = web.RouteTableDef()

MAX_TOKEN = 2048
MAX_DEVICES = 10  # per user; registering an eleventh is refused


def _shown(device: Device) -> dict[str, Any]:
    return {"provider": device.provider, "token": device.token}


def _webhook_url(token: str) -> str:
    parts = urlsplit(token)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_form("token", "URL_TYPE_INVALID_URL", "A webhook token must be an http(s) URL.")
    return token


@routes.post("/users/@me/devices")
async def register_device(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await read_json(request)
    provider = text(body, "provider", 1, 32)
    if provider not in PROVIDERS:
        raise invalid_form("provider", "BASE_TYPE_CHOICES", f"Value must be one of {list(PROVIDERS)}.")
    token = _webhook_url(text(body, "token", 1, MAX_TOKEN) or "")
    devices = await ctx.storage.list_devices(caller.id)
    if len(devices) >= MAX_DEVICES and all(d.token != token for d in devices):
        raise invalid_form("token", "MAX_DEVICES", f"At most {MAX_DEVICES} devices per user.")
    device = Device(caller.id, provider, token, time.time_ns() // 1_000_000)
    await ctx.storage.put_device(device)
    return json_response(_shown(device), status=201)


@routes.get("/users/@me/devices")
async def list_devices(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    return json_response([_shown(d) for d in await ctx_of(request).storage.list_devices(caller.id)])
