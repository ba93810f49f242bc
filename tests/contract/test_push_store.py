"""Devices and push outboxes: the same behaviour on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rayguild.storage import Device, PendingPush, Storage

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]


async def test_devices_register_list_and_delete(storage: Storage, new_id: NewId) -> None:
    user = new_id()
    first = Device(user, "webhook", "http://127.0.0.1:1/a", 1)
    second = Device(user, "webhook", "http://127.0.0.1:1/b", 2)
    await storage.put_device(second)
    await storage.put_device(first)
    await storage.put_device(first)  # re-registering keeps one row
    assert await storage.list_devices(user) == [first, second]
    assert await storage.list_devices(new_id()) == []
    assert await storage.delete_device(user, first.token) is True
    assert await storage.delete_device(user, first.token) is False
    assert await storage.list_devices(user) == [second]


async def test_outbox_rows_page_by_key_and_delete(storage: Storage, new_id: NewId) -> None:
    shard = new_id() % 1_000_000
    rows = [PendingPush(shard, f"k{i:03d}", 7, "webhook", "http://x", f'{{"n":{i}}}', i) for i in range(5)]
    await storage.put_pushes(rows[3:] + rows[:3])
    await storage.put_pushes([rows[0]])  # the same key again stays one row
    assert await storage.list_pushes(shard) == rows
    assert await storage.list_pushes(shard, after="k001", limit=2) == rows[2:4]
    assert await storage.list_pushes(shard + 1) == []
    await storage.delete_pushes(shard, ["k000", "k003", "nope"])
    assert [p.key for p in await storage.list_pushes(shard)] == ["k001", "k002", "k004"]
    with pytest.raises(ValueError):
        await storage.list_pushes(shard, limit=0)
