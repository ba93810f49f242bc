"""Threads on Cassandra/ScyllaDB: a metadata row, per-guild and per-user indexes, counter rows.

Mixed into ``ScyllaStorage`` (it provides ``_db``). ``threads`` holds the metadata (only
``put_thread`` writes it, never the counters); ``thread_counts`` holds ``message_count`` and
``total_message_sent`` as Cassandra counters, so concurrent messages never lose a count;
``last_message_id`` is the larger of the racing writes only approximately (last writer wins, as
Discord documents it: it "may not point to an existing or valid message"). Membership is claimed
and released with lightweight transactions, so a racing join counts once;
``threads_by_user`` is deleted before the claim is released, written after it is taken. A
guild's threads are read concurrently (one metadata, one counter, one count query each).
"""

from __future__ import annotations

import asyncio

from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.scylla_session import CqlSession, Row
from rayguild.storage.thread_models import Thread, ThreadMember

TABLES = (
    """CREATE TABLE IF NOT EXISTS threads (
        thread_id bigint PRIMARY KEY, guild_id bigint, parent_id bigint, owner_id bigint, name text,
        type int, archived boolean, locked boolean, invitable boolean, auto_archive_duration int,
        archive_timestamp_ms bigint, rate_limit_per_user int, applied_tags list<bigint>,
        created_at_ms bigint, last_message_id bigint
    )""",
    """CREATE TABLE IF NOT EXISTS threads_by_guild (
        guild_id bigint, thread_id bigint, PRIMARY KEY (guild_id, thread_id)
    )""",
    """CREATE TABLE IF NOT EXISTS thread_counts (
        thread_id bigint PRIMARY KEY, message_count counter, total_message_sent counter
    )""",
    """CREATE TABLE IF NOT EXISTS thread_members (
        thread_id bigint, user_id bigint, join_timestamp_ms bigint, flags int,
        PRIMARY KEY (thread_id, user_id)
    )""",
    """CREATE TABLE IF NOT EXISTS threads_by_user (
        user_id bigint, thread_id bigint, PRIMARY KEY (user_id, thread_id)
    )""",
)
_META = (
    "thread_id, guild_id, parent_id, owner_id, name, type, archived, locked, invitable, "
    "auto_archive_duration, archive_timestamp_ms, rate_limit_per_user, applied_tags, created_at_ms"
)
STATEMENTS = {
    "thread_put": f"INSERT INTO threads ({_META}) VALUES ({','.join('?' * 14)})",
    "thread_get": f"SELECT {_META}, last_message_id FROM threads WHERE thread_id=?",
    "thread_index": "INSERT INTO threads_by_guild (guild_id, thread_id) VALUES (?,?)",
    "thread_list": "SELECT thread_id FROM threads_by_guild WHERE guild_id=?",
    "thread_unindex": "DELETE FROM threads_by_guild WHERE guild_id=? AND thread_id=?",
    "thread_delete": "DELETE FROM threads WHERE thread_id=?",
    "thread_counts": "SELECT message_count, total_message_sent FROM thread_counts WHERE thread_id=?",
    "thread_count_add": (
        "UPDATE thread_counts SET message_count = message_count + ?, "
        "total_message_sent = total_message_sent + ? WHERE thread_id=?"
    ),
    "thread_last": "UPDATE threads SET last_message_id=? WHERE thread_id=?",
    "tmember_claim": (
        "INSERT INTO thread_members (thread_id, user_id, join_timestamp_ms, flags) "
        "VALUES (?,?,?,?) IF NOT EXISTS"
    ),
    "tmember_release": "DELETE FROM thread_members WHERE thread_id=? AND user_id=? IF EXISTS",
    "tmember_get": "SELECT * FROM thread_members WHERE thread_id=? AND user_id=?",
    "tmember_page": "SELECT * FROM thread_members WHERE thread_id=? AND user_id>? LIMIT ?",
    "tmember_all": "SELECT user_id FROM thread_members WHERE thread_id=?",
    "tmember_count": "SELECT COUNT(*) AS n FROM thread_members WHERE thread_id=?",
    "tuser_put": "INSERT INTO threads_by_user (user_id, thread_id) VALUES (?,?)",
    "tuser_delete": "DELETE FROM threads_by_user WHERE user_id=? AND thread_id=?",
    "tuser_list": "SELECT thread_id FROM threads_by_user WHERE user_id=?",
}


def _member(r: Row) -> ThreadMember:
    return ThreadMember(r["thread_id"], r["user_id"], r["join_timestamp_ms"], r["flags"])


class ScyllaThreads:
    _db: CqlSession

    async def put_thread(self, thread: Thread) -> None:
        t = thread
        await self._db.execute(STATEMENTS["thread_index"], t.guild_id, t.id)
        await self._db.execute(
            STATEMENTS["thread_put"], t.id, t.guild_id, t.parent_id, t.owner_id, t.name, t.type,
            t.archived, t.locked, t.invitable, t.auto_archive_duration, t.archive_timestamp_ms,
            t.rate_limit_per_user, list(t.applied_tags), t.created_at_ms,
        )  # fmt: skip

    async def get_thread(self, thread_id: int) -> Thread | None:
        rows = await self._db.execute(STATEMENTS["thread_get"], thread_id)
        if not rows or rows[0]["guild_id"] is None:  # only last_message_id left by a racing delete
            return None
        r = rows[0]
        counts, members = await asyncio.gather(
            self._db.execute(STATEMENTS["thread_counts"], thread_id),
            self._db.execute(STATEMENTS["tmember_count"], thread_id),
        )
        count = counts[0] if counts else {"message_count": 0, "total_message_sent": 0}
        return Thread(
            id=thread_id, guild_id=r["guild_id"], parent_id=r["parent_id"], owner_id=r["owner_id"],
            name=r["name"], type=r["type"], archived=r["archived"], locked=r["locked"],
            invitable=r["invitable"], auto_archive_duration=r["auto_archive_duration"],
            archive_timestamp_ms=r["archive_timestamp_ms"], rate_limit_per_user=r["rate_limit_per_user"],
            applied_tags=tuple(r["applied_tags"] or ()), created_at_ms=r["created_at_ms"],
            last_message_id=r["last_message_id"], message_count=max(count["message_count"] or 0, 0),
            total_message_sent=count["total_message_sent"] or 0, member_count=members[0]["n"],
        )  # fmt: skip

    async def list_threads(self, guild_id: int) -> list[Thread]:
        ids = await self._db.execute(STATEMENTS["thread_list"], guild_id)
        found = await asyncio.gather(*(self.get_thread(r["thread_id"]) for r in ids))
        return [t for t in found if t is not None and t.guild_id == guild_id]

    async def delete_thread(self, thread_id: int) -> None:
        thread = await self.get_thread(thread_id)
        for r in await self._db.execute(STATEMENTS["tmember_all"], thread_id):
            await self.remove_thread_member(thread_id, r["user_id"])
        await self._db.execute(STATEMENTS["thread_delete"], thread_id)
        if thread is not None:
            await self._db.execute(STATEMENTS["thread_unindex"], thread.guild_id, thread_id)

    async def add_thread_member(self, member: ThreadMember) -> bool:
        m = member
        (claim,) = await self._db.execute(
            STATEMENTS["tmember_claim"], m.thread_id, m.user_id, m.join_timestamp_ms, m.flags
        )
        await self._db.execute(STATEMENTS["tuser_put"], m.user_id, m.thread_id)
        return bool(claim["[applied]"])

    async def remove_thread_member(self, thread_id: int, user_id: int) -> bool:
        await self._db.execute(STATEMENTS["tuser_delete"], user_id, thread_id)
        (released,) = await self._db.execute(STATEMENTS["tmember_release"], thread_id, user_id)
        return bool(released["[applied]"])

    async def get_thread_member(self, thread_id: int, user_id: int) -> ThreadMember | None:
        rows = await self._db.execute(STATEMENTS["tmember_get"], thread_id, user_id)
        return _member(rows[0]) if rows else None

    async def list_thread_members(
        self, thread_id: int, after: int = 0, limit: int = 100
    ) -> list[ThreadMember]:
        if not 1 <= limit <= MAX_MEMBERS_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_MEMBERS_LIMIT}")
        rows = await self._db.execute(STATEMENTS["tmember_page"], thread_id, after, limit)
        return [_member(r) for r in rows]

    async def threads_of_user(self, user_id: int) -> list[int]:
        rows = await self._db.execute(STATEMENTS["tuser_list"], user_id)
        return [r["thread_id"] for r in rows]

    async def count_thread_message(self, thread_id: int, message_id: int, delta: int) -> None:
        await self._db.execute(STATEMENTS["thread_count_add"], delta, max(delta, 0), thread_id)
        if delta > 0:
            await self._db.execute(STATEMENTS["thread_last"], message_id, thread_id)
