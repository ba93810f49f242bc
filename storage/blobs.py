"""The blob store boundary: opaque byte objects (attachments) by key, streamed in and out.

Guarantees every backend gives (proved by tests/contract/test_blobs.py on each backend):
- ``put`` returns only once the whole blob is durable; until then no reader sees any of it, and
  a ``put`` that fails (or whose source raises) leaves no readable blob behind;
- a reader holds at most ``CHUNK_BYTES`` (two chunks while the next is fetched) of a blob in
  memory, whatever its size, so a 25 MiB attachment never sits in memory whole;
- after ``delete`` returns True the key reads as absent; after ``delete_folder(f)`` every blob
  whose key starts with ``f/`` and was put before the call reads as absent;
- ``sweep`` removes what a crashed put left behind (never a readable blob, never a put still in
  progress: only leftovers older than ``SWEEP_AGE_S``), at most ``limit`` items per pass;
- a key is written once in practice (attachments are named by snowflakes); a ``put`` on an
  existing key replaces it, and a reader that opened the old one keeps reading the old bytes
  (the file stays open) or, on Cassandra, the old version until it is removed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

# 256 KiB: well under Cassandra's mutation limit (half a 32 MiB commit-log segment) and its
# 16 MiB frame; a 25 MiB attachment is 100 rows.
CHUNK_BYTES = 256 * 1024
SWEEP_AGE_S = 3600  # a put's leftovers are this old before a sweep removes them (a put takes seconds)
_KEY = re.compile(r"[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,7}")


def check_key(key: str) -> str:
    """``key`` if it is a valid blob key (lowercase words joined by "/"), else ValueError."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}: use lowercase [a-z0-9_-] words joined by '/'")
    return key


def attachment_key(channel_id: int, attachment_id: int) -> str:
    """Where an attachment's bytes live: one key per (channel, attachment)."""
    return f"{attachment_folder(channel_id)}/{attachment_id}"


def attachment_folder(channel_id: int) -> str:
    """The folder of every attachment of one channel (``delete_folder`` it with the channel)."""
    return f"attachments/{channel_id}"


@dataclass(frozen=True, slots=True)
class BlobReader:
    """An opened blob: its size, and its bytes as chunks (read once; ``aclose`` them to stop
    early, which releases the file or the read in flight)."""

    size: int
    chunks: AsyncGenerator[bytes, None]


class BlobStore(Protocol):
    async def start(self) -> None:
        """Create what the store needs (folder, tables) idempotently."""
        ...

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the bytes ``chunks`` yields under ``key``; the size, once durable."""
        ...

    async def open(self, key: str) -> BlobReader | None:
        """The blob under ``key``, or None if there is none."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove the blob; True if there was one."""
        ...

    async def delete_folder(self, folder: str) -> int:
        """Remove every blob whose key starts with ``folder/``; how many there were."""
        ...

    async def sweep(self, limit: int) -> int:
        """Remove at most ``limit`` leftovers of crashed puts; how many were removed."""
        ...


async def read_all(store: BlobStore, key: str) -> bytes | None:
    """The whole blob in memory (for tests and small blobs only)."""
    reader = await store.open(key)
    if reader is None:
        return None
    return b"".join([chunk async for chunk in reader.chunks])


async def rechunk(chunks: AsyncIterable[bytes], size: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
    """The same bytes in pieces of exactly ``size`` (the last one shorter), holding at most one."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
