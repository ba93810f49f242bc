"""Bans, the audit log and member moderation state (``ModerationStore``), and settings documents
(``SettingsStore``, one partition per owner), on the Scylla backend.

A mixin of ``ScyllaStorage``: its tables (``MODERATION_TABLES``) and statements
(``MODERATION_STATEMENTS``) are created and prepared with the storage's own at start. Each table
is one partition per guild, keyed for its one read: bans clustered by ``user_id`` ASC for paging,
the audit log by entry id DESC (newest first); the actor, target and action-type filters are applied
while paging the guild's partition (an audit log is small: Discord keeps 45 days of it).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.models import Invite, User
from rayguild.storage.moderation import AuditEntry, AuditQuery, Ban, BanQuery, MemberState
from rayguild.storage.scylla_schema import INVITE_COLUMNS, STATEMENTS
from rayguild.storage.scylla_session import CqlSession, Row
from rayguild.storage.semantics import invite_live

MODERATION_TABLES = (
    """CREATE TABLE IF NOT EXISTS bans (
        guild_id bigint, user_id bigint, reason text, PRIMARY KEY (guild_id, user_id)
    ) WITH CLUSTERING ORDER BY (user_id ASC)""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        guild_id bigint, entry_id bigint, user_id bigint, action_type int, target_id bigint,
        reason text, changes text, options text, PRIMARY KEY (guild_id, entry_id)
    ) WITH CLUSTERING ORDER BY (entry_id DESC)""",
    """CREATE TABLE IF NOT EXISTS settings (
        owner_id bigint, name text, document text, PRIMARY KEY (owner_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS member_states (
        guild_id bigint, user_id bigint, timeout_until_ms bigint, mute boolean, deaf boolean,
        PRIMARY KEY ((guild_id, user_id))
    )""",
)
_AUDIT = "entry_id, guild_id, user_id, action_type, target_id, reason, changes, options"
MODERATION_STATEMENTS = {
    "ban_put": "INSERT INTO bans (guild_id, user_id, reason) VALUES (?,?,?)",
    "ban_get": "SELECT * FROM bans WHERE guild_id=? AND user_id=?",
    "ban_after": "SELECT * FROM bans WHERE guild_id=? AND user_id>? LIMIT ?",
    "ban_before": "SELECT * FROM bans WHERE guild_id=? AND user_id<? ORDER BY user_id DESC LIMIT ?",
    "ban_del": "DELETE FROM bans WHERE guild_id=? AND user_id=?",
    "audit_put": f"INSERT INTO audit_log ({_AUDIT}) VALUES (?,?,?,?,?,?,?,?)",
    "audit_older": f"SELECT {_AUDIT} FROM audit_log WHERE guild_id=? AND entry_id<? LIMIT ?",
    "audit_newer": f"SELECT {_AUDIT} FROM audit_log WHERE guild_id=? AND entry_id>? "
    "ORDER BY entry_id ASC LIMIT ?",
    "mstate_put": "INSERT INTO member_states (guild_id, user_id, timeout_until_ms, mute, deaf) "
    "VALUES (?,?,?,?,?)",
    "mstate_get": "SELECT * FROM member_states WHERE guild_id=? AND user_id=?",
    "setting_put": "INSERT INTO settings (owner_id, name, document) VALUES (?,?,?)",
    "setting_new": "INSERT INTO settings (owner_id, name, document) VALUES (?,?,?) IF NOT EXISTS",
    "setting_swap": "UPDATE settings SET document=? WHERE owner_id=? AND name=? IF document=?",
    "setting_get": "SELECT document FROM settings WHERE owner_id=? AND name=?",
    "setting_range": "SELECT name, document FROM settings WHERE owner_id=? AND name>=? AND name<?",
    "setting_del": "DELETE FROM settings WHERE owner_id=? AND name=?",
    "user_profile": "UPDATE users SET username=?, global_name=?, avatar=? WHERE user_id=? IF EXISTS",
}
_PAGE = 100
_NEWEST = (1 << 63) - 1


def _ban(r: Row) -> Ban:
    return Ban(r["guild_id"], r["user_id"], r["reason"])


def _entry(r: Row) -> AuditEntry:
    return AuditEntry(
        id=r["entry_id"], guild_id=r["guild_id"], user_id=r["user_id"], action_type=r["action_type"],
        target_id=r["target_id"], reason=r["reason"], changes=r["changes"] or "[]",
        options=r["options"] or "{}",
    )  # fmt: skip


class ScyllaModeration:
    _db: CqlSession
    _reads: SingleFlight

    async def _moderation(self, name: str, *params: Any) -> list[Row]:
        return await self._db.execute(MODERATION_STATEMENTS[name], *params)

    async def put_ban(self, ban: Ban) -> None:
        await self._moderation("ban_put", ban.guild_id, ban.user_id, ban.reason)

    async def get_ban(self, guild_id: int, user_id: int) -> Ban | None:
        rows = await self._moderation("ban_get", guild_id, user_id)
        return _ban(rows[0]) if rows else None

    async def list_bans(self, query: BanQuery) -> list[Ban]:
        if query.before is not None:
            rows = await self._moderation("ban_before", query.guild_id, query.before, query.limit)
            return [_ban(r) for r in reversed(rows)]
        rows = await self._moderation("ban_after", query.guild_id, query.after or 0, query.limit)
        return [_ban(r) for r in rows]

    async def delete_ban(self, guild_id: int, user_id: int) -> bool:
        existed = await self.get_ban(guild_id, user_id) is not None
        await self._moderation("ban_del", guild_id, user_id)
        return existed

    async def add_audit_entry(self, entry: AuditEntry) -> None:
        e = entry
        await self._moderation(
            "audit_put", e.id, e.guild_id, e.user_id, e.action_type, e.target_id, e.reason,
            e.changes, e.options,
        )  # fmt: skip

    async def list_audit_entries(self, query: AuditQuery) -> list[AuditEntry]:
        """Page the guild's partition from the bound outwards, keeping the entries the filters admit."""
        newer = query.after is not None
        bound = query.after if newer else (query.before or _NEWEST)
        found: list[AuditEntry] = []
        while len(found) < query.limit:
            rows = await self._moderation(
                "audit_newer" if newer else "audit_older", query.guild_id, bound, _PAGE
            )
            found += [e for e in map(_entry, rows) if query.admits(e)]
            if len(rows) < _PAGE:
                break
            bound = rows[-1]["entry_id"]
        return sorted(found[: query.limit], key=lambda e: e.id, reverse=True)

    async def put_member_state(self, state: MemberState) -> None:
        s = state
        await self._moderation("mstate_put", s.guild_id, s.user_id, s.timeout_until_ms, s.mute, s.deaf)
        self._reads.forget(("member_state", s.guild_id, s.user_id))

    async def get_member_state(self, guild_id: int, user_id: int) -> MemberState | None:
        scope = ("member_state", guild_id, user_id)
        rows = await self._reads.run(scope, None, lambda: self._moderation("mstate_get", guild_id, user_id))
        if not rows:
            return None
        r = rows[0]
        return MemberState(guild_id, user_id, r["timeout_until_ms"], bool(r["mute"]), bool(r["deaf"]))

    async def put_setting(self, owner_id: int, name: str, document: str) -> None:
        await self._moderation("setting_put", owner_id, name, document)

    async def get_setting(self, owner_id: int, name: str) -> str | None:
        rows = await self._moderation("setting_get", owner_id, name)
        document = rows[0]["document"] if rows else None
        return None if document is None else str(document)  # a row with a null document: none

    async def swap_setting(self, owner_id: int, name: str, expected: str | None, document: str) -> bool:
        """A lightweight transaction (Paxos at the session's serial consistency, LOCAL_SERIAL)."""
        if expected is None:
            (row,) = await self._moderation("setting_new", owner_id, name, document)
            if not row["[applied]"] and row.get("document") is None:  # a row with a null document
                (row,) = await self._moderation("setting_swap", document, owner_id, name, None)
        else:
            (row,) = await self._moderation("setting_swap", document, owner_id, name, expected)
        return bool(row["[applied]"])

    async def list_settings(self, owner_id: int, prefix: str) -> list[tuple[str, str]]:
        rows = await self._moderation("setting_range", owner_id, prefix, prefix + "\U0010ffff")
        return [(str(r["name"]), str(r["document"])) for r in rows if r["document"] is not None]

    async def delete_setting(self, owner_id: int, name: str) -> bool:
        existed = await self.get_setting(owner_id, name) is not None
        await self._moderation("setting_del", owner_id, name)
        return existed

    async def update_user(self, user: User) -> bool:
        (row,) = await self._moderation("user_profile", user.username, user.global_name, user.avatar, user.id)
        self._reads.forget(("user", user.id))
        return bool(row["[applied]"])

    async def list_invites(self, guild_id: int) -> list[Invite]:
        codes = sorted(r["code"] for r in await self._db.execute(STATEMENTS["ginv_list"], guild_id))
        rows = await asyncio.gather(*(self._db.execute(STATEMENTS["inv_get"], code) for code in codes))
        now = time.time_ns() // 1_000_000
        found = [
            Invite(**{k: r[0][k] for k in INVITE_COLUMNS}) for r in rows if r and r[0]["guild_id"] is not None
        ]
        return [i for i in found if invite_live(i, now)]
