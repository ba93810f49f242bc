"""The SQLite backend's reactions and pins (a mixin of ``SqliteStorage``).

Each change is one durably committed transaction that also sets the message's ``reacted`` or
``pinned`` column, so a message read after it shows the change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.models import Pin, ReactionCount
from rayguild.storage.sqlite_file import SqliteFile

REACTIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS reactions (
    channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL, emoji TEXT NOT NULL,
    user_id INTEGER NOT NULL, PRIMARY KEY (channel_id, message_id, emoji, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pins (
    channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL, pinned_at_ms INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id)) WITHOUT ROWID;
"""
_MESSAGE = "WHERE channel_id=? AND message_id=?"


class SqliteReactions:
    _db: SqliteFile
    _reads: SingleFlight

    async def _change(self, channel_id: int, sql: str, args: tuple[object, ...], then: str = "") -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(sql, args).rowcount > 0
            if changed and then:
                conn.execute(f"UPDATE messages SET {then} {_MESSAGE}", args[:2])
            return changed

        changed = await self._db.transaction(body)
        self._reads.forget(("messages", channel_id))
        return changed

    async def add_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        sql = "INSERT OR IGNORE INTO reactions VALUES (?,?,?,?)"
        return await self._change(channel_id, sql, (channel_id, message_id, emoji, user_id), "reacted=1")

    async def remove_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        sql = f"DELETE FROM reactions {_MESSAGE} AND emoji=? AND user_id=?"
        return await self._change(channel_id, sql, (channel_id, message_id, emoji, user_id))

    async def remove_reactions(self, channel_id: int, message_id: int, emoji: str | None = None) -> None:
        if emoji is None:
            await self._change(channel_id, f"DELETE FROM reactions {_MESSAGE}", (channel_id, message_id))
        else:
            sql = f"DELETE FROM reactions {_MESSAGE} AND emoji=?"
            await self._change(channel_id, sql, (channel_id, message_id, emoji))

    async def reaction_counts(
        self, channel_id: int, message_ids: Sequence[int], viewer_id: int
    ) -> dict[int, list[ReactionCount]]:
        wanted = sorted(set(message_ids))
        if not wanted:
            return {}
        rows = await self._db.query(
            "SELECT message_id, emoji, COUNT(*), MAX(user_id=?) FROM reactions WHERE channel_id=? "
            f"AND message_id IN ({','.join('?' * len(wanted))}) GROUP BY message_id, emoji",
            viewer_id, channel_id, *wanted,
        )  # fmt: skip
        found: dict[int, list[ReactionCount]] = {}
        for message_id, emoji, count, me in rows:
            found.setdefault(message_id, []).append(ReactionCount(emoji, count, bool(me)))
        return found

    async def reaction_users(
        self, channel_id: int, message_id: int, emoji: str, after: int = 0, limit: int = 25
    ) -> list[int]:
        rows = await self._db.query(
            f"SELECT user_id FROM reactions {_MESSAGE} AND emoji=? AND user_id>? ORDER BY user_id LIMIT ?",
            channel_id, message_id, emoji, after, limit,
        )  # fmt: skip
        return [row[0] for row in rows]

    async def pin_message(self, channel_id: int, message_id: int, pinned_at_ms: int) -> bool:
        sql = "INSERT OR IGNORE INTO pins VALUES (?,?,?)"
        return await self._change(channel_id, sql, (channel_id, message_id, pinned_at_ms), "pinned=1")

    async def unpin_message(self, channel_id: int, message_id: int) -> bool:
        return await self._change(
            channel_id, f"DELETE FROM pins {_MESSAGE}", (channel_id, message_id), "pinned=0"
        )

    async def list_pins(self, channel_id: int) -> list[Pin]:
        rows = await self._db.query(
            "SELECT message_id, pinned_at_ms FROM pins WHERE channel_id=? "
            "ORDER BY pinned_at_ms DESC, message_id DESC",
            channel_id,
        )
        return [Pin(*row) for row in rows]
