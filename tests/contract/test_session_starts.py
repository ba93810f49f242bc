"""Session-start records (identify limits): compare-and-set, the same on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rayguild.storage import SessionStarts, Storage

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]


async def test_a_record_is_created_once_then_swapped_version_by_version(
    storage: Storage, new_id: NewId
) -> None:
    user = new_id()
    assert await storage.get_session_starts(user) is None
    first = SessionStarts(user, 1, 1_000, 1, ((0, 1_000),))
    assert await storage.swap_session_starts(first) is True
    assert await storage.swap_session_starts(SessionStarts(user, 1, 5, 1)) is False  # exists already
    assert await storage.get_session_starts(user) == first
    second = SessionStarts(user, 2, 1_000, 2, ((0, 6_000), (3, 7_000)))
    assert await storage.swap_session_starts(second) is True
    assert await storage.swap_session_starts(SessionStarts(user, 2, 1_000, 9)) is False  # stale base
    assert await storage.swap_session_starts(SessionStarts(user, 4, 1_000, 9)) is False  # skipped one
    assert await storage.get_session_starts(user) == second


async def test_of_concurrent_swaps_from_one_version_exactly_one_wins(storage: Storage, new_id: NewId) -> None:
    user = new_id()
    assert await storage.swap_session_starts(SessionStarts(user, 1, 0, 1))
    tries = [SessionStarts(user, 2, 0, 2, ((n, n),)) for n in range(8)]
    won = await asyncio.gather(*(storage.swap_session_starts(t) for t in tries))
    assert sum(won) == 1
    assert await storage.get_session_starts(user) == tries[won.index(True)]
