"""Direct messages: ``POST /users/@me/channels {recipient_id}`` opens (or reopens) the one DM
channel of a pair, ``GET /users/@me/channels`` lists the caller's. The rules (who may DM whom,
50007 / 50033) and delivery are in ``rayguild.http_api.dms``; a DM channel's messages use the
ordinary message routes.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from rayguild.errors import RayguildError
from rayguild.http_api.auth import authenticate
from rayguild.http_api.dms import INVALID_RECIPIENTS, check_may_dm, dm_shape
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.forms import read_json, snowflake
from rayguild.http_api.keys import ctx_of

log = structlog.get_logger("rayguild.http")
routes = web.RouteTableDef()


@routes.post("/users/@me/channels")
async def open_dm(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await read_json(request)
    if body.get("recipient_id") is None:
        raise invalid_form("recipient_id", "BASE_TYPE_REQUIRED", "This field is required")
    recipient = await ctx.storage.get_user(snowflake(body["recipient_id"], "recipient_id"))
    if recipient is None:
        raise ApiError(400, INVALID_RECIPIENTS, "Invalid Recipient(s)")
    await check_may_dm(ctx, caller, recipient)
    new_id = ctx.snowflakes.next()
    dm = await ctx.storage.open_dm(new_id, caller.id, recipient.id)
    shown = dm_shape(dm, recipient)
    if dm.id == new_id:
        try:
            await ctx.users.deliver([caller.id], "CHANNEL_CREATE", shown)
        except RayguildError as exc:
            log.warning("dm.channel_create_failed", channel_id=dm.id, error=str(exc))
    return json_response(shown)


@routes.get("/users/@me/channels")
async def list_dms(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    dms = await ctx.storage.list_dms(caller.id)
    users = await ctx.storage.get_users([dm.other(caller.id) for dm in dms])
    return json_response(
        [dm_shape(dm, users[dm.other(caller.id)]) for dm in dms if dm.other(caller.id) in users]
    )
