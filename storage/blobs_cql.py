"""The Cassandra/ScyllaDB blob store: a blob is chunked rows, so a multi-node cluster needs no
other server for attachments.

Layout: ``blob_chunks`` holds a blob's bytes in ``CHUNK_BYTES`` rows, one partition per
(key, version); ``blob_heads`` names a key's live version, its size and chunk count. A put
writes every chunk of a fresh version first (at most ``IN_FLIGHT`` chunk writes at a time, so
memory stays bounded), then the head row: a blob is visible only once all of it is durable, and
a failed put leaves only unreferenced chunks, which it then removes. Replacing a key switches
the head to the new version before the old version's partition is removed; delete removes the
head first. A reader fetches one chunk while handing out the previous one.

Folders: a put first records its key under its folder (``blob_folders``, one partition per
folder), so ``delete_folder`` finds every blob of a channel without a scan. Sweep: versions are
time-based UUIDs (uuid1); ``sweep`` pages through ``blob_chunks`` partitions from where the last
pass stopped (``limit`` partitions per pass, then it wraps around) and removes those older than
``SWEEP_AGE_S`` that the key's head does not name: what a put that crashed before its head, or
before removing the version it replaced, left behind. Versions from before uuid1 (uuid4) carry no
time and are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable

from rayguild.errors import StorageUnavailable
from rayguild.storage.blobs import CHUNK_BYTES, SWEEP_AGE_S, BlobReader, check_key, rechunk
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
    """CREATE TABLE IF NOT EXISTS blob_folders (
        folder text, blob_key text, PRIMARY KEY (folder, blob_key)
    )""",
)
UUID_EPOCH_100NS = 0x01B21DD213814000  # 1582-10-15 to 1970-01-01 in 100 ns steps
STATEMENTS = {
    "head_get": "SELECT version, size, chunks FROM blob_heads WHERE blob_key=?",
    "head_put": "INSERT INTO blob_heads (blob_key, version, size, chunks) VALUES (?,?,?,?)",
    "head_del": "DELETE FROM blob_heads WHERE blob_key=?",
    "chunk_put": "INSERT INTO blob_chunks (blob_key, version, chunk, data) VALUES (?,?,?,?)",
    "chunk_get": "SELECT data FROM blob_chunks WHERE blob_key=? AND version=? AND chunk=?",
    "chunks_del": "DELETE FROM blob_chunks WHERE blob_key=? AND version=?",
    "folder_put": "INSERT INTO blob_folders (folder, blob_key) VALUES (?,?)",
    "folder_list": "SELECT blob_key FROM blob_folders WHERE folder=?",
    "folder_forget": "DELETE FROM blob_folders WHERE folder=? AND blob_key=?",
    "folder_del": "DELETE FROM blob_folders WHERE folder=?",
    "partitions_first": "SELECT DISTINCT blob_key, version, token(blob_key, version) AS t FROM blob_chunks LIMIT ?",
    "partitions_after": "SELECT DISTINCT blob_key, version, token(blob_key, version) AS t FROM blob_chunks "
    "WHERE token(blob_key, version) > ? LIMIT ?",
}


def _folder(key: str) -> str:
    return key.rpartition("/")[0] or "/"  # a partition key is never empty


def _age_s(version: uuid.UUID) -> float | None:
    """Seconds since a uuid1 version was made; None for a version without a time."""
    if version.version != 1:
        return None
    return time.time() - (version.time - UUID_EPOCH_100NS) / 10_000_000


class CassandraBlobStore:
    """``BlobStore`` in the keyspace ``db`` is connected to (tables: ``TABLES``)."""

    def __init__(self, db: CqlSession) -> None:
        self._db = db
        self._sweep_after: int | None = None  # the token where the next sweep pass starts

    async def start(self) -> None:
        await self._db.prepare(*STATEMENTS.values())

    async def _run(self, name: str, *params: object) -> list[Row]:
        return await self._db.execute(STATEMENTS[name], *params)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        check_key(key)
        version = uuid.uuid1()
        await self._run("folder_put", _folder(key), key)
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
        await self._run("folder_forget", _folder(key), key)
        return True

    async def delete_folder(self, folder: str) -> int:
        rows = await self._run("folder_list", check_key(folder))
        removed = 0
        for row in rows:
            if row["blob_key"].startswith(f"{folder}/"):
                removed += await self.delete(row["blob_key"])
        await self._run("folder_del", folder)
        return removed

    async def sweep(self, limit: int) -> int:
        if limit <= 0:
            return 0
        if self._sweep_after is None:
            rows = await self._run("partitions_first", limit)
        else:
            rows = await self._run("partitions_after", self._sweep_after, limit)
        self._sweep_after = rows[-1]["t"] if len(rows) == limit else None  # the end: wrap around
        removed = 0
        for row in rows:
            key, version = row["blob_key"], row["version"]
            age = _age_s(version)
            if age is None or age < SWEEP_AGE_S:
                continue
            head = await self._run("head_get", key)
            if not head or head[0]["version"] != version:
                await self._run("chunks_del", key, version)
                removed += 1
        return removed
