"""The blob store contract, on both backends: put/open/delete, chunking, bounded reads, failures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import pytest

from rayguild.storage import Storage
from rayguild.storage.blobs import CHUNK_BYTES, attachment_key, check_key, read_all


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
