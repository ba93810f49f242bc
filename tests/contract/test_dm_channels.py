"""DM channels on both backends: one per pair, whichever side opens it, listed for both users."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rayguild.storage import Storage


async def test_one_channel_per_pair(storage: Storage, new_id: Callable[[], int]) -> None:
    alice, bob, carol = new_id(), new_id(), new_id()
    first = await storage.open_dm(new_id(), alice, bob)
    again = await storage.open_dm(new_id(), bob, alice)
    assert again == first and first.users == (alice, bob)
    assert first.other(alice) == bob and first.other(bob) == alice
    other = await storage.open_dm(new_id(), carol, alice)
    assert other.id != first.id
    assert await storage.get_dm(first.id) == first
    assert await storage.get_dm(new_id()) is None
    assert await storage.list_dms(alice) == sorted([first, other], key=lambda c: c.id)
    assert await storage.list_dms(bob) == [first]
    assert await storage.list_dms(new_id()) == []


async def test_racing_opens_agree(storage: Storage, new_id: Callable[[], int]) -> None:
    alice, bob = new_id(), new_id()
    opened = await asyncio.gather(*(storage.open_dm(new_id(), *((alice, bob) if i % 2 else (bob, alice)))
                                    for i in range(6)))  # fmt: skip
    assert len({c.id for c in opened}) == 1
    assert await storage.list_dms(alice) == [opened[0]]
