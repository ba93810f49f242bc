"""Messages: create, get, edit, delete, history (the routes; ``message_core`` does the work).

Create is idempotent on (channel, author, nonce): a retry returns the first message and is not
dispatched again. Every write is durable before the response; then the guild dispatches
MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE to the sessions that can see the channel. A
reply needs READ_MESSAGE_HISTORY; another's message can only have its embeds suppressed
(MANAGE_MESSAGES). Ephemeral messages (interaction responses for one user) are never listed or
addressed here.
"""

from __future__ import annotations

from aiohttp import web

from rayguild.fanout.permissions import (
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
)
from rayguild.http_api import automod, dms, message_core, slowmode
from rayguild.http_api.access import ChannelAccess, channel_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import (
    CANNOT_EDIT_OTHERS_MESSAGE,
    ApiError,
    invalid_form,
    json_response,
    unknown,
)
from rayguild.http_api.forms import path_id, query_id, query_int
from rayguild.http_api.message_core import EPHEMERAL, parse_body
from rayguild.http_api.message_view import show_message, show_messages
from rayguild.http_api.rest_attachments import forget_files
from rayguild.http_api.uploads import message_form
from rayguild.storage.models import Message, User
from rayguild.storage.protocol import MAX_HISTORY_LIMIT, HistoryQuery

routes = web.RouteTableDef()


@routes.post("/channels/{channel_id}/messages")
async def create_message(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(SEND_MESSAGES)
    if found.access is None:  # a DM: the pair must still be allowed to message each other
        await dms.check_may_send(ctx, found.channel.id, caller)
    async with message_form(request, ctx, found.channel.id) as form:
        attachments = form.attachments_after_edit(()) or ()
        body = parse_body(form.payload, has_attachments=bool(attachments))
        if body.reply_to is not None:
            found.require(READ_MESSAGE_HISTORY)
        guild = ctx.guild_cache.reader(ctx.storage, found.channel.guild_id)
        await automod.enforce(ctx, found, caller.id, body.content or "", guild)
        await slowmode.check(ctx, found, caller, guild)
        shown = await message_core.create_message(
            ctx, found.channel, caller, body, member=found.member,
            can_mention_everyone=bool(found.permissions & MENTION_EVERYONE), attachments=attachments,
        )  # fmt: skip
    if attachments and shown["attachments"] != list(attachments):  # a nonce retry: the first stands
        await forget_files(ctx.storage.blobs, found.channel.id, attachments)
    return json_response(shown)


async def addressed_message(request: web.Request) -> tuple[User, EdgeContext, ChannelAccess, Message]:
    """The caller, the edge, the caller's access to the channel, and the message the path names
    (404 Unknown Message if it does not exist, was deleted, or is ephemeral: that one is reached
    only through its interaction's webhook routes)."""
    caller, ctx, found = await channel_request(request)
    message = await ctx.storage.get_message(found.channel.id, path_id(request, "message_id"))
    if message is None or message.flags & EPHEMERAL:
        raise unknown("message")
    return caller, ctx, found, message


@routes.get("/channels/{channel_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    caller, ctx, found, message = await addressed_message(request)
    found.require(READ_MESSAGE_HISTORY)
    return json_response(await show_message(ctx, message, caller.id))


@routes.patch("/channels/{channel_id}/messages/{message_id}")
async def edit_message(request: web.Request) -> web.Response:
    caller, ctx, found, message = await addressed_message(request)
    async with message_form(request, ctx, found.channel.id) as form:
        body = parse_body(form.payload, edit=True)
        attachments = form.attachments_after_edit(message.attachments)
        if message.author_id != caller.id:
            # Another's message: only its SUPPRESS_EMBEDS flag, with MANAGE_MESSAGES.
            if (
                body.content is not None
                or body.embeds is not None
                or body.components is not None
                or (attachments is not None)
            ):
                raise ApiError(
                    403, CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
                )
            found.require(MANAGE_MESSAGES)
        if body.content:
            guild = ctx.guild_cache.reader(ctx.storage, found.channel.guild_id)
            await automod.enforce(ctx, found, caller.id, body.content, guild)
        shown = await message_core.edit_message(
            ctx, found.channel, message, body, editor_id=caller.id, member=found.member,
            can_mention_everyone=bool(found.permissions & MENTION_EVERYONE), attachments=attachments,
        )  # fmt: skip
    if attachments is not None:  # the files the edit dropped are no longer served
        dropped = {a["id"] for a in message.attachments} - {a["id"] for a in attachments}
        await forget_files(ctx.storage.blobs, found.channel.id,
                           tuple(a for a in message.attachments if a["id"] in dropped))  # fmt: skip
    return json_response(shown)


@routes.delete("/channels/{channel_id}/messages/{message_id}")
async def delete_message(request: web.Request) -> web.Response:
    caller, ctx, found, message = await addressed_message(request)
    message_id = message.id
    if message.author_id != caller.id:
        found.require(MANAGE_MESSAGES)
    if not await ctx.storage.delete_message(found.channel.id, message_id):
        raise unknown("message")
    await forget_files(ctx.storage.blobs, found.channel.id, message.attachments)
    d = {"id": str(message_id), "channel_id": str(found.channel.id)}
    if found.channel.guild_id:
        d["guild_id"] = str(found.channel.guild_id)
    await message_core.dispatch(ctx, found.channel, "MESSAGE_DELETE", d)
    return web.Response(status=204)


@routes.get("/channels/{channel_id}/messages")
async def history(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY)
    anchors = {k: query_id(request, k) for k in ("before", "after", "around")}
    if sum(v is not None for v in anchors.values()) > 1:
        raise invalid_form("around", "BASE_TYPE_BAD_COMBINATION", "Use only one of before, after, around.")
    limit = query_int(request, "limit", 50, 1, MAX_HISTORY_LIMIT)
    messages = await ctx.storage.history(HistoryQuery(found.channel.id, limit, **anchors))
    shared = [m for m in messages if not m.flags & EPHEMERAL]  # only its user ever sees one
    return json_response(await show_messages(ctx, shared, caller.id))
