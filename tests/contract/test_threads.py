"""Threads on both backends: metadata upsert that keeps counters, members (idempotent join,
paging, per-user index), message counters, listing by guild, delete."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from rayguild.storage import Storage
from rayguild.storage.thread_models import PRIVATE_THREAD, Thread, ThreadMember


def _thread(new_id: Callable[[], int], guild_id: int, **fields: object) -> Thread:
    base = Thread(id=new_id(), guild_id=guild_id, parent_id=new_id(), owner_id=new_id(), name="t",
                  archive_timestamp_ms=1_000, created_at_ms=1_000)  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


async def test_put_get_list_delete(storage: Storage, new_id: Callable[[], int]) -> None:
    guild = new_id()
    first = _thread(new_id, guild, applied_tags=(5, 6), rate_limit_per_user=30)
    second = _thread(new_id, guild, type=PRIVATE_THREAD, invitable=False, auto_archive_duration=60)
    other = _thread(new_id, new_id())
    for t in (first, second, other):
        await storage.put_thread(t)
    assert await storage.get_thread(first.id) == first
    assert await storage.get_thread(second.id) == second
    assert await storage.list_threads(guild) == [first, second]
    archived = replace(first, archived=True, locked=True, name="renamed", archive_timestamp_ms=2_000)
    await storage.put_thread(archived)
    assert await storage.get_thread(first.id) == archived
    await storage.delete_thread(first.id)
    assert await storage.get_thread(first.id) is None
    assert await storage.list_threads(guild) == [second]
    assert await storage.get_thread(new_id()) is None


async def test_counters_survive_metadata_writes(storage: Storage, new_id: Callable[[], int]) -> None:
    thread = _thread(new_id, new_id())
    await storage.put_thread(thread)
    ids = [new_id() for _ in range(4)]
    await asyncio.gather(*(storage.count_thread_message(thread.id, m, 1) for m in ids))
    await storage.count_thread_message(thread.id, ids[0], -1)
    await storage.put_thread(replace(thread, name="renamed"))
    got = await storage.get_thread(thread.id)
    assert got is not None
    assert (got.message_count, got.total_message_sent, got.name) == (3, 4, "renamed")
    assert got.last_message_id is not None and got.last_message_id in ids


async def test_members(storage: Storage, new_id: Callable[[], int]) -> None:
    thread = _thread(new_id, new_id())
    await storage.put_thread(thread)
    users = sorted(new_id() for _ in range(5))
    joined = await asyncio.gather(
        *(storage.add_thread_member(ThreadMember(thread.id, u, 1_000 + i)) for i, u in enumerate(users))
    )
    assert all(joined)
    assert not await storage.add_thread_member(ThreadMember(thread.id, users[0], 9_999))
    assert await storage.get_thread_member(thread.id, users[0]) == ThreadMember(thread.id, users[0], 1_000)
    got = await storage.get_thread(thread.id)
    assert got is not None and got.member_count == 5
    page = await storage.list_thread_members(thread.id, after=0, limit=2)
    assert [m.user_id for m in page] == users[:2]
    rest = await storage.list_thread_members(thread.id, after=users[1], limit=100)
    assert [m.user_id for m in rest] == users[2:]
    assert await storage.threads_of_user(users[3]) == [thread.id]
    assert await storage.remove_thread_member(thread.id, users[3])
    assert not await storage.remove_thread_member(thread.id, users[3])
    assert await storage.get_thread_member(thread.id, users[3]) is None
    assert await storage.threads_of_user(users[3]) == []
    await storage.delete_thread(thread.id)
    assert await storage.threads_of_user(users[0]) == []
    assert await storage.list_thread_members(thread.id) == []


async def test_racing_joins_count_once(storage: Storage, new_id: Callable[[], int]) -> None:
    thread = _thread(new_id, new_id())
    await storage.put_thread(thread)
    user = new_id()
    joins = await asyncio.gather(
        *(storage.add_thread_member(ThreadMember(thread.id, user, i)) for i in range(5))
    )
    assert sorted(joins) == [False] * 4 + [True]
    got = await storage.get_thread(thread.id)
    assert got is not None and got.member_count == 1
