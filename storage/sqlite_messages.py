"""The SQLite backend's messages: create (idempotent on the nonce), get, edit, delete, history.

A mixin of ``SqliteStorage`` (it uses the storage's file and read coalescing). Every write is one
durably committed transaction; a deleted message's row, nonce claim, reactions and pin go
together, so it never reads back and a retry with its nonce never re-creates it.
"""

from __future__ import annotations

import json
import sqlite3

from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.message_rich import rich_of, with_rich
from rayguild.storage.models import Message
from rayguild.storage.semantics import HistoryByScans
from rayguild.storage.sqlite_file import Row, SqliteFile

MESSAGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL, author_id INTEGER NOT NULL,
    content TEXT NOT NULL, guild_id INTEGER, type INTEGER NOT NULL, nonce TEXT,
    edited_at_ms INTEGER, mention_ids TEXT, mention_everyone INTEGER NOT NULL, rich TEXT,
    pinned INTEGER NOT NULL DEFAULT 0, reacted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, message_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_nonces (
    channel_id INTEGER NOT NULL, author_id INTEGER NOT NULL, nonce TEXT NOT NULL,
    message_id INTEGER NOT NULL, PRIMARY KEY (channel_id, author_id, nonce)) WITHOUT ROWID;
"""

COLS = (
    "message_id, channel_id, author_id, content, guild_id, type, nonce, edited_at_ms, "
    "mention_ids, mention_everyone, rich, pinned, reacted"
)
# Columns messages gained after the first release: added at start to a file created before.
_ADDED = {"rich": "TEXT", "pinned": "INTEGER NOT NULL DEFAULT 0", "reacted": "INTEGER NOT NULL DEFAULT 0"}
_BY_ID = f"SELECT {COLS} FROM messages WHERE channel_id=? AND message_id=?"


def message_of(row: Row) -> Message:
    mid, cid, author, content, gid, kind, nonce, edited, mentions, everyone, rich, pinned, reacted = row
    plain = Message(
        id=mid, channel_id=cid, author_id=author, content=content, guild_id=gid, type=kind,
        nonce=nonce, edited_at_ms=edited, mention_ids=tuple(json.loads(mentions or "[]")),
        mention_everyone=bool(everyone), pinned=bool(pinned), reacted=bool(reacted),
    )  # fmt: skip
    return with_rich(plain, rich)


def _mentions(m: Message) -> str | None:
    return json.dumps(m.mention_ids) if m.mention_ids else None


class SqliteMessages(HistoryByScans):
    _db: SqliteFile
    _reads: SingleFlight

    async def upgrade_messages(self) -> None:
        """Add the columns a file made by an earlier release lacks (one transaction)."""

        def body(conn: sqlite3.Connection) -> None:
            have = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
            for name, kind in _ADDED.items():
                if name not in have:
                    conn.execute(f"ALTER TABLE messages ADD COLUMN {name} {kind}")

        await self._db.transaction(body)

    async def create_message(self, message: Message) -> Message:
        def body(conn: sqlite3.Connection) -> Message:
            if message.nonce is not None:
                key = (message.channel_id, message.author_id, message.nonce)
                row = conn.execute(
                    f"SELECT {COLS} FROM messages WHERE channel_id=? AND message_id="
                    "(SELECT message_id FROM message_nonces WHERE channel_id=? AND author_id=? "
                    "AND nonce=?)",
                    (message.channel_id, *key),
                ).fetchone()
                if row is not None:
                    return message_of(row)
                sql = "INSERT OR REPLACE INTO message_nonces VALUES (?,?,?,?)"
                conn.execute(sql, (*key, message.id))
            m = message
            conn.execute(
                f"INSERT OR REPLACE INTO messages ({COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    m.id, m.channel_id, m.author_id, m.content, m.guild_id, m.type, m.nonce,
                    m.edited_at_ms, _mentions(m), int(m.mention_everyone), rich_of(m),
                    int(m.pinned), int(m.reacted),
                ),
            )  # fmt: skip
            return message

        stored = await self._db.transaction(body)
        self._reads.forget(("messages", message.channel_id))
        return stored

    async def get_message(self, channel_id: int, message_id: int) -> Message | None:
        rows = await self._reads.run(
            ("messages", channel_id), message_id, lambda: self._db.query(_BY_ID, channel_id, message_id)
        )
        return message_of(rows[0]) if rows else None

    async def edit_message(self, edited: Message) -> Message | None:
        def body(conn: sqlite3.Connection) -> Message | None:
            m = edited
            conn.execute(
                "UPDATE messages SET content=?, edited_at_ms=?, mention_ids=?, mention_everyone=?, "
                "rich=? WHERE channel_id=? AND message_id=?",
                (m.content, m.edited_at_ms, _mentions(m), int(m.mention_everyone), rich_of(m),
                 m.channel_id, m.id),
            )  # fmt: skip
            row = conn.execute(_BY_ID, (m.channel_id, m.id)).fetchone()
            return message_of(row) if row else None

        stored = await self._db.transaction(body)
        self._reads.forget(("messages", edited.channel_id))
        return stored

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            where = (channel_id, message_id)
            conn.execute("DELETE FROM message_nonces WHERE channel_id=? AND message_id=?", where)
            conn.execute("DELETE FROM reactions WHERE channel_id=? AND message_id=?", where)
            conn.execute("DELETE FROM pins WHERE channel_id=? AND message_id=?", where)
            cur = conn.execute("DELETE FROM messages WHERE channel_id=? AND message_id=?", where)
            return cur.rowcount > 0

        deleted = await self._db.transaction(body)
        self._reads.forget(("messages", channel_id))
        return deleted

    async def _older(self, channel_id: int, before: int, limit: int) -> list[Message]:
        rows = await self._db.query(
            f"SELECT {COLS} FROM messages WHERE channel_id=? AND message_id<? "
            "ORDER BY message_id DESC LIMIT ?",
            channel_id, before, limit,
        )  # fmt: skip
        return [message_of(row) for row in rows]

    async def _newer(self, channel_id: int, after: int, limit: int) -> list[Message]:
        rows = await self._db.query(
            f"SELECT {COLS} FROM messages WHERE channel_id=? AND message_id>? "
            "ORDER BY message_id ASC LIMIT ?",
            channel_id, after, limit,
        )  # fmt: skip
        return [message_of(row) for row in reversed(rows)]
