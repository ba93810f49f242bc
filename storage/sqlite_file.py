"""One SQLite file driven from asyncio: every statement runs on one worker thread, off the loop.

The file is in WAL mode with ``synchronous=FULL``, so ``transaction`` returns only once its commit
is on disk. Any database error (locked past the busy timeout, read-only, missing, corrupt) becomes
``StorageUnavailable``; the next call simply tries again, so callers recover by themselves.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rayguild.errors import StorageUnavailable

T = TypeVar("T")
Row = tuple[Any, ...]


class SqliteFile:
    """The connection to ``path`` and the one thread allowed to use it."""

    def __init__(self, path: str | Path, schema: str, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._schema = schema
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        """Open (creating the file, its folder and the schema if missing)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="rayguild-sqlite")
        await self._run(self._open)

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._run(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def query(self, sql: str, *args: Any) -> list[Row]:
        """Every row of one read-only statement."""
        return await self._run(lambda: self._connection().execute(sql, args).fetchall())

    async def transaction(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``body`` in one IMMEDIATE transaction, durably committed before returning."""

        def run() -> T:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = body(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(run)

    async def execute(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        """Run ``statements`` in one transaction."""

        def body(conn: sqlite3.Connection) -> None:
            for sql, args in statements:
                conn.execute(sql, args)

        await self.transaction(body)

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise StorageUnavailable("the sqlite storage is not started; call start() first")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._guarded, fn)

    def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.DatabaseError as err:
            raise StorageUnavailable(f"sqlite database {self.path} is unavailable: {err}") from err

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._open()
        assert self._conn is not None
        return self._conn

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageUnavailable(f"cannot create the folder of {self.path}: {err}") from err
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(self._schema)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
