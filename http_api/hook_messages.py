"""Messages sent through ``/webhooks/{id}/{token}``: by a webhook, or by an application answering an
interaction (its callback, @original and followups). One body parser, one way to create, edit and
delete them, used by rest_interactions.py and rest_webhooks.py.

A message that is not ephemeral is written to the channel's message store (so history has it) and
its full shape (author override, embeds, components, flags, ``interaction_metadata``,
``webhook_id``, ``application_id``) is kept as a ``HookMessage``; both writes are durable before the
response, then MESSAGE_CREATE / UPDATE / DELETE go to the channel's viewers. An ephemeral message
(flag 64) is kept only as a ``HookMessage`` for the interaction token's 15 minutes and is
delivered to the invoking user alone, never to the channel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from rayguild.actors.commands import Publish
from rayguild.fanout.events import GUILD_MESSAGES
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import EMPTY_MESSAGE, ApiError, invalid_form, unknown
from rayguild.http_api.notify import publish
from rayguild.shapes import iso
from rayguild.shapes import message as message_shape
from rayguild.storage.bots_protocol import INTERACTION_TTL_S, HookMessage
from rayguild.storage.models import Channel, Message, User

Json = dict[str, Any]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
SETTABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_ROWS = 5
MAX_ROW_ITEMS = 5
BUTTON, SELECT_TYPES, TEXT_INPUT = 2, frozenset({3, 5, 6, 7, 8}), 4


@dataclass(frozen=True, slots=True)
class Draft:
    """What a request asks the message to be; None: leave as it is (an edit)."""

    content: str | None = None
    embeds: list[Json] | None = None
    components: list[Json] | None = None
    flags: int | None = None
    tts: bool = False


def _components(raw: Any, path: str) -> list[Json]:
    if not isinstance(raw, list) or len(raw) > MAX_ROWS:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ROWS} or fewer in length.")
    for i, row in enumerate(raw):
        where = f"{path}.{i}"
        if not isinstance(row, dict) or row.get("type") != 1:
            raise invalid_form(
                f"{where}.type", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Top-level components must be action rows"
            )
        items = row.get("components")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ROW_ITEMS:
            raise invalid_form(
                f"{where}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        for j, item in enumerate(items):
            _component(item, f"{where}.components.{j}", len(items))
    return _numbered(raw)


def _numbered(rows: list[Json]) -> list[Json]:
    """Every component gets Discord's numeric ``id`` (1, 2, ... in reading order) unless it has one."""
    counter = 0

    def number(component: Json) -> Json:
        nonlocal counter
        counter += 1
        out = {**component, "id": component.get("id", counter)}
        if "components" in component:
            out["components"] = [number(c) for c in component["components"]]
        return out

    return [number(row) for row in rows]


def _component(item: Any, path: str, row_size: int) -> None:
    kind = item.get("type") if isinstance(item, dict) else None
    if kind == BUTTON:
        style = item.get("style")
        if style not in range(1, 7):
            raise invalid_form(
                f"{path}.style", "ENUM_TYPE_COERCE", f'Value "{style}" is not a valid enum value.'
            )
        key = "url" if style == 5 else "sku_id" if style == 6 else "custom_id"
        if not isinstance(item.get(key), str) or not 1 <= len(item[key]) <= (512 if key == "url" else 100):
            raise invalid_form(f"{path}.{key}", "BASE_TYPE_REQUIRED", "This field is required")
        return
    if kind in SELECT_TYPES or kind == TEXT_INPUT:
        if kind != TEXT_INPUT and row_size != 1:
            raise invalid_form(path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select menu fills its action row")
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
            raise invalid_form(f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
        if kind == 3 and (not isinstance(item.get("options"), list) or not 1 <= len(item["options"]) <= 25):
            raise invalid_form(
                f"{path}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length."
            )
        return
    raise invalid_form(f"{path}.type", "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')


def draft(body: Json, *, editing: bool = False, allow_flags: int = SETTABLE_FLAGS) -> Draft:
    """The message a webhook or interaction body asks for (400 50035 / 50006 as Discord)."""
    content = body.get("content")
    if content is not None and (not isinstance(content, str) or len(content) > MAX_CONTENT):
        raise invalid_form("content", "BASE_TYPE_BAD_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = body.get("embeds")
    if embeds is not None and (
        not isinstance(embeds, list)
        or len(embeds) > MAX_EMBEDS
        or not all(isinstance(e, dict) for e in embeds)
    ):
        raise invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    components = None if body.get("components") is None else _components(body["components"], "components")
    flags = body.get("flags")
    if flags is not None and (isinstance(flags, bool) or not isinstance(flags, int) or flags & ~allow_flags):
        raise invalid_form("flags", "MESSAGE_FLAGS_INVALID", "Invalid message flags")
    if not editing and not content and not embeds and not components:
        raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")
    return Draft(content, embeds, components, flags, body.get("tts") is True)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a hook message is from: the stored author id, the author object shown, and the fields
    every message of this sender carries (``webhook_id``, ``application_id``, ``interaction_metadata``)."""

    author_id: int
    author: Json
    extras: Json
    hook: str


def _shown(message: Message, sender: Sender, d: Draft, type_: int) -> Json:
    out = message_shape(message, User(id=sender.author_id, username=sender.author["username"]))
    out.update(author=sender.author, type=type_, tts=d.tts, embeds=d.embeds or [],
               components=d.components or [], flags=d.flags or 0, **sender.extras)  # fmt: skip
    return out


async def create(
    ctx: EdgeContext, channel: Channel, sender: Sender, d: Draft, *, type_: int = 0,
    ephemeral_to: int | None = None,
) -> Json:  # fmt: skip
    """Create the message; ephemeral (flag 64 with ``ephemeral_to``) only for that user."""
    ephemeral = bool((d.flags or 0) & EPHEMERAL) and ephemeral_to is not None
    message = Message(
        id=ctx.snowflakes.next(), channel_id=channel.id, author_id=sender.author_id,
        content=d.content or "", guild_id=channel.guild_id, type=type_,
    )  # fmt: skip
    shown = _shown(message, sender, d, type_)
    if not ephemeral:
        await ctx.storage.create_message(message)
    await _keep(ctx, sender.hook, channel.id, shown, ephemeral)
    await _announce(ctx, channel, "MESSAGE_CREATE", shown, ephemeral_to if ephemeral else None)
    return shown


async def edit(ctx: EdgeContext, channel: Channel, found: HookMessage, d: Draft, viewer: int | None) -> Json:
    """Apply the draft's fields to a stored hook message (ephemeral ones reach ``viewer`` only)."""
    shown = orjson.loads(found.body)
    now_ms = time.time_ns() // 1_000_000
    changes: Json = {"edited_timestamp": iso(now_ms)}
    for field in ("content", "embeds", "components"):
        if getattr(d, field) is not None:
            changes[field] = getattr(d, field)
    if d.flags is not None:
        changes["flags"] = (shown["flags"] & EPHEMERAL) | d.flags
    shown.update(changes)
    shown["flags"] &= ~LOADING
    if (
        not found.ephemeral
        and await ctx.storage.edit_message(channel.id, found.id, shown["content"], now_ms) is None
    ):
        raise unknown("message")
    await _keep(ctx, found.hook, channel.id, shown, found.ephemeral)
    await _announce(ctx, channel, "MESSAGE_UPDATE", shown, viewer if found.ephemeral else None)
    return dict(shown)


async def delete(ctx: EdgeContext, channel: Channel, found: HookMessage, viewer: int | None) -> None:
    if not found.ephemeral:
        await ctx.storage.delete_message(channel.id, found.id)
    await ctx.storage.delete_hook_message(found.hook, found.id)
    d = {"id": str(found.id), "channel_id": str(channel.id), "guild_id": str(channel.guild_id)}
    await _announce(ctx, channel, "MESSAGE_DELETE", d, viewer if found.ephemeral else None)


async def _keep(ctx: EdgeContext, hook: str, channel_id: int, shown: Json, ephemeral: bool) -> None:
    stored = HookMessage(hook, int(shown["id"]), channel_id, orjson.dumps(shown).decode(), ephemeral)
    await ctx.storage.put_hook_message(stored, ttl_s=INTERACTION_TTL_S if ephemeral else 0)


async def _announce(ctx: EdgeContext, channel: Channel, t: str, d: Json, only: int | None) -> None:
    if only is not None:
        await ctx.users.deliver([only], t, d)
        return
    await publish(ctx, Publish(channel.guild_id, t, d, channel_id=channel.id, intent=GUILD_MESSAGES))
