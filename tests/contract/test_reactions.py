"""Reactions and pins: the same behaviour on every backend (counts with ``me``, users paged in
id order, removal per user / per emoji / all, pins newest first, both gone with their message)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rayguild.storage import HistoryQuery, Message, Storage
from rayguild.storage.models import Pin, ReactionCount

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]
THUMBS = "\N{THUMBS UP SIGN}"
CUSTOM = "party:123456789012345678"


async def message_in(storage: Storage, new_id: NewId, channel: int) -> Message:
    message = Message(id=new_id(), channel_id=channel, author_id=7, content="react to me")
    await storage.create_message(message)
    return message


async def test_reactions_count_and_list(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    m = await message_in(storage, new_id, channel)
    other = await message_in(storage, new_id, channel)
    assert (await storage.get_message(channel, m.id)).reacted is False  # type: ignore[union-attr]
    assert await storage.add_reaction(channel, m.id, THUMBS, 30) is True
    assert await storage.add_reaction(channel, m.id, THUMBS, 30) is False
    for user in (10, 20):
        assert await storage.add_reaction(channel, m.id, THUMBS, user)
    assert await storage.add_reaction(channel, m.id, CUSTOM, 20)
    assert (await storage.get_message(channel, m.id)).reacted is True  # type: ignore[union-attr]
    assert [x.reacted for x in await storage.history(HistoryQuery(channel))] == [False, True]
    counts = await storage.reaction_counts(channel, [m.id, other.id], viewer_id=20)
    assert sorted(counts[m.id], key=lambda c: c.emoji) == sorted(
        [ReactionCount(THUMBS, 3, True), ReactionCount(CUSTOM, 1, True)], key=lambda c: c.emoji
    )
    assert other.id not in counts
    mine = await storage.reaction_counts(channel, [m.id], viewer_id=30)
    assert {c.emoji: c.me for c in mine[m.id]} == {THUMBS: True, CUSTOM: False}
    assert await storage.reaction_users(channel, m.id, THUMBS) == [10, 20, 30]
    assert await storage.reaction_users(channel, m.id, THUMBS, after=10, limit=1) == [20]
    assert await storage.reaction_users(channel, m.id, "nope") == []


async def test_reactions_are_removed(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    m = await message_in(storage, new_id, channel)
    for emoji in (THUMBS, CUSTOM):
        for user in (1, 2, 3):
            await storage.add_reaction(channel, m.id, emoji, user)
    assert await storage.remove_reaction(channel, m.id, THUMBS, 2) is True
    assert await storage.remove_reaction(channel, m.id, THUMBS, 2) is False
    assert await storage.reaction_users(channel, m.id, THUMBS) == [1, 3]
    await storage.remove_reactions(channel, m.id, CUSTOM)
    counts = await storage.reaction_counts(channel, [m.id], viewer_id=1)
    assert counts[m.id] == [ReactionCount(THUMBS, 2, True)]
    await storage.remove_reactions(channel, m.id)
    assert await storage.reaction_counts(channel, [m.id], viewer_id=1) == {}


async def test_pins(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    a, b = await message_in(storage, new_id, channel), await message_in(storage, new_id, channel)
    assert await storage.pin_message(channel, a.id, 1000) is True
    assert await storage.pin_message(channel, a.id, 3000) is False
    assert await storage.pin_message(channel, b.id, 2000) is True
    assert await storage.list_pins(channel) == [Pin(b.id, 2000), Pin(a.id, 1000)]
    assert (await storage.get_message(channel, a.id)).pinned is True  # type: ignore[union-attr]
    assert await storage.unpin_message(channel, a.id) is True
    assert await storage.unpin_message(channel, a.id) is False
    assert (await storage.get_message(channel, a.id)).pinned is False  # type: ignore[union-attr]
    assert await storage.list_pins(channel) == [Pin(b.id, 2000)]


async def test_deleting_a_message_drops_its_reactions_and_pin(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    m = await message_in(storage, new_id, channel)
    await storage.add_reaction(channel, m.id, THUMBS, 5)
    await storage.pin_message(channel, m.id, 10)
    assert await storage.delete_message(channel, m.id)
    assert await storage.list_pins(channel) == []
    assert await storage.reaction_users(channel, m.id, THUMBS) == []
    assert await storage.get_message(channel, m.id) is None
    # a reaction or pin racing the delete never brings the message back
    await storage.add_reaction(channel, m.id, THUMBS, 6)
    await storage.pin_message(channel, m.id, 11)
    assert await storage.get_message(channel, m.id) is None
    assert await storage.history(HistoryQuery(channel)) == []
