"""Bans, the audit log and member moderation state (``ModerationStore``), and settings documents
(``SettingsStore``), on the SQLite backend.

A mixin of ``SqliteStorage``: it uses the storage's file (``self._db``) and read coalescing
(``self._reads``, for the member state every permission check reads); its tables are part of the
file's schema (``MODERATION_SCHEMA``).
"""

from __future__ import annotations

import sqlite3
import time

from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.models import Invite, User
from rayguild.storage.moderation import AuditEntry, AuditQuery, Ban, BanQuery, MemberState
from rayguild.storage.semantics import invite_live
from rayguild.storage.sqlite_file import SqliteFile

MODERATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS bans (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, reason TEXT,
    PRIMARY KEY (guild_id, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_log (
    guild_id INTEGER NOT NULL, id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    action_type INTEGER NOT NULL, target_id INTEGER, reason TEXT, changes TEXT NOT NULL,
    options TEXT NOT NULL, PRIMARY KEY (guild_id, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (
    owner_id INTEGER NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (owner_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_states (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, timeout_until_ms INTEGER,
    mute INTEGER NOT NULL, deaf INTEGER NOT NULL, PRIMARY KEY (guild_id, user_id)) WITHOUT ROWID;
"""
_INVITE_COLS = "code, guild_id, channel_id, inviter_id, created_at_ms, max_age_s, max_uses, uses"
_AUDIT_COLS = "id, guild_id, user_id, action_type, target_id, reason, changes, options"


class SqliteModeration:
    _db: SqliteFile
    _reads: SingleFlight

    async def put_ban(self, ban: Ban) -> None:
        sql = "INSERT OR REPLACE INTO bans VALUES (?,?,?)"
        await self._db.execute((sql, (ban.guild_id, ban.user_id, ban.reason)))

    async def get_ban(self, guild_id: int, user_id: int) -> Ban | None:
        rows = await self._db.query("SELECT * FROM bans WHERE guild_id=? AND user_id=?", guild_id, user_id)
        return Ban(*rows[0]) if rows else None

    async def list_bans(self, query: BanQuery) -> list[Ban]:
        if query.before is not None:
            sql = "SELECT * FROM bans WHERE guild_id=? AND user_id<? ORDER BY user_id DESC LIMIT ?"
            rows = await self._db.query(sql, query.guild_id, query.before, query.limit)
            return [Ban(*r) for r in reversed(rows)]
        sql = "SELECT * FROM bans WHERE guild_id=? AND user_id>? ORDER BY user_id LIMIT ?"
        rows = await self._db.query(sql, query.guild_id, query.after or 0, query.limit)
        return [Ban(*r) for r in rows]

    async def delete_ban(self, guild_id: int, user_id: int) -> bool:
        existed = await self.get_ban(guild_id, user_id) is not None
        await self._db.execute(("DELETE FROM bans WHERE guild_id=? AND user_id=?", (guild_id, user_id)))
        return existed

    async def add_audit_entry(self, entry: AuditEntry) -> None:
        e = entry
        values = (e.id, e.guild_id, e.user_id, e.action_type, e.target_id, e.reason, e.changes, e.options)
        await self._db.execute(
            (f"INSERT OR REPLACE INTO audit_log ({_AUDIT_COLS}) VALUES (?,?,?,?,?,?,?,?)", values)
        )

    async def list_audit_entries(self, query: AuditQuery) -> list[AuditEntry]:
        where, args = ["guild_id=?"], [query.guild_id]
        filters = (
            ("user_id", query.user_id),
            ("target_id", query.target_id),
            ("action_type", query.action_type),
        )
        for column, value in filters:
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        order = "DESC"
        if query.after is not None:
            where.append("id>?")
            args.append(query.after)
            order = "ASC"
        elif query.before is not None:
            where.append("id<?")
            args.append(query.before)
        sql = f"SELECT {_AUDIT_COLS} FROM audit_log WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?"
        rows = await self._db.query(sql, *args, query.limit)
        entries = [AuditEntry(*r) for r in rows]
        return sorted(entries, key=lambda e: e.id, reverse=True)

    async def put_member_state(self, state: MemberState) -> None:
        s = state
        values = (s.guild_id, s.user_id, s.timeout_until_ms, int(s.mute), int(s.deaf))
        await self._db.execute(("INSERT OR REPLACE INTO member_states VALUES (?,?,?,?,?)", values))
        self._reads.forget(("member_state", s.guild_id, s.user_id))

    async def get_member_state(self, guild_id: int, user_id: int) -> MemberState | None:
        sql = "SELECT * FROM member_states WHERE guild_id=? AND user_id=?"
        scope = ("member_state", guild_id, user_id)
        rows = await self._reads.run(scope, None, lambda: self._db.query(sql, guild_id, user_id))
        if not rows:
            return None
        gid, uid, until, mute, deaf = rows[0]
        return MemberState(gid, uid, until, bool(mute), bool(deaf))

    async def put_setting(self, owner_id: int, name: str, document: str) -> None:
        sql = "INSERT OR REPLACE INTO settings VALUES (?,?,?)"
        await self._db.execute((sql, (owner_id, name, document)))

    async def get_setting(self, owner_id: int, name: str) -> str | None:
        rows = await self._db.query(
            "SELECT document FROM settings WHERE owner_id=? AND name=?", owner_id, name
        )
        return str(rows[0][0]) if rows else None

    async def swap_setting(self, owner_id: int, name: str, expected: str | None, document: str) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            if expected is None:
                sql = "INSERT OR IGNORE INTO settings VALUES (?,?,?)"
                return conn.execute(sql, (owner_id, name, document)).rowcount == 1
            sql = "UPDATE settings SET document=? WHERE owner_id=? AND name=? AND document=?"
            return conn.execute(sql, (document, owner_id, name, expected)).rowcount == 1

        return await self._db.transaction(body)

    async def list_settings(self, owner_id: int, prefix: str) -> list[tuple[str, str]]:
        sql = "SELECT name, document FROM settings WHERE owner_id=? AND substr(name, 1, ?)=? ORDER BY name"
        return [(str(n), str(d)) for n, d in await self._db.query(sql, owner_id, len(prefix), prefix)]

    async def delete_setting(self, owner_id: int, name: str) -> bool:
        def body(conn: sqlite3.Connection) -> bool:  # of racing deletes one sees the row
            return (
                conn.execute("DELETE FROM settings WHERE owner_id=? AND name=?", (owner_id, name)).rowcount
                == 1
            )

        return await self._db.transaction(body)

    async def update_user(self, user: User) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            sql = "UPDATE users SET username=?, global_name=?, avatar=? WHERE id=?"
            return conn.execute(sql, (user.username, user.global_name, user.avatar, user.id)).rowcount > 0

        updated = await self._db.transaction(body)
        self._reads.forget(("user", user.id))
        return updated

    async def list_invites(self, guild_id: int) -> list[Invite]:
        sql = f"SELECT {_INVITE_COLS} FROM invites WHERE guild_id=? ORDER BY code"
        invites = [Invite(*r) for r in await self._db.query(sql, guild_id)]
        now = time.time_ns() // 1_000_000
        return [i for i in invites if invite_live(i, now)]
