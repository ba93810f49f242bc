"""The embedded backend: one SQLite file, no server, the same semantics as the Scylla backend.

A write method returns only once its transaction is durably committed (see ``SqliteFile``); each
method that changes several rows does so in one transaction. Reads of the same row or page in
flight together share one query.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rayguild.storage.blobs import BlobStore
from rayguild.storage.blobs_dir import DirectoryBlobStore
from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.credentials import SQLITE_SCHEMA as CREDENTIALS_SCHEMA
from rayguild.storage.credentials import SqliteCredentials
from rayguild.storage.models import (
    Channel,
    Device,
    Guild,
    Invite,
    Member,
    Overwrite,
    PendingPush,
    Role,
    SessionStarts,
    User,
)
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT, MAX_PUSH_PAGE
from rayguild.storage.semantics import (
    MemberChange,
    buckets_text,
    invite_live,
    invite_usable,
    iter_pages,
    session_starts_of,
)
from rayguild.storage.sqlite_bots import BOTS_SCHEMA, SqliteBotsMixin
from rayguild.storage.sqlite_dms import SCHEMA as DM_SCHEMA
from rayguild.storage.sqlite_dms import SqliteDms
from rayguild.storage.sqlite_file import Row, SqliteFile
from rayguild.storage.sqlite_messages import MESSAGES_SCHEMA, SqliteMessages
from rayguild.storage.sqlite_moderation import MODERATION_SCHEMA, SqliteModeration
from rayguild.storage.sqlite_reactions import REACTIONS_SCHEMA, SqliteReactions
from rayguild.storage.sqlite_threads import SCHEMA as THREAD_SCHEMA
from rayguild.storage.sqlite_threads import SqliteThreads

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL, bot INTEGER NOT NULL, global_name TEXT,
    avatar TEXT, discriminator TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS guilds (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner_id INTEGER NOT NULL, icon TEXT,
    description TEXT);
CREATE TABLE IF NOT EXISTS channels (
    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,
    position INTEGER NOT NULL, topic TEXT, parent_id INTEGER, overwrites TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS channels_by_guild ON channels (guild_id, id);
CREATE TABLE IF NOT EXISTS roles (
    guild_id INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,
    permissions INTEGER NOT NULL, position INTEGER NOT NULL, color INTEGER NOT NULL,
    hoist INTEGER NOT NULL, mentionable INTEGER NOT NULL,
    PRIMARY KEY (guild_id, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, joined_at_ms INTEGER NOT NULL,
    roles TEXT NOT NULL, nick TEXT, PRIMARY KEY (guild_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS guilds_by_user ON members (user_id, guild_id);
CREATE TABLE IF NOT EXISTS invites (
    code TEXT PRIMARY KEY, guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
    inviter_id INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, max_age_s INTEGER NOT NULL,
    max_uses INTEGER NOT NULL, uses INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS invites_by_guild ON invites (guild_id);
CREATE TABLE IF NOT EXISTS devices (
    user_id INTEGER NOT NULL, token TEXT NOT NULL, provider TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL, PRIMARY KEY (user_id, token)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS push_outbox (
    shard INTEGER NOT NULL, key TEXT NOT NULL, user_id INTEGER NOT NULL, provider TEXT NOT NULL,
    token TEXT NOT NULL, body TEXT NOT NULL, created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (shard, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_starts (
    user_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, window_start_ms INTEGER NOT NULL,
    used INTEGER NOT NULL, buckets TEXT NOT NULL);
"""

_PUSH_COLS = "shard, key, user_id, provider, token, body, created_at_ms"
_INVITE_COLS = "code, guild_id, channel_id, inviter_id, created_at_ms, max_age_s, max_uses, uses"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _channel(row: Row) -> Channel:
    cid, gid, name, kind, position, topic, parent, overwrites = row
    return Channel(
        id=cid, guild_id=gid, name=name, type=kind, position=position, topic=topic,
        parent_id=parent,
        permission_overwrites=tuple(Overwrite(*o) for o in json.loads(overwrites)),
    )  # fmt: skip


def _role(row: Row) -> Role:
    gid, rid, name, perms, position, color, hoist, mentionable = row
    return Role(rid, gid, name, perms, position, color, bool(hoist), bool(mentionable))


def _member(row: Row) -> Member:
    gid, uid, joined, roles, nick = row
    return Member(gid, uid, joined, tuple(json.loads(roles)), nick)


class SqliteStorage(
    SqliteMessages, SqliteReactions, SqliteDms, SqliteBotsMixin, SqliteThreads, SqliteCredentials,
    SqliteModeration,
):  # fmt: skip
    """``Storage`` on a SQLite file at ``path`` (created with its parent folder if missing);
    attachment bytes in the folder ``blobs`` beside it."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        schema = (
            MESSAGES_SCHEMA + REACTIONS_SCHEMA + _SCHEMA + DM_SCHEMA + BOTS_SCHEMA + THREAD_SCHEMA
            + CREDENTIALS_SCHEMA + MODERATION_SCHEMA
        )  # fmt: skip
        self._db = SqliteFile(path, schema, busy_timeout_s)
        self._reads = SingleFlight()
        self.blobs: BlobStore = DirectoryBlobStore(Path(path).parent / "blobs")

    async def start(self) -> None:
        await self._db.open()
        await self.upgrade_messages()
        await self.blobs.start()

    async def close(self) -> None:
        await self._db.close()

    async def _rows(self, scope: Any, key: Any, sql: str, *args: Any) -> list[Row]:
        return await self._reads.run(scope, key, lambda: self._db.query(sql, *args))

    # -- users -------------------------------------------------------------------------------

    async def create_user(self, user: User, token_hash: str) -> None:
        await self._db.execute((
            "INSERT OR REPLACE INTO users VALUES (?,?,?,?,?,?,?)",
            (user.id, user.username, int(user.bot), user.global_name, user.avatar,
             user.discriminator, token_hash),
        ))  # fmt: skip
        self._reads.forget(("user", user.id), ("token", token_hash))

    async def get_user(self, user_id: int) -> User | None:
        return await self._user(("user", user_id), "id", user_id)

    async def get_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        wanted = sorted(set(user_ids))
        found: dict[int, User] = {}
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit is 999+
            chunk = wanted[start : start + 500]
            rows = await self._db.query(
                "SELECT id, username, bot, global_name, avatar, discriminator FROM users "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                *chunk,
            )
            for uid, name, bot, global_name, avatar, discriminator in rows:
                found[uid] = User(uid, name, bool(bot), global_name, avatar, discriminator)
        return found

    async def user_by_token_hash(self, token_hash: str) -> User | None:
        return await self._user(("token", token_hash), "token_hash", token_hash)

    async def _user(self, scope: tuple[str, Any], column: str, value: Any) -> User | None:
        rows = await self._rows(
            scope, None,
            "SELECT id, username, bot, global_name, avatar, discriminator FROM users "
            f"WHERE {column}=?", value,
        )  # fmt: skip
        if not rows:
            return None
        uid, name, bot, global_name, avatar, discriminator = rows[0]
        return User(uid, name, bool(bot), global_name, avatar, discriminator)

    # -- guilds, channels, roles ----------------------------------------------------------------

    async def put_guild(self, guild: Guild) -> None:
        await self._db.execute((
            "INSERT OR REPLACE INTO guilds VALUES (?,?,?,?,?)",
            (guild.id, guild.name, guild.owner_id, guild.icon, guild.description),
        ))  # fmt: skip
        self._reads.forget(("guild", guild.id))

    async def get_guild(self, guild_id: int) -> Guild | None:
        rows = await self._rows(("guild", guild_id), "guild", "SELECT * FROM guilds WHERE id=?", guild_id)
        return Guild(*rows[0]) if rows else None

    async def delete_guild(self, guild_id: int) -> None:
        gid = (guild_id,)
        rows = await self._db.query("SELECT user_id FROM members WHERE guild_id=?", *gid)
        await self._db.execute(
            *((f"DELETE FROM {table} WHERE guild_id=?", gid)
              for table in ("channels", "roles", "members", "invites")),
            ("DELETE FROM guilds WHERE id=?", gid),
        )  # fmt: skip
        self._reads.forget(("guild", guild_id), *(("user_guilds", row[0]) for row in rows))

    async def put_channel(self, channel: Channel) -> None:
        overwrites = json.dumps([(o.id, o.type, o.allow, o.deny) for o in channel.permission_overwrites])
        await self._db.execute((
            "INSERT OR REPLACE INTO channels VALUES (?,?,?,?,?,?,?,?)",
            (channel.id, channel.guild_id, channel.name, channel.type, channel.position,
             channel.topic, channel.parent_id, overwrites),
        ))  # fmt: skip
        self._reads.forget(("channel", channel.id), ("guild", channel.guild_id))

    async def get_channel(self, channel_id: int) -> Channel | None:
        rows = await self._rows(
            ("channel", channel_id), None, "SELECT * FROM channels WHERE id=?", channel_id
        )
        return _channel(rows[0]) if rows else None

    async def list_channels(self, guild_id: int) -> list[Channel]:
        rows = await self._rows(
            ("guild", guild_id), "channels",
            "SELECT * FROM channels WHERE guild_id=? ORDER BY id", guild_id,
        )  # fmt: skip
        return [_channel(row) for row in rows]

    async def delete_channel(self, channel_id: int) -> None:
        channel = await self.get_channel(channel_id)
        await self._db.execute(("DELETE FROM channels WHERE id=?", (channel_id,)))
        self._reads.forget(("channel", channel_id))
        if channel is not None:
            self._reads.forget(("guild", channel.guild_id))

    async def put_role(self, role: Role) -> None:
        await self._db.execute((
            "INSERT OR REPLACE INTO roles VALUES (?,?,?,?,?,?,?,?)",
            (role.guild_id, role.id, role.name, role.permissions, role.position, role.color,
             int(role.hoist), int(role.mentionable)),
        ))  # fmt: skip
        self._reads.forget(("guild", role.guild_id))

    async def list_roles(self, guild_id: int) -> list[Role]:
        rows = await self._rows(
            ("guild", guild_id), "roles",
            "SELECT * FROM roles WHERE guild_id=? ORDER BY id", guild_id,
        )  # fmt: skip
        return [_role(row) for row in rows]

    async def delete_role(self, guild_id: int, role_id: int) -> None:
        await self._db.execute(("DELETE FROM roles WHERE guild_id=? AND id=?", (guild_id, role_id)))
        self._reads.forget(("guild", guild_id))

    # -- members -------------------------------------------------------------------------------

    async def put_member(self, member: Member) -> None:
        await self._db.execute((
            "INSERT OR REPLACE INTO members VALUES (?,?,?,?,?)",
            (member.guild_id, member.user_id, member.joined_at_ms, json.dumps(member.roles),
             member.nick),
        ))  # fmt: skip
        self._reads.forget(("guild", member.guild_id), ("user_guilds", member.user_id))

    async def get_member(self, guild_id: int, user_id: int) -> Member | None:
        rows = await self._rows(
            ("guild", guild_id), ("member", user_id),
            "SELECT * FROM members WHERE guild_id=? AND user_id=?", guild_id, user_id,
        )  # fmt: skip
        return _member(rows[0]) if rows else None

    async def change_member(
        self, guild_id: int, user_id: int, change: MemberChange
    ) -> tuple[Member, Member] | None:
        """Read, change and write the member in one transaction (SQLite serialises writers)."""

        def body(conn: sqlite3.Connection) -> tuple[Member, Member] | None:
            sql = "SELECT * FROM members WHERE guild_id=? AND user_id=?"
            row = conn.execute(sql, (guild_id, user_id)).fetchone()
            if row is None:
                return None
            before = _member(row)
            after = change.applied(before)
            conn.execute(
                "UPDATE members SET roles=?, nick=? WHERE guild_id=? AND user_id=?",
                (json.dumps(after.roles), after.nick, guild_id, user_id),
            )
            return before, after

        changed = await self._db.transaction(body)
        self._reads.forget(("guild", guild_id), ("user_guilds", user_id))
        return changed

    async def remove_member(self, guild_id: int, user_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            sql = "DELETE FROM members WHERE guild_id=? AND user_id=?"
            return conn.execute(sql, (guild_id, user_id)).rowcount > 0

        removed = await self._db.transaction(body)
        self._reads.forget(("guild", guild_id), ("user_guilds", user_id))
        return removed

    async def list_members(self, guild_id: int, after: int = 0, limit: int = 1) -> list[Member]:
        if not 1 <= limit <= MAX_MEMBERS_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_MEMBERS_LIMIT}")
        rows = await self._rows(
            ("guild", guild_id), ("members", after, limit),
            "SELECT * FROM members WHERE guild_id=? AND user_id>? ORDER BY user_id LIMIT ?",
            guild_id, after, limit,
        )  # fmt: skip
        return [_member(row) for row in rows]

    def iter_members(self, guild_id: int, page_size: int = MAX_MEMBERS_LIMIT) -> AsyncIterator[Member]:
        return iter_pages(self.list_members, guild_id, page_size)

    async def guilds_of_user(self, user_id: int) -> list[int]:
        rows = await self._rows(
            ("user_guilds", user_id), None,
            "SELECT guild_id FROM members WHERE user_id=? ORDER BY guild_id", user_id,
        )  # fmt: skip
        return [row[0] for row in rows]

    # -- invites -------------------------------------------------------------------------------

    async def put_invite(self, invite: Invite) -> None:
        await self._db.execute((
            f"INSERT OR REPLACE INTO invites ({_INVITE_COLS}) VALUES (?,?,?,?,?,?,?,?)",
            (invite.code, invite.guild_id, invite.channel_id, invite.inviter_id,
             invite.created_at_ms, invite.max_age_s, invite.max_uses, invite.uses),
        ))  # fmt: skip
        self._reads.forget(("invite", invite.code))

    async def get_invite(self, code: str) -> Invite | None:
        rows = await self._rows(
            ("invite", code), None, f"SELECT {_INVITE_COLS} FROM invites WHERE code=?", code
        )
        invite = Invite(*rows[0]) if rows else None
        return invite if invite is not None and invite_live(invite, _now_ms()) else None

    async def use_invite(self, code: str) -> Invite | None:
        def body(conn: sqlite3.Connection) -> Invite | None:
            sql = f"SELECT {_INVITE_COLS} FROM invites WHERE code=?"
            row = conn.execute(sql, (code,)).fetchone()
            if row is None or not invite_usable(Invite(*row), _now_ms()):
                return None
            used = replace(Invite(*row), uses=row[-1] + 1)
            conn.execute("UPDATE invites SET uses=? WHERE code=?", (used.uses, code))
            return used

        used = await self._db.transaction(body)
        self._reads.forget(("invite", code))
        return used

    async def delete_invite(self, code: str) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM invites WHERE code=?", (code,)).rowcount > 0

        deleted = await self._db.transaction(body)
        self._reads.forget(("invite", code))
        return deleted

    # -- push: devices and outbox ----------------------------------------------------------------

    async def put_device(self, device: Device) -> None:
        await self._db.execute((
            "INSERT OR REPLACE INTO devices (user_id, token, provider, created_at_ms) VALUES (?,?,?,?)",
            (device.user_id, device.token, device.provider, device.created_at_ms),
        ))  # fmt: skip

    async def list_devices(self, user_id: int) -> list[Device]:
        rows = await self._db.query(
            "SELECT user_id, provider, token, created_at_ms FROM devices WHERE user_id=? ORDER BY token",
            user_id,
        )
        return [Device(*row) for row in rows]

    async def delete_device(self, user_id: int, token: str) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            sql = "DELETE FROM devices WHERE user_id=? AND token=?"
            return conn.execute(sql, (user_id, token)).rowcount > 0

        return await self._db.transaction(body)

    async def put_pushes(self, pushes: Sequence[PendingPush]) -> None:
        if pushes:
            await self._db.execute(*(
                (f"INSERT OR REPLACE INTO push_outbox ({_PUSH_COLS}) VALUES (?,?,?,?,?,?,?)",
                 (p.shard, p.key, p.user_id, p.provider, p.token, p.body, p.created_at_ms))
                for p in pushes
            ))  # fmt: skip

    async def list_pushes(self, shard: int, after: str = "", limit: int = MAX_PUSH_PAGE) -> list[PendingPush]:
        if not 1 <= limit <= MAX_PUSH_PAGE:
            raise ValueError(f"limit must be 1-{MAX_PUSH_PAGE}")
        rows = await self._db.query(
            f"SELECT {_PUSH_COLS} FROM push_outbox WHERE shard=? AND key>? ORDER BY key LIMIT ?",
            shard, after, limit,
        )  # fmt: skip
        return [PendingPush(*row) for row in rows]

    async def delete_pushes(self, shard: int, keys: Sequence[str]) -> None:
        if keys:
            sql = "DELETE FROM push_outbox WHERE shard=? AND key=?"
            await self._db.execute(*((sql, (shard, key)) for key in keys))

    # -- session starts (identify limits) ------------------------------------------------------

    async def get_session_starts(self, user_id: int) -> SessionStarts | None:
        rows = await self._db.query(
            "SELECT user_id, version, window_start_ms, used, buckets FROM session_starts WHERE user_id=?",
            user_id,
        )
        return session_starts_of(*rows[0]) if rows else None

    async def swap_session_starts(self, record: SessionStarts) -> bool:
        r = record
        values = (r.version, r.window_start_ms, r.used, buckets_text(r.bucket_last_ms), r.user_id)

        def body(conn: sqlite3.Connection) -> bool:
            if r.version == 1:
                sql = (
                    "INSERT OR IGNORE INTO session_starts (version, window_start_ms, used, buckets, user_id) "
                )
                return conn.execute(sql + "VALUES (?,?,?,?,?)", values).rowcount == 1
            sql = "UPDATE session_starts SET version=?, window_start_ms=?, used=?, buckets=? WHERE user_id=?"
            return conn.execute(sql + " AND version=?", (*values, r.version - 1)).rowcount == 1

        return await self._db.transaction(body)
