"""The blob store contract, on both backends: put/open/delete, chunking, bounded reads, failures."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from rayguild.storage import Storage, blobs_cql
from rayguild.storage.blobs import (
    CHUNK_BYTES,
    SWEEP_AGE_S,
    attachment_folder,
    attachment_key,
    check_key,
    read_all,
)
from rayguild.storage.blobs_dir import DirectoryBlobStore


async def _stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_then_read_back_byte_for_byte(storage: Storage, new_id: Callable[[], int]) -> None:
    key = attachment_key(new_id(), new_id())
    data = os.urandom(3 * CHUNK_BYTES + 12345)
    # Uneven pieces: the store must re-chunk, not trust the sender's boundaries.
    size = await storage.blobs.put(
        key, _stream(data[:100], data[100 : 2 * CHUNK_BYTES + 7], data[2 * CHUNK_BYTES + 7 :])
    )
    assert size == len(data)
    reader = await storage.blobs.open(key)
    assert reader is not None and reader.size == len(data)
    chunks = [chunk async for chunk in reader.chunks]
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= CHUNK_BYTES  # a reader never holds more than a chunk


async def test_a_reader_closed_early_lets_go(storage: Storage, new_id: Callable[[], int]) -> None:
    key = attachment_key(new_id(), new_id())
    await storage.blobs.put(key, _stream(b"z" * (3 * CHUNK_BYTES)))
    reader = await storage.blobs.open(key)
    assert reader is not None
    assert await anext(reader.chunks) == b"z" * CHUNK_BYTES
    await reader.chunks.aclose()
    assert await storage.blobs.delete(key) is True
    assert await storage.blobs.open(key) is None


async def test_empty_and_missing_blobs(storage: Storage, new_id: Callable[[], int]) -> None:
    key = attachment_key(new_id(), new_id())
    assert await storage.blobs.open(key) is None
    assert await storage.blobs.delete(key) is False
    assert await storage.blobs.put(key, _stream()) == 0
    assert await read_all(storage.blobs, key) == b""


async def test_delete_removes_the_blob(storage: Storage, new_id: Callable[[], int]) -> None:
    key, other = attachment_key(new_id(), new_id()), attachment_key(new_id(), new_id())
    await storage.blobs.put(key, _stream(b"x" * (CHUNK_BYTES + 1)))
    await storage.blobs.put(other, _stream(b"keep"))
    assert await storage.blobs.delete(key) is True
    assert await storage.blobs.open(key) is None
    assert await storage.blobs.delete(key) is False
    assert await read_all(storage.blobs, other) == b"keep"


async def test_replacing_a_key_serves_the_new_bytes(storage: Storage, new_id: Callable[[], int]) -> None:
    key = attachment_key(new_id(), new_id())
    await storage.blobs.put(key, _stream(b"a" * (2 * CHUNK_BYTES)))
    await storage.blobs.put(key, _stream(b"short"))
    assert await read_all(storage.blobs, key) == b"short"


async def test_a_failed_put_leaves_nothing_readable(storage: Storage, new_id: Callable[[], int]) -> None:
    key = attachment_key(new_id(), new_id())

    async def broken() -> AsyncIterator[bytes]:
        yield b"y" * (CHUNK_BYTES * 2)
        raise ConnectionResetError("the client went away mid-upload")

    with pytest.raises(ConnectionResetError):
        await storage.blobs.put(key, broken())
    assert await storage.blobs.open(key) is None


def test_keys_are_checked() -> None:
    assert check_key("attachments/1/2") == "attachments/1/2"
    for bad in ("../etc/passwd", "a//b", "A/b", "", "a/b/"):
        with pytest.raises(ValueError):
            check_key(bad)


async def test_delete_folder_removes_a_channels_blobs_only(
    storage: Storage, new_id: Callable[[], int]
) -> None:
    channel, neighbour = new_id(), new_id()
    keys = [attachment_key(channel, new_id()) for _ in range(3)]
    kept = attachment_key(neighbour, new_id())
    for key in [*keys, kept]:
        await storage.blobs.put(key, _stream(b"bytes of " + key.encode()))
    assert await storage.blobs.delete_folder(attachment_folder(channel)) == 3
    assert [await storage.blobs.open(key) for key in keys] == [None] * 3
    assert await read_all(storage.blobs, kept) == b"bytes of " + kept.encode()
    assert await storage.blobs.delete_folder(attachment_folder(channel)) == 0
    assert await storage.blobs.delete_folder(attachment_folder(new_id())) == 0


def _uuid1_made(ago_s: float) -> uuid.UUID:
    """A time-based UUID as uuid1 would have made it ``ago_s`` seconds ago."""
    t = int((time.time() - ago_s) * 10_000_000) + blobs_cql.UUID_EPOCH_100NS
    return uuid.UUID(fields=(t & 0xFFFFFFFF, (t >> 32) & 0xFFFF, ((t >> 48) & 0x0FFF) | 0x1000, 0x80, 0, 1))


async def _leftover(storage: Storage, key: str, ago_s: float) -> Callable[[], Awaitable[bool]]:
    """What a put that crashed ``ago_s`` ago left under ``key``; a check that it is still there."""
    if isinstance(storage.blobs, DirectoryBlobStore):
        path = storage.blobs.root / f"{key}.tmp-{uuid.uuid4().hex}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
        os.utime(path, (time.time() - ago_s, time.time() - ago_s))
        return lambda: asyncio.to_thread(path.exists)
    assert isinstance(storage.blobs, blobs_cql.CassandraBlobStore)
    cql, version = storage.blobs, _uuid1_made(ago_s)
    for chunk in range(2):
        await cql._run("chunk_put", key, version, chunk, b"half a blob")

    async def there() -> bool:
        return bool(await cql._run("chunk_get", key, version, 0))

    return there


async def test_sweep_removes_old_crash_leftovers_only(storage: Storage, new_id: Callable[[], int]) -> None:
    live = attachment_key(new_id(), new_id())
    await storage.blobs.put(live, _stream(b"live"))
    old = await _leftover(storage, attachment_key(new_id(), new_id()), SWEEP_AGE_S + 60)
    beside_live = await _leftover(storage, live, SWEEP_AGE_S + 60)  # an old crashed replace of it
    fresh = await _leftover(storage, attachment_key(new_id(), new_id()), 5)  # maybe a put in progress
    assert await storage.blobs.sweep(0) == 0  # a pass does no more than it is allowed
    assert await old() and await beside_live()
    removed = 0
    for _ in range(200):  # bounded passes over the whole store (the scylla keyspace is shared)
        removed += await storage.blobs.sweep(50)
        if not await old() and not await beside_live():
            break
    assert not await old() and not await beside_live() and removed >= 2
    assert await fresh()
    assert await read_all(storage.blobs, live) == b"live"
