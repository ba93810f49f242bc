"""Messages sent through ``/webhooks/{id}/{token}``: by a webhook, or by an application answering an
interaction (its callback, @original and followups). Create, read, edit and delete for
rest_interactions.py, interaction_callbacks.py and rest_webhooks.py.

A message that is not ephemeral is made by the one message core (``message_core``: validation,
mentions, durable write, MESSAGE_CREATE to the channel's viewers) with its ``webhook_id``,
``application_id``, ``interaction_metadata`` or webhook name; a ``HookMessage`` row then records
which hook sent it, so the hook's routes can address it. An ephemeral message (flag 64) never
enters the channel's store or history: it is kept only as a ``HookMessage`` for the token's 15
minutes and is delivered (created, updated, deleted) to the invoking user alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import orjson
import structlog

from rayguild.errors import RayguildError
from rayguild.http_api import message_core
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import unknown
from rayguild.http_api.message_core import EPHEMERAL, MessageBody
from rayguild.http_api.message_view import show_message
from rayguild.shapes import iso
from rayguild.shapes import message as message_shape
from rayguild.storage.bots_protocol import INTERACTION_TTL_S, HookMessage
from rayguild.storage.models import Channel, Message, User

Json = dict[str, Any]
log = structlog.get_logger("rayguild.http")

LOADING = 1 << 7
LOADING_BODY = MessageBody(content="")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a hook message is from and what every message of theirs carries. ``author`` is the
    stored author (the application's bot; for a webhook, an account-less user with the webhook's
    id); ``hook`` the webhook id or interaction token its routes use."""

    author: User
    hook: str
    ttl_s: int = 0
    author_override: Json | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: Json | None = None


def parse(
    body: Json, *, edit: bool = False, ephemeral_ok: bool = False, has_attachments: bool = False
) -> tuple[MessageBody, bool]:
    """The message body (validated by the message core) and whether it asks to be ephemeral."""
    flags = body.get("flags")
    ephemeral = False
    if ephemeral_ok and isinstance(flags, int) and not isinstance(flags, bool) and flags & EPHEMERAL:
        ephemeral, body = True, {**body, "flags": flags & ~EPHEMERAL}
    return message_core.parse_body(body, edit=edit, has_attachments=has_attachments), ephemeral


async def create(
    ctx: EdgeContext, channel: Channel, sender: Sender, body: MessageBody, *, type_: int = 0,
    flags: int = 0, ephemeral_to: int | None = None, attachments: tuple[Json, ...] = (),
) -> Json:  # fmt: skip
    """Create the message (with already stored ``attachments``); with ``ephemeral_to``, for that
    user only."""
    if ephemeral_to is None:
        shown = await message_core.create_message(
            ctx, channel, sender.author, body, webhook_id=sender.webhook_id, author_override=sender.author_override,
            application_id=sender.application_id, interaction_metadata=sender.interaction_metadata,
            flags=flags, message_type=type_, attachments=attachments,
        )  # fmt: skip
        record = HookMessage(sender.hook, int(shown["id"]), channel.id, "")
        await ctx.storage.put_hook_message(record, ttl_s=sender.ttl_s)
        return shown
    message = Message(
        id=ctx.snowflakes.next(), channel_id=channel.id, author_id=sender.author.id, content=body.content or "",
        guild_id=channel.guild_id, type=type_, flags=(body.flags or 0) | flags | EPHEMERAL,
        embeds=body.embeds or (), components=body.components or (), application_id=sender.application_id,
        webhook_id=sender.webhook_id, interaction_metadata=sender.interaction_metadata, attachments=attachments,
    )  # fmt: skip
    shown = message_shape(message, sender.author)
    await _keep(ctx, HookMessage(sender.hook, message.id, channel.id, "", ephemeral=True), shown)
    await tell(ctx, ephemeral_to, "MESSAGE_CREATE", shown)
    return shown


async def resolve(ctx: EdgeContext, channel_id: int, message_id: int) -> HookMessage | None:
    """A message a hook route or a component may address: an ephemeral one (its kept body) or a
    stored one (``hook`` empty when no hook sent it)."""
    found = await ctx.storage.locate_hook_message(message_id)
    if found is not None and found.channel_id == channel_id:
        return found
    stored = await ctx.storage.get_message(channel_id, message_id)
    return None if stored is None else HookMessage("", message_id, channel_id, "")


async def show(ctx: EdgeContext, found: HookMessage, viewer_id: int) -> Json:
    if found.ephemeral:
        shown: Json = orjson.loads(found.body)
        return shown
    message = await ctx.storage.get_message(found.channel_id, found.id)
    if message is None:
        raise unknown("message")
    return await show_message(ctx, message, viewer_id)


async def edit(
    ctx: EdgeContext,
    channel: Channel,
    found: HookMessage,
    body: MessageBody,
    editor_id: int,
    viewer: int | None,
    attachments: tuple[Json, ...] | None = None,
) -> Json:
    """Apply an edit body (``attachments``: the files the message keeps, None: unchanged); a
    loading (deferred) message stops loading. Ephemeral ones reach ``viewer`` only."""
    if not found.ephemeral:
        message = await ctx.storage.get_message(channel.id, found.id)
        if message is None:
            raise unknown("message")
        if message.flags & LOADING:
            message = replace(message, flags=message.flags & ~LOADING)
        return await message_core.edit_message(
            ctx, channel, message, body, editor_id=editor_id, attachments=attachments
        )
    shown: Json = orjson.loads(found.body)
    shown["edited_timestamp"] = iso(time.time_ns() // 1_000_000)
    for field in ("content", "embeds", "components"):
        if (value := getattr(body, field)) is not None:
            shown[field] = value if isinstance(value, str) else list(value)
    if attachments is not None:
        shown["attachments"] = list(attachments)
    if body.flags is not None:
        shown["flags"] = EPHEMERAL | body.flags
    shown["flags"] &= ~LOADING
    await _keep(ctx, found, shown)
    if viewer is not None:
        await tell(ctx, viewer, "MESSAGE_UPDATE", shown)
    return shown


async def delete(ctx: EdgeContext, channel: Channel, found: HookMessage, viewer: int | None) -> None:
    d = {"id": str(found.id), "channel_id": str(channel.id)}
    if channel.guild_id:
        d["guild_id"] = str(channel.guild_id)
    if found.hook:
        await ctx.storage.delete_hook_message(found.hook, found.id)
    if found.ephemeral:
        if viewer is not None:
            await tell(ctx, viewer, "MESSAGE_DELETE", d)
        return
    if not await ctx.storage.delete_message(channel.id, found.id):
        raise unknown("message")
    await message_core.dispatch(ctx, channel, "MESSAGE_DELETE", d)


async def tell(ctx: EdgeContext, user_id: int, t: str, d: Json) -> None:
    """An event for one user's sessions after a durable write (or an acknowledgement): a failure to
    reach the user's shard is logged, never turned into an error for what already succeeded."""
    try:
        await ctx.users.deliver([user_id], t, d)
    except RayguildError as exc:
        log.warning("user_event.failed", user_id=user_id, t=t, error=str(exc))


async def _keep(ctx: EdgeContext, found: HookMessage, shown: Json) -> None:
    record = replace(found, body=orjson.dumps(shown).decode())
    await ctx.storage.put_hook_message(record, ttl_s=INTERACTION_TTL_S)
