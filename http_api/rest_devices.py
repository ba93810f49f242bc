"""Push devices: ``POST /users/@me/devices`` registers ``{provider, token}``; ``GET`` lists them.

Provider ``webhook`` (the only one here) takes an http(s) URL as its token: each notification for
the user (a mention or DM while no session of theirs is connected) is POSTed there with an
``Idempotency-Key`` header (see ``rayguild.actors.push``). Registering the same token again keeps
one device. A URL whose host is a loopback, private, link-local, multicast or reserved address
(or a name resolving to one) is refused with 400 50035 on ``token`` unless
``Config.push_allowed_networks`` allows it (no request forgery through devices).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from rayguild.actors.push import PROVIDERS
from rayguild.egress import EgressPolicy, EgressRefused
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


async def _webhook_url(token: str, policy: EgressPolicy) -> str:
    """The URL if it is http(s) and its host (an IP literal, or EVERY address a name resolves to)
    may be reached; delivery checks again (``rayguild.egress``)."""
    parts = urlsplit(token)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_form("token", "URL_TYPE_INVALID_URL", "A webhook token must be an http(s) URL.")
    try:
        await policy.resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except EgressRefused as err:
        raise invalid_form(
            "token", "URL_TYPE_INVALID_URL", f"The webhook URL's host is refused: {err}."
        ) from None
    except (OSError, ValueError, UnicodeError):
        raise invalid_form(
            "token", "URL_TYPE_INVALID_URL", "The webhook URL's host does not resolve."
        ) from None
    return token


@routes.post("/users/@me/devices")
async def register_device(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await read_json(request)
    provider = text(body, "provider", 1, 32)
    if provider not in PROVIDERS:
        raise invalid_form("provider", "BASE_TYPE_CHOICES", f"Value must be one of {list(PROVIDERS)}.")
    policy = EgressPolicy.of(ctx.config.push_allowed_networks)
    token = await _webhook_url(text(body, "token", 1, MAX_TOKEN) or "", policy)
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
