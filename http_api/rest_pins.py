"""Pins (``/channels/{c}/pins`` and the newer ``/channels/{c}/messages/pins``) and typing.

Pinning needs MANAGE_MESSAGES (Discord's PIN_MESSAGES moved out of it later; one bit here;
in a DM either user may pin); a channel holds at most 50 pins (30003). A pin or unpin is durable, then CHANNEL_PINS_UPDATE goes to
the channel's viewers. ``POST /channels/{c}/typing`` answers 204 and sends TYPING_START (with the
member) to the sessions that asked for GUILD_MESSAGE_TYPING. Register this module before the
message routes: ``/messages/pins`` must not be read as a message id.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from aiohttp import web

from rayguild.fanout.events import (
    DIRECT_MESSAGE_TYPING,
    DIRECT_MESSAGES,
    GUILD_MESSAGE_TYPING,
    GUILDS,
)
from rayguild.fanout.permissions import MANAGE_MESSAGES, READ_MESSAGE_HISTORY, SEND_MESSAGES
from rayguild.http_api.access import ChannelAccess, channel_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, unknown
from rayguild.http_api.forms import path_id, query_int
from rayguild.http_api.message_core import dispatch
from rayguild.http_api.message_view import show_messages
from rayguild.shapes import iso
from rayguild.shapes import member as member_shape
from rayguild.storage.models import Pin

routes = web.RouteTableDef()

MAX_PINS = 50
MAX_PINS_CODE = 30003


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def _pins_update(ctx: EdgeContext, found: ChannelAccess, pins: list[Pin]) -> None:
    channel = found.channel
    d = {"channel_id": str(channel.id), "last_pin_timestamp": iso(pins[0].pinned_at_ms) if pins else None}
    if channel.guild_id:
        d["guild_id"] = str(channel.guild_id)
    await dispatch(ctx, channel, "CHANNEL_PINS_UPDATE", d, GUILDS, DIRECT_MESSAGES)


async def _pin(request: web.Request, pin: bool) -> web.Response:
    _, ctx, found = await channel_request(request)
    if found.access is not None:  # in a DM either user may pin
        found.require(MANAGE_MESSAGES)
    channel_id, message_id = found.channel.id, path_id(request, "message_id")
    if await ctx.storage.get_message(channel_id, message_id) is None:
        raise unknown("message")
    pins = await ctx.storage.list_pins(channel_id)
    if pin and len(pins) >= MAX_PINS and message_id not in {p.message_id for p in pins}:
        raise ApiError(400, MAX_PINS_CODE, f"Maximum number of pins reached ({MAX_PINS})")
    if pin:
        changed = await ctx.storage.pin_message(channel_id, message_id, _now_ms())
    else:
        changed = await ctx.storage.unpin_message(channel_id, message_id)
    if changed:
        await _pins_update(ctx, found, await ctx.storage.list_pins(channel_id))
    return web.Response(status=204)


@routes.put("/channels/{channel_id}/pins/{message_id}")
@routes.put("/channels/{channel_id}/messages/pins/{message_id}")
async def pin_message(request: web.Request) -> web.Response:
    return await _pin(request, True)


@routes.delete("/channels/{channel_id}/pins/{message_id}")
@routes.delete("/channels/{channel_id}/messages/pins/{message_id}")
async def unpin_message(request: web.Request) -> web.Response:
    return await _pin(request, False)


async def _pinned(
    request: web.Request,
) -> tuple[ChannelAccess, EdgeContext, list[tuple[Pin, dict[str, object]]]]:
    """The channel's live pinned messages, newest pin first, shown for the caller."""
    caller, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY)
    pins = await ctx.storage.list_pins(found.channel.id)
    found_messages = await asyncio.gather(
        *(ctx.storage.get_message(found.channel.id, p.message_id) for p in pins)
    )
    messages = {p.message_id: m for p, m in zip(pins, found_messages, strict=True)}
    live = [p for p in pins if messages[p.message_id] is not None]
    shown = await show_messages(ctx, [m for p in live if (m := messages[p.message_id])], caller.id)
    return found, ctx, list(zip(live, shown, strict=True))


@routes.get("/channels/{channel_id}/pins")
async def list_pins(request: web.Request) -> web.Response:
    _, _, pinned = await _pinned(request)
    return json_response([message for _, message in pinned])


@routes.get("/channels/{channel_id}/messages/pins")
async def list_message_pins(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", 50, 1, MAX_PINS)
    before_ms = _before_ms(request)
    _, _, pinned = await _pinned(request)
    wanted = [(p, m) for p, m in pinned if before_ms is None or p.pinned_at_ms < before_ms]
    items = [{"pinned_at": iso(p.pinned_at_ms), "message": m} for p, m in wanted[:limit]]
    return json_response({"items": items, "has_more": len(wanted) > limit})


def _before_ms(request: web.Request) -> int | None:
    raw = request.query.get("before")
    if raw is None:
        return None
    try:
        return int(datetime.fromisoformat(raw).timestamp() * 1000)
    except ValueError:
        raise invalid_form(
            "before", "DATE_TYPE_PARSE", f"Could not parse {raw}. Should be ISO8601."
        ) from None


@routes.post("/channels/{channel_id}/typing")
async def typing(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(SEND_MESSAGES)
    channel = found.channel
    d: dict[str, object] = {"channel_id": str(channel.id), "user_id": str(caller.id),
                            "timestamp": _now_ms() // 1000}  # fmt: skip
    if found.member is not None:  # in a guild
        d.update(guild_id=str(channel.guild_id), member=member_shape(found.member, caller))
    await dispatch(ctx, channel, "TYPING_START", d, GUILD_MESSAGE_TYPING, DIRECT_MESSAGE_TYPING)
    return web.Response(status=204)
