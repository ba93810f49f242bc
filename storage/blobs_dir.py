"""The embedded blob store: one file per blob in a folder under the data dir.

A put writes a temporary file in the blob's own folder, fsyncs it, renames it over the final
name and fsyncs the folder, so a crash leaves either the whole old state or the whole new blob
(never a torn file under the real name). File I/O runs in worker threads, never on the loop;
a read holds one chunk at a time. Leftover temporary files (a crash mid-put) carry a ``.tmp-``
suffix and are never read; ``sweep`` removes those older than ``SWEEP_AGE_S``, walking at most
``limit`` of them per pass. ``delete_folder`` removes the folder's tree.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

from rayguild.errors import StorageUnavailable
from rayguild.storage.blobs import CHUNK_BYTES, SWEEP_AGE_S, BlobReader, check_key

T = TypeVar("T")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _seal(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()


def _publish(temp: Path, final: Path) -> None:
    os.replace(temp, final)
    _fsync_dir(final.parent)


class DirectoryBlobStore:
    """``BlobStore`` on the files under ``root`` (created at start)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def start(self) -> None:
        await self._io(lambda: self.root.mkdir(parents=True, exist_ok=True))

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        final = self._path(key)
        temp = final.with_name(f"{final.name}.tmp-{uuid.uuid4().hex}")

        def create() -> BinaryIO:
            final.parent.mkdir(parents=True, exist_ok=True)
            return open(temp, "wb")

        out = await self._io(create)
        size = 0
        try:
            async for chunk in chunks:
                await self._io(partial(out.write, chunk))
                size += len(chunk)
            await self._io(partial(_seal, out))
            await self._io(partial(_publish, temp, final))
        except BaseException:
            out.close()
            temp.unlink(missing_ok=True)
            raise
        return size

    async def open(self, key: str) -> BlobReader | None:
        path = self._path(key)

        def opened() -> tuple[BinaryIO, int] | None:
            try:
                handle = open(path, "rb")  # noqa: SIM115 - the reader's iterator closes it
            except FileNotFoundError:
                return None
            return handle, os.fstat(handle.fileno()).st_size

        found = await self._io(opened)
        if found is None:
            return None
        handle, size = found
        return BlobReader(size, self._chunks(handle))

    async def _chunks(self, handle: BinaryIO) -> AsyncGenerator[bytes, None]:
        try:
            while chunk := await self._io(lambda: handle.read(CHUNK_BYTES)):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> bool:
        path = self._path(key)

        def remove() -> bool:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            _fsync_dir(path.parent)
            return True

        return await self._io(remove)

    async def delete_folder(self, folder: str) -> int:
        path = self._path(folder)

        def remove() -> int:
            if not path.is_dir():
                return 0
            count = sum(1 for p in path.rglob("*") if p.is_file() and ".tmp-" not in p.name)
            shutil.rmtree(path, ignore_errors=True)
            _fsync_dir(path.parent)
            return count

        return await self._io(remove)

    async def sweep(self, limit: int) -> int:
        def remove() -> int:
            removed, old = 0, time.time() - SWEEP_AGE_S
            for found in self.root.rglob("*.tmp-*"):
                if removed >= limit:
                    break
                try:
                    if found.stat().st_mtime < old:
                        found.unlink()
                        removed += 1
                except FileNotFoundError:  # its put finished or failed meanwhile
                    continue
            return removed

        return await self._io(remove)

    async def _io(self, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except OSError as err:
            raise StorageUnavailable(f"blob folder {self.root} is unavailable: {err}") from err
