"""Messages: create (1-2000 characters, optional nonce), get, edit, delete, history.

Create is idempotent on (channel, author, nonce): a retry returns the first message and is not
dispatched again. Every write is durable before the response; then the guild dispatches
MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE to the sessions that can see the channel.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.fanout.events import GUILD_MESSAGES
from rayguild.fanout.permissions import MANAGE_MESSAGES, READ_MESSAGE_HISTORY, SEND_MESSAGES
from rayguild.http_api import push_notify
from rayguild.http_api.access import ChannelAccess, channel_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import (
    CANNOT_EDIT_OTHERS_MESSAGE,
    EMPTY_MESSAGE,
    ApiError,
    invalid_form,
    json_response,
    unknown,
)
from rayguild.http_api.forms import path_id, query_id, query_int, read_json, text
from rayguild.http_api.notify import publish
from rayguild.shapes import message as message_shape
from rayguild.storage.models import Member, Message, User
from rayguild.storage.protocol import MAX_HISTORY_LIMIT, HistoryQuery

routes = web.RouteTableDef()

MAX_CONTENT = 2000
MAX_NONCE = 25


def _nonce(body: dict[str, Any]) -> str | None:
    value = body.get("nonce")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > MAX_NONCE:
        raise invalid_form("nonce", "BASE_TYPE_BAD_LENGTH", f"Must be {MAX_NONCE} or fewer in length.")
    return str(value)


def _content(body: dict[str, Any], required: bool) -> str | None:
    value = body.get("content")
    if value is None or value == "":
        if required:
            raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")
        return None
    return text(body, "content", 1, MAX_CONTENT)


async def _shown(ctx: EdgeContext, message: Message, author: User | None = None,
                 member: Member | None = None) -> dict[str, Any]:  # fmt: skip
    account = author or await ctx.storage.get_user(message.author_id)
    if account is None:
        account = User(id=message.author_id, username="Deleted User")
    return message_shape(message, account, member)


@routes.post("/channels/{channel_id}/messages")
async def create_message(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(SEND_MESSAGES)
    body = await read_json(request)
    content = _content(body, required=True)
    assert content is not None
    draft = Message(
        id=ctx.snowflakes.next(), channel_id=found.channel.id, author_id=caller.id,
        content=content, guild_id=found.channel.guild_id, nonce=_nonce(body),
    )  # fmt: skip
    stored = await ctx.storage.create_message(draft)
    shown = await _shown(ctx, stored, caller, found.access.member)
    if stored.id == draft.id:  # a nonce retry was dispatched the first time
        await publish(ctx, Publish(
            found.channel.guild_id, "MESSAGE_CREATE", shown, channel_id=found.channel.id,
            intent=GUILD_MESSAGES,
        ))  # fmt: skip
        await push_notify.mentions(ctx, stored, shown["author"])
    return json_response(shown)


async def _addressed_message(request: web.Request) -> tuple[User, EdgeContext, ChannelAccess, Message]:
    """The caller, the edge, the caller's access to the channel, and the message the path names
    (404 Unknown Message if it does not exist or was deleted)."""
    caller, ctx, found = await channel_request(request)
    message = await ctx.storage.get_message(found.channel.id, path_id(request, "message_id"))
    if message is None:
        raise unknown("message")
    return caller, ctx, found, message


@routes.get("/channels/{channel_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    _, ctx, found, message = await _addressed_message(request)
    found.require(READ_MESSAGE_HISTORY)
    return json_response(await _shown(ctx, message))


@routes.patch("/channels/{channel_id}/messages/{message_id}")
async def edit_message(request: web.Request) -> web.Response:
    caller, ctx, found, message = await _addressed_message(request)
    message_id = message.id
    if message.author_id != caller.id:
        raise ApiError(403, CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user")
    body = await read_json(request)
    content = _content(body, required=False)
    if content is None:
        return json_response(await _shown(ctx, message, caller))
    edited = await ctx.storage.edit_message(
        found.channel.id, message_id, content, time.time_ns() // 1_000_000
    )
    if edited is None:
        raise unknown("message")
    shown = await _shown(ctx, edited, caller, found.access.member)
    await publish(ctx, Publish(
        found.channel.guild_id, "MESSAGE_UPDATE", shown, channel_id=found.channel.id,
        intent=GUILD_MESSAGES,
    ))  # fmt: skip
    return json_response(shown)


@routes.delete("/channels/{channel_id}/messages/{message_id}")
async def delete_message(request: web.Request) -> web.Response:
    caller, ctx, found, message = await _addressed_message(request)
    message_id = message.id
    if message.author_id != caller.id:
        found.require(MANAGE_MESSAGES)
    if not await ctx.storage.delete_message(found.channel.id, message_id):
        raise unknown("message")
    d = {"id": str(message_id), "channel_id": str(found.channel.id),
         "guild_id": str(found.channel.guild_id)}  # fmt: skip
    await publish(ctx, Publish(found.channel.guild_id, "MESSAGE_DELETE", d,
                               channel_id=found.channel.id, intent=GUILD_MESSAGES))  # fmt: skip
    return web.Response(status=204)


@routes.get("/channels/{channel_id}/messages")
async def history(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY)
    anchors = {k: query_id(request, k) for k in ("before", "after", "around")}
    if sum(v is not None for v in anchors.values()) > 1:
        raise invalid_form("around", "BASE_TYPE_BAD_COMBINATION", "Use only one of before, after, around.")
    limit = query_int(request, "limit", 50, 1, MAX_HISTORY_LIMIT)
    messages = await ctx.storage.history(HistoryQuery(found.channel.id, limit, **anchors))
    authors = await ctx.storage.get_users([m.author_id for m in messages])
    return json_response([await _shown(ctx, m, authors.get(m.author_id)) for m in messages])
