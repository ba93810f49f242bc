"""The Cassandra/ScyllaDB blob store: a blob is chunked rows, so a multi-node cluster needs no
other server for attachments.

Layout: ``blob_chunks`` holds a blob's bytes in ``CHUNK_BYTES`` rows, one partition per
(key, version); ``blob_heads`` names a key's live version, its size and chunk count. A put
writes every chunk of a fresh version first (at most ``IN_FLIGHT`` chunk writes at a time, so
memory stays bounded), then the head row: a blob is visible only once all of it is durable, and
a failed put leaves only unreferenced chunks, which it then removes. Replacing a key switches
the head to the new version before the old version's partition is removed; delete removes the
head first. A reader fetches one chunk while handing out the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable

from rayguild.errors import StorageUnavailable
from rayguild.storage.blobs import CHUNK_BYTES, BlobReader, check_key, rechunk
from rayguild.storage.scylla_session import CqlSession, Row

IN_FLIGHT = 2  # chunk writes in flight per put: a put holds at most this many chunks + one

TABLES = (
    """CREATE TABLE IF NOT EXISTS blob_heads (
        blob_key text PRIMARY KEY, version uuid, size bigint, chunks int
    )""",
    """CREATE TABLE IF NOT EXISTS blob_chunks (
        blob_key text, version uuid, chunk int, data blob,
        PRIMARY KEY ((blob_key, version), chunk)
    )""",
)
STATEMENTS = {
    "head_get": "SELECT version, size, chunks FROM blob_heads WHERE blob_key=?",
    "head_put": "INSERT INTO blob_heads (blob_key, version, size, chunks) VALUES (?,?,?,?)",
    "head_del": "DELETE FROM blob_heads WHERE blob_key=?",
    "chunk_put": "INSERT INTO blob_chunks (blob_key, version, chunk, data) VALUES (?,?,?,?)",
    "chunk_get": "SELECT data FROM blob_chunks WHERE blob_key=? AND version=? AND chunk=?",
    "chunks_del": "DELETE FROM blob_chunks WHERE blob_key=? AND version=?",
}


class CassandraBlobStore:
    """``BlobStore`` in the keyspace ``db`` is connected to (tables: ``TABLES``)."""

    def __init__(self, db: CqlSession) -> None:
        self._db = db

    async def start(self) -> None:
        await self._db.prepare(*STATEMENTS.values())

    async def _run(self, name: str, *params: object) -> list[Row]:
        return await self._db.execute(STATEMENTS[name], *params)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        check_key(key)
        version = uuid.uuid4()
        size = count = 0
        pending: set[asyncio.Future[list[Row]]] = set()
        try:
            async for chunk in rechunk(chunks, CHUNK_BYTES):
                if len(pending) >= IN_FLIGHT:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
                pending.add(asyncio.ensure_future(self._run("chunk_put", key, version, count, chunk)))
                size, count = size + len(chunk), count + 1
            for task in asyncio.as_completed(pending):
                await task
            previous = await self._run("head_get", key)
            await self._run("head_put", key, version, size, count)
        except BaseException:
            for task in pending:
                task.cancel()
            await asyncio.shield(self._forget(key, version))
            raise
        if previous and previous[0]["version"] != version:
            await self._forget(key, previous[0]["version"])
        return size

    async def _forget(self, key: str, version: object) -> None:
        # Unreferenced chunks are never read; if they cannot be removed now they only take space.
        with contextlib.suppress(StorageUnavailable):
            await self._run("chunks_del", key, version)

    async def open(self, key: str) -> BlobReader | None:
        rows = await self._run("head_get", check_key(key))
        if not rows:
            return None
        head = rows[0]
        size, count = int(head["size"]), int(head["chunks"])
        return BlobReader(size, self._chunks(key, head["version"], count))

    async def _chunks(self, key: str, version: object, count: int) -> AsyncGenerator[bytes, None]:
        def fetch(index: int) -> asyncio.Future[list[Row]]:
            return asyncio.ensure_future(self._run("chunk_get", key, version, index))

        upcoming = fetch(0) if count else None
        try:
            for index in range(count):
                assert upcoming is not None
                rows = await upcoming
                upcoming = fetch(index + 1) if index + 1 < count else None
                if not rows:
                    raise StorageUnavailable(f"blob {key} was removed while it was being read")
                yield bytes(rows[0]["data"])
        finally:
            if upcoming is not None:
                upcoming.cancel()

    async def delete(self, key: str) -> bool:
        rows = await self._run("head_get", check_key(key))
        if not rows:
            return False
        await self._run("head_del", key)
        await self._forget(key, rows[0]["version"])
        return True
