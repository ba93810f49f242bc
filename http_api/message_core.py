"""The one way a message is made: validate the body, persist it durably, dispatch it, show it.

REST sends, interaction responses, webhook executions and DMs all call ``create_message``:
1. ``parse_body`` validates what the client sent as Discord does (content 0-2000 characters,
   optional when embeds, attachments, components or stickers are present, else 400 50006;
   embeds and components to Discord's limits; ``allowed_mentions``; ``message_reference``;
   ``flags``; ``nonce``), raising 400 50035 with the bad field's path;
2. mentions are computed from the content (``rayguild.http_api.mentions``); a reply resolves its
   original (400 50035 when it is gone and ``fail_if_not_exists`` is not false);
3. the message is stored and durable before anything else (a nonce retry returns the first
   message, which is not dispatched again);
4. MESSAGE_CREATE goes to the sessions that may see the channel (not for an ephemeral message,
   which its caller delivers to the one user who may see it), and mentioned users without a
   session get a push notification (unless the message has SUPPRESS_NOTIFICATIONS);
5. the message object is returned as the author sees it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from rayguild.actors.commands import Publish
from rayguild.fanout.events import DIRECT_MESSAGES, GUILD_MESSAGES
from rayguild.http_api import dms, push_notify, thread_events
from rayguild.http_api.components import components
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.embeds import embeds
from rayguild.http_api.errors import EMPTY_MESSAGE, ApiError, invalid_form, unknown
from rayguild.http_api.forms import snowflake, text
from rayguild.http_api.mentions import ROLE, AllowedMentions, allowed_mentions, mentions
from rayguild.http_api.message_view import show_message
from rayguild.http_api.notify import publish
from rayguild.shapes import REPLY, SUPPRESS_EMBEDS
from rayguild.storage.models import Channel, Member, Message, MessageReference, Role, User
from rayguild.storage.thread_models import THREAD_TYPES

Json = dict[str, Any]

MAX_CONTENT = 2000
MAX_NONCE = 25
MAX_STICKERS = 3
EPHEMERAL = 1 << 6
SUPPRESS_NOTIFICATIONS = 1 << 12
# The flags a client may set on a message it sends or edits.
CLIENT_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """A validated ``message_reference`` (the channel defaults to the one sent in)."""

    message_id: int
    channel_id: int | None
    fail_if_not_exists: bool = True


@dataclass(frozen=True, slots=True)
class MessageBody:
    """What a client asked for, validated; fields it did not send are None (for edits)."""

    content: str | None
    embeds: tuple[Json, ...] | None = None
    components: tuple[Json, ...] | None = None
    flags: int | None = None
    allowed: AllowedMentions = field(default_factory=AllowedMentions)
    reply_to: ReplyTo | None = None
    nonce: str | None = None
    sticker_ids: tuple[int, ...] = ()


def parse_body(body: Json, *, has_attachments: bool = False, edit: bool = False) -> MessageBody:
    """Validate a create (or, with ``edit``, an edit) body. A create with nothing to show is
    400 50006; ``has_attachments`` says files came with it (multipart)."""
    content = body.get("content")
    content = None if content is None else text(body, "content", 0, MAX_CONTENT)
    parsed = MessageBody(
        content=content,
        embeds=embeds(body) if "embeds" in body else None,
        components=components(body) if "components" in body else None,
        flags=_flags(body),
        allowed=allowed_mentions(body),
        reply_to=None if edit else _reply_to(body),
        nonce=None if edit else _nonce(body),
        sticker_ids=() if edit else _stickers(body),
    )
    if not edit and not (
        content or parsed.embeds or parsed.components or has_attachments or parsed.sticker_ids
    ):
        raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")
    return parsed


def _nonce(body: Json) -> str | None:
    value = body.get("nonce")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > MAX_NONCE:
        raise invalid_form("nonce", "BASE_TYPE_BAD_LENGTH", f"Must be {MAX_NONCE} or fewer in length.")
    return str(value)


def _flags(body: Json) -> int | None:
    value = body.get("flags")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value & ~CLIENT_FLAGS:
        raise invalid_form(
            "flags", "MESSAGE_FLAGS_INVALID", "Only SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS can be set."
        )
    return value


def _reply_to(body: Json) -> ReplyTo | None:
    raw = body.get("message_reference")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_form(
            "message_reference", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
        )
    if raw.get("type", 0) != 0:
        raise invalid_form(
            "message_reference.type", "BASE_TYPE_CHOICES", "Only replies (type 0) are supported."
        )
    if raw.get("message_id") is None:
        raise invalid_form("message_reference.message_id", "BASE_TYPE_REQUIRED", "This field is required")
    fail = raw.get("fail_if_not_exists", True)
    if not isinstance(fail, bool):
        raise invalid_form(
            "message_reference.fail_if_not_exists", "BASE_TYPE_BOOLEAN", "Must be either true or false."
        )
    channel = raw.get("channel_id")
    return ReplyTo(
        snowflake(raw["message_id"], "message_reference.message_id"),
        None if channel is None else snowflake(channel, "message_reference.channel_id"),
        fail,
    )


def _stickers(body: Json) -> tuple[int, ...]:
    value = body.get("sticker_ids")
    if not value:
        return ()
    if not isinstance(value, list) or len(value) > MAX_STICKERS:
        raise invalid_form(
            "sticker_ids", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_STICKERS} or fewer in length."
        )
    # No stickers exist on this server, so any id names an unknown one.
    raise invalid_form("sticker_ids.0", "STICKER_UNKNOWN", "Unknown sticker.")


async def _roles_if_mentioned(ctx: EdgeContext, channel: Channel, content: str) -> list[Role]:
    """The guild's roles when ``content`` mentions one (no read for the usual message)."""
    if not channel.guild_id or not ROLE.search(content):
        return []
    return await ctx.storage.list_roles(channel.guild_id)


async def _replied(ctx: EdgeContext, channel: Channel, reply_to: ReplyTo | None) -> Message | None:
    if reply_to is None:
        return None
    if reply_to.channel_id not in (None, channel.id):
        raise invalid_form("message_reference.channel_id", "REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL",
                           "Cannot reply to a message in another channel.")  # fmt: skip
    original = await ctx.storage.get_message(channel.id, reply_to.message_id)
    if original is None and reply_to.fail_if_not_exists:
        raise invalid_form(
            "message_reference.message_id", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
        )
    return original


async def create_message(
    ctx: EdgeContext,
    channel: Channel,
    author: User,
    body: MessageBody,
    *,
    member: Member | None = None,
    can_mention_everyone: bool = False,
    attachments: tuple[Json, ...] = (),
    webhook_id: int | None = None,
    author_override: Json | None = None,
    application_id: int | None = None,
    interaction_metadata: Json | None = None,
    flags: int = 0,
    message_type: int | None = None,
) -> Json:
    """Store ``body`` as a message by ``author`` in ``channel``, dispatch it, return it as shown.

    - ``member``: the author's member record, shown with the message in a guild;
    - ``can_mention_everyone``: the author holds MENTION_EVERYONE (roles and @everyone ping);
    - ``attachments``: already stored files, as Discord attachment objects (served by the edge);
    - ``webhook_id`` / ``author_override``: a webhook's message, shown under
      ``{"username", "avatar"}`` with the webhook's id as the author id;
    - ``application_id`` / ``interaction_metadata``: a message made by an interaction;
    - ``flags``: flags the server sets (EPHEMERAL for an ephemeral response: stored, returned,
      but not dispatched to the channel), OR'ed with the client's;
    - ``message_type``: 20 for a chat-input command response, 0 by default (19 for a reply).
    """
    original = await _replied(ctx, channel, body.reply_to)
    roles = await _roles_if_mentioned(ctx, channel, body.content or "")
    found = mentions(
        body.content or "", body.allowed, roles=roles, can_mention_everyone=can_mention_everyone,
        replied_author_id=original.author_id if original is not None else None,
    )  # fmt: skip
    existing = await ctx.storage.get_users(list(found.user_ids)) if found.user_ids else {}
    draft = Message(
        id=ctx.snowflakes.next(), channel_id=channel.id, author_id=author.id,
        content=body.content or "", guild_id=channel.guild_id or None,
        type=message_type if message_type is not None else (REPLY if original else 0),
        nonce=body.nonce, mention_ids=tuple(u for u in found.user_ids if u in existing),
        mention_everyone=found.everyone, mention_role_ids=found.role_ids,
        flags=(body.flags or 0) | flags, embeds=body.embeds or (), components=body.components or (),
        attachments=attachments,
        reference=MessageReference(original.id, channel.id, channel.guild_id or None) if original else None,
        application_id=application_id, webhook_id=webhook_id, author_override=author_override,
        interaction_metadata=interaction_metadata,
    )  # fmt: skip
    stored = await ctx.storage.create_message(draft)
    shown = await show_message(ctx, stored, author.id, member)
    if stored.id == draft.id and not stored.flags & EPHEMERAL:  # a nonce retry was dispatched before
        await dispatch(ctx, channel, "MESSAGE_CREATE", shown)
        if not stored.flags & SUPPRESS_NOTIFICATIONS:
            await push_notify.mentions(ctx, stored, shown["author"])
    return shown


async def dispatch(
    ctx: EdgeContext, channel: Channel, t: str, d: Json,
    intent: int = GUILD_MESSAGES, dm_intent: int = DIRECT_MESSAGES,
) -> None:  # fmt: skip
    """Send an event of ``channel`` (MESSAGE_* by default) to the sessions that may see it and
    asked for ``intent`` (in a DM: both users' sessions that asked for ``dm_intent``, through
    the user path)."""
    if channel.type == dms.DM:
        await dms.deliver(ctx, channel.id, t, d, dm_intent)
        return
    if channel.type in THREAD_TYPES:  # the thread's viewers, and its counters
        await thread_events.dispatch_message(ctx, channel, t, d, intent)
        return
    await publish(ctx, Publish(channel.guild_id, t, d, channel_id=channel.id, intent=intent))


async def edit_message(
    ctx: EdgeContext,
    channel: Channel,
    message: Message,
    body: MessageBody,
    *,
    editor_id: int,
    member: Member | None = None,
    can_mention_everyone: bool = False,
    attachments: tuple[Json, ...] | None = None,
) -> Json:
    """Apply an edit ``body`` (from ``parse_body(..., edit=True)``) to ``message``, store it,
    dispatch MESSAGE_UPDATE, return it as ``editor_id`` sees it (``member``: the editor's, shown
    when the editor is the author). Fields the body leaves out keep
    their value; ``attachments`` (when given) replaces the kept files. An edit that leaves
    nothing to show is 400 50006; a message deleted meanwhile is 404 10008."""
    content = message.content if body.content is None else body.content
    kept_flags = message.flags & ~CLIENT_FLAGS
    edited = Message(
        **{f: getattr(message, f) for f in _KEPT},
        content=content,
        edited_at_ms=time.time_ns() // 1_000_000,
        embeds=message.embeds if body.embeds is None else body.embeds,
        components=message.components if body.components is None else body.components,
        attachments=message.attachments if attachments is None else attachments,
        flags=message.flags if body.flags is None else kept_flags | body.flags,
    )
    if not (edited.content or edited.embeds or edited.components or edited.attachments):
        raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")
    if body.content is not None:
        roles = await _roles_if_mentioned(ctx, channel, content)
        found = mentions(content, body.allowed, roles=roles, can_mention_everyone=can_mention_everyone)
        existing = await ctx.storage.get_users(list(found.user_ids)) if found.user_ids else {}
        edited = replace(
            edited, mention_ids=tuple(u for u in found.user_ids if u in existing),
            mention_role_ids=found.role_ids, mention_everyone=found.everyone,
        )  # fmt: skip
    stored = await ctx.storage.edit_message(edited)
    if stored is None:
        raise unknown("message")
    shown = await show_message(ctx, stored, editor_id, member if message.author_id == editor_id else None)
    if not stored.flags & EPHEMERAL:
        await dispatch(ctx, channel, "MESSAGE_UPDATE", shown)
    return shown


# What an edit never changes.
_KEPT = (
    "id", "channel_id", "author_id", "guild_id", "type", "nonce", "mention_ids", "mention_everyone",
    "mention_role_ids", "sticker_ids", "reference", "application_id", "webhook_id",
    "author_override", "interaction_metadata", "pinned", "reacted",
)  # fmt: skip
