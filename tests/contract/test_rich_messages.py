"""A message's rich parts (embeds, components, attachments, reply reference, mention roles,
flags, webhook and interaction fields) round-trip through every backend, and an edit replaces
them whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from rayguild.storage import HistoryQuery, Message, Storage
from rayguild.storage.models import MessageReference

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]

EMBED = {"type": "rich", "title": "Héllo", "fields": [{"name": "a", "value": "b", "inline": True}]}
ROW = {"type": 1, "id": 1, "components": [{"type": 2, "id": 2, "style": 1, "custom_id": "go", "label": "Go"}]}


def rich(new_id: NewId, channel: int) -> Message:
    return Message(
        id=new_id(), channel_id=channel, author_id=7, content="", guild_id=3, type=19,
        mention_ids=(8,), mention_role_ids=(11, 12), flags=4, embeds=(EMBED,), components=(ROW,),
        attachments=({"id": "5", "filename": "a.png", "size": 3, "url": "http://x/a.png"},),
        reference=MessageReference(99, channel, 3), application_id=44, webhook_id=45,
        author_override={"username": "hook", "avatar": None},
        interaction_metadata={"id": "46", "type": 2, "user": {"id": "8"}},
    )  # fmt: skip


async def test_rich_parts_round_trip(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    message = rich(new_id, channel)
    assert await storage.create_message(message) == message
    assert await storage.get_message(channel, message.id) == message
    assert await storage.history(HistoryQuery(channel)) == [message]
    plain = Message(id=new_id(), channel_id=channel, author_id=7, content="plain")
    await storage.create_message(plain)
    assert await storage.get_message(channel, plain.id) == plain


async def test_edit_replaces_rich_parts(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    message = rich(new_id, channel)
    await storage.create_message(message)
    edited = replace(message, content="now text", embeds=(), components=(), flags=0, mention_ids=(),
                     mention_role_ids=(), edited_at_ms=77)  # fmt: skip
    assert await storage.edit_message(edited) == edited
    assert await storage.get_message(channel, message.id) == edited
