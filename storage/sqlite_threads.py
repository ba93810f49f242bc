"""Threads on the embedded backend: one row per thread (metadata and counters), one per member.

Mixed into ``SqliteStorage`` (it provides ``_db``). ``put_thread`` upserts the metadata columns
only, so counters written by ``count_thread_message`` (one atomic UPDATE) are never lost to a
concurrent edit of the thread; ``member_count`` is counted in the same query that reads a thread.
"""

from __future__ import annotations

import json
import sqlite3

from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.sqlite_file import Row, SqliteFile
from rayguild.storage.thread_models import Thread, ThreadMember

SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, parent_id INTEGER NOT NULL,
    owner_id INTEGER NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,
    archived INTEGER NOT NULL, locked INTEGER NOT NULL, invitable INTEGER NOT NULL,
    auto_archive_duration INTEGER NOT NULL, archive_timestamp_ms INTEGER NOT NULL,
    rate_limit_per_user INTEGER NOT NULL, applied_tags TEXT NOT NULL, created_at_ms INTEGER NOT NULL,
    last_message_id INTEGER, message_count INTEGER NOT NULL DEFAULT 0,
    total_message_sent INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS threads_by_guild ON threads (guild_id, id);
CREATE TABLE IF NOT EXISTS thread_members (
    thread_id INTEGER NOT NULL, user_id INTEGER NOT NULL, join_timestamp_ms INTEGER NOT NULL,
    flags INTEGER NOT NULL, PRIMARY KEY (thread_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS threads_by_user ON thread_members (user_id, thread_id);
"""

_META = (
    "id, guild_id, parent_id, owner_id, name, type, archived, locked, invitable, "
    "auto_archive_duration, archive_timestamp_ms, rate_limit_per_user, applied_tags, created_at_ms"
)
_SELECT = (
    f"SELECT {_META}, last_message_id, message_count, total_message_sent, "
    "(SELECT COUNT(*) FROM thread_members m WHERE m.thread_id = threads.id) FROM threads"
)


def _thread(row: Row) -> Thread:
    (tid, gid, parent, owner, name, kind, archived, locked, invitable, duration, archived_ms,
     slowmode, tags, created, last, count, total, members) = row  # fmt: skip
    return Thread(
        tid, gid, parent, owner, name, kind, bool(archived), bool(locked), bool(invitable),
        duration, archived_ms, slowmode, tuple(json.loads(tags)), created, last, count, total,
        members,
    )  # fmt: skip


class SqliteThreads:
    _db: SqliteFile

    async def put_thread(self, thread: Thread) -> None:
        t = thread
        values = (
            t.id, t.guild_id, t.parent_id, t.owner_id, t.name, t.type, int(t.archived),
            int(t.locked), int(t.invitable), t.auto_archive_duration, t.archive_timestamp_ms,
            t.rate_limit_per_user, json.dumps(list(t.applied_tags)), t.created_at_ms,
        )  # fmt: skip
        updates = ", ".join(f"{c}=excluded.{c}" for c in _META.split(", ")[1:])
        sql = f"INSERT INTO threads ({_META}) VALUES ({','.join('?' * len(values))}) ON CONFLICT(id) DO UPDATE SET {updates}"
        await self._db.execute((sql, values))

    async def get_thread(self, thread_id: int) -> Thread | None:
        rows = await self._db.query(f"{_SELECT} WHERE id=?", thread_id)
        return _thread(rows[0]) if rows else None

    async def list_threads(self, guild_id: int) -> list[Thread]:
        rows = await self._db.query(f"{_SELECT} WHERE guild_id=? ORDER BY id", guild_id)
        return [_thread(row) for row in rows]

    async def delete_thread(self, thread_id: int) -> None:
        await self._db.execute(
            ("DELETE FROM thread_members WHERE thread_id=?", (thread_id,)),
            ("DELETE FROM threads WHERE id=?", (thread_id,)),
        )

    async def add_thread_member(self, member: ThreadMember) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            sql = "INSERT OR IGNORE INTO thread_members VALUES (?,?,?,?)"
            row = (member.thread_id, member.user_id, member.join_timestamp_ms, member.flags)
            return conn.execute(sql, row).rowcount > 0

        return await self._db.transaction(body)

    async def remove_thread_member(self, thread_id: int, user_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            sql = "DELETE FROM thread_members WHERE thread_id=? AND user_id=?"
            return conn.execute(sql, (thread_id, user_id)).rowcount > 0

        return await self._db.transaction(body)

    async def get_thread_member(self, thread_id: int, user_id: int) -> ThreadMember | None:
        rows = await self._db.query(
            "SELECT * FROM thread_members WHERE thread_id=? AND user_id=?", thread_id, user_id
        )
        return ThreadMember(*rows[0]) if rows else None

    async def list_thread_members(
        self, thread_id: int, after: int = 0, limit: int = 100
    ) -> list[ThreadMember]:
        if not 1 <= limit <= MAX_MEMBERS_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_MEMBERS_LIMIT}")
        rows = await self._db.query(
            "SELECT * FROM thread_members WHERE thread_id=? AND user_id>? ORDER BY user_id LIMIT ?",
            thread_id, after, limit,
        )  # fmt: skip
        return [ThreadMember(*row) for row in rows]

    async def threads_of_user(self, user_id: int) -> list[int]:
        rows = await self._db.query(
            "SELECT thread_id FROM thread_members WHERE user_id=? ORDER BY thread_id", user_id
        )
        return [row[0] for row in rows]

    async def count_thread_message(self, thread_id: int, message_id: int, delta: int) -> None:
        if delta > 0:
            sql = (
                "UPDATE threads SET message_count=message_count+?, total_message_sent=total_message_sent+?, "
                "last_message_id=MAX(COALESCE(last_message_id, 0), ?) WHERE id=?"
            )
            await self._db.execute((sql, (delta, delta, message_id, thread_id)))
        else:
            sql = "UPDATE threads SET message_count=MAX(message_count+?, 0) WHERE id=?"
            await self._db.execute((sql, (delta, thread_id)))
