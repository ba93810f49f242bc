"""Outages: a write the database cannot confirm raises StorageUnavailable at once, nothing acknowledged
is lost, and the same storage object works again when the database returns.

The scylla case really stops the Cassandra node (scripts/cassandra.sh stop) and restarts it on the
same data dir; the sqlite case holds an exclusive lock on the file, or puts a folder in its place.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rayguild.errors import StorageUnavailable
from rayguild.storage import HistoryQuery, Message, ScyllaStorage, SqliteStorage, Storage

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]
REPO = Path(__file__).resolve().parents[2]


async def cassandra(command: str, timeout_s: float = 300) -> None:
    proc = await asyncio.create_subprocess_exec("bash", str(REPO / "scripts/cassandra.sh"), command)
    assert await asyncio.wait_for(proc.wait(), timeout_s) == 0, f"cassandra.sh {command} failed"


async def all_messages(storage: Storage, channel: int) -> list[int]:
    seen: list[int] = []
    before: int | None = None
    while page := await storage.history(HistoryQuery(channel, before=before, limit=100)):
        seen += [m.id for m in page]
        before = page[-1].id
    return seen


async def write_until_refused(
    storage: Storage, channel: int, new_id: NewId, refused_s: float
) -> tuple[list[int], list[float]]:
    """Write without pause; return the acknowledged ids and how long each refused write took."""
    acked: list[int] = []
    refusals: list[float] = []
    give_up = time.monotonic() + 120
    while len(refusals) < 5 and time.monotonic() < give_up:
        message = Message(id=new_id(), channel_id=channel, author_id=1, content="x")
        started = time.monotonic()
        try:
            await storage.create_message(message)
            acked.append(message.id)
        except StorageUnavailable:
            refusals.append(time.monotonic() - started)
            await asyncio.sleep(refused_s / 5)
    return acked, refusals


@pytest.mark.cassandra
async def test_cassandra_outage_loses_nothing_and_recovers(
    new_id: NewId, scylla_factory: Callable[..., ScyllaStorage]
) -> None:
    storage = scylla_factory(request_timeout_s=2.0)
    await storage.start()
    try:
        channel = new_id()
        before_outage = [new_id() for _ in range(200)]
        for message_id in before_outage:
            await storage.create_message(Message(id=message_id, channel_id=channel, author_id=1,
                                                 content="kept"))  # fmt: skip
        writer = asyncio.ensure_future(write_until_refused(storage, channel, new_id, 1.0))
        await asyncio.sleep(0.5)
        await cassandra("stop")
        acked, refusals = await writer
        assert len(refusals) == 5, "writes kept succeeding with the node stopped"
        assert max(refusals[1:]) < 3.0, f"refusals were slow: {refusals}"
        with pytest.raises(StorageUnavailable):
            await storage.history(HistoryQuery(channel))

        await cassandra("restart")
        deadline = time.monotonic() + 90
        while True:  # the same object reconnects by itself
            try:
                seen = await all_messages(storage, channel)
                break
            except StorageUnavailable:
                assert time.monotonic() < deadline, "storage did not reconnect within 90 s"
                await asyncio.sleep(0.5)
        assert set(before_outage + acked) <= set(seen)
        late = Message(id=new_id(), channel_id=channel, author_id=1, content="after")
        assert await storage.create_message(late) == late
        assert (await storage.history(HistoryQuery(channel, limit=1)))[0] == late
    finally:
        await storage.close()


async def test_sqlite_locked_file_is_unavailable_then_recovers(tmp_path: Path, new_id: NewId) -> None:
    path = tmp_path / "locked.sqlite3"
    storage = SqliteStorage(path, busy_timeout_s=0.2)
    await storage.start()
    try:
        channel = new_id()
        kept = Message(id=new_id(), channel_id=channel, author_id=1, content="kept")
        await storage.create_message(kept)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="locked"):
            await storage.create_message(Message(id=new_id(), channel_id=channel, author_id=1,
                                                 content="refused"))  # fmt: skip
        assert time.monotonic() - started < 2.0
        other.execute("ROLLBACK")
        other.close()
        late = Message(id=new_id(), channel_id=channel, author_id=1, content="after")
        assert await storage.create_message(late) == late
        assert await storage.history(HistoryQuery(channel)) == [late, kept]
    finally:
        await storage.close()


async def test_sqlite_unusable_path_is_unavailable_then_recovers(tmp_path: Path, new_id: NewId) -> None:
    path = tmp_path / "in-the-way.sqlite3"
    path.mkdir()  # a folder where the database file should be
    storage = SqliteStorage(path)
    try:
        with pytest.raises(StorageUnavailable, match="unable to open"):
            await storage.start()
        path.rmdir()
        await storage.start()
        message = Message(id=new_id(), channel_id=new_id(), author_id=1, content="ok")
        assert await storage.create_message(message) == message
    finally:
        await storage.close()
