"""DM channels on the embedded backend: one row per pair of users, unique on the pair.

Mixed into ``SqliteStorage`` (it provides ``_db``); opening runs in one IMMEDIATE transaction,
so two opens of the same pair get the same channel.
"""

from __future__ import annotations

import sqlite3

from rayguild.storage.models import DmChannel
from rayguild.storage.sqlite_file import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS dm_channels (
    id INTEGER PRIMARY KEY, user_low INTEGER NOT NULL, user_high INTEGER NOT NULL,
    UNIQUE (user_low, user_high));
CREATE INDEX IF NOT EXISTS dm_channels_by_high ON dm_channels (user_high, id);
"""


def _pair(user_a: int, user_b: int) -> tuple[int, int]:
    return (user_a, user_b) if user_a <= user_b else (user_b, user_a)


class SqliteDms:
    _db: SqliteFile

    async def open_dm(self, new_id: int, user_a: int, user_b: int) -> DmChannel:
        pair = _pair(user_a, user_b)

        def body(conn: sqlite3.Connection) -> DmChannel:
            sql = "SELECT id FROM dm_channels WHERE user_low=? AND user_high=?"
            row = conn.execute(sql, pair).fetchone()
            if row is not None:
                return DmChannel(row[0], pair)
            conn.execute("INSERT INTO dm_channels VALUES (?,?,?)", (new_id, *pair))
            return DmChannel(new_id, pair)

        return await self._db.transaction(body)

    async def get_dm(self, channel_id: int) -> DmChannel | None:
        rows = await self._db.query("SELECT user_low, user_high FROM dm_channels WHERE id=?", channel_id)
        return DmChannel(channel_id, (rows[0][0], rows[0][1])) if rows else None

    async def list_dms(self, user_id: int) -> list[DmChannel]:
        rows = await self._db.query(
            "SELECT id, user_low, user_high FROM dm_channels WHERE user_low=? OR user_high=? ORDER BY id",
            user_id, user_id,
        )  # fmt: skip
        return [DmChannel(cid, (low, high)) for cid, low, high in rows]
