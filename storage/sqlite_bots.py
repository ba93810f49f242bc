"""``BotStore`` on the SQLite file: commands, webhooks, interactions and hook messages.

Mixed into ``SqliteStorage`` (which owns the file); ``BOTS_SCHEMA`` is appended to its schema.
An interaction is acknowledged by an ``UPDATE ... WHERE callback_type = 0`` inside the one writer
thread's transaction, so exactly one callback wins. Expired interactions and hook messages are
deleted whenever a new one is written, so the tables stay as small as the live set.
"""

from __future__ import annotations

import sqlite3
import time

from rayguild.storage.bots_protocol import (
    INTERACTION_TTL_S,
    AppCommand,
    HookMessage,
    InteractionState,
    Webhook,
)
from rayguild.storage.sqlite_file import Row, SqliteFile

BOTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS app_commands (
    application_id INTEGER NOT NULL, guild_id INTEGER NOT NULL, id INTEGER NOT NULL,
    name TEXT NOT NULL, type INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (application_id, guild_id, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY, type INTEGER NOT NULL, guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL, creator_id INTEGER NOT NULL, name TEXT NOT NULL,
    token TEXT NOT NULL, avatar TEXT, application_id INTEGER);
CREATE INDEX IF NOT EXISTS webhooks_by_guild ON webhooks (guild_id, id);
CREATE TABLE IF NOT EXISTS interactions (
    token TEXT PRIMARY KEY, id INTEGER NOT NULL, application_id INTEGER NOT NULL,
    type INTEGER NOT NULL, channel_id INTEGER NOT NULL, guild_id INTEGER, user_id INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL, body TEXT NOT NULL, callback_type INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL, original_id INTEGER);
CREATE INDEX IF NOT EXISTS interactions_by_age ON interactions (created_at_ms);
CREATE TABLE IF NOT EXISTS hook_messages (
    hook TEXT NOT NULL, id INTEGER NOT NULL, channel_id INTEGER NOT NULL, body TEXT NOT NULL,
    ephemeral INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (hook, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hook_messages_by_id ON hook_messages (id);
CREATE INDEX IF NOT EXISTS hook_messages_by_expiry ON hook_messages (expires_at_ms);
"""

_CMD = "id, application_id, guild_id, name, type, version, body"
_HOOK = "id, type, guild_id, channel_id, creator_id, name, token, avatar, application_id"
_INTERACTION = (
    "id, application_id, token, type, channel_id, guild_id, user_id, created_at_ms, body, "
    "callback_type, ephemeral, original_id"
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _command(row: Row) -> AppCommand:
    return AppCommand(*row)


def _interaction(row: Row) -> InteractionState:
    iid, app, token, kind, channel, guild, user, created, body, callback, ephemeral, original = row
    return InteractionState(
        id=iid, application_id=app, token=token, type=kind, channel_id=channel, guild_id=guild,
        user_id=user, created_at_ms=created, body=body, callback_type=callback,
        ephemeral=bool(ephemeral), original_id=original,
    )  # fmt: skip


class SqliteBotsMixin:
    _db: SqliteFile

    # -- application commands ------------------------------------------------------------------

    async def put_command(self, command: AppCommand) -> None:
        c = command
        await self._db.execute((
            f"INSERT OR REPLACE INTO app_commands ({_CMD}) VALUES (?,?,?,?,?,?,?)",
            (c.id, c.application_id, c.guild_id, c.name, c.type, c.version, c.body),
        ))  # fmt: skip

    async def get_command(self, application_id: int, guild_id: int, command_id: int) -> AppCommand | None:
        rows = await self._db.query(
            f"SELECT {_CMD} FROM app_commands WHERE application_id=? AND guild_id=? AND id=?",
            application_id, guild_id, command_id,
        )  # fmt: skip
        return _command(rows[0]) if rows else None

    async def list_commands(self, application_id: int, guild_id: int) -> list[AppCommand]:
        rows = await self._db.query(
            f"SELECT {_CMD} FROM app_commands WHERE application_id=? AND guild_id=? ORDER BY id",
            application_id, guild_id,
        )  # fmt: skip
        return [_command(r) for r in rows]

    async def delete_command(self, application_id: int, guild_id: int, command_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM app_commands WHERE application_id=? AND guild_id=? AND id=?",
                (application_id, guild_id, command_id),
            )
            return cur.rowcount > 0

        return await self._db.transaction(body)

    async def replace_commands(self, application_id: int, guild_id: int, commands: list[AppCommand]) -> None:
        def body(conn: sqlite3.Connection) -> None:
            scope = (application_id, guild_id)
            conn.execute("DELETE FROM app_commands WHERE application_id=? AND guild_id=?", scope)
            conn.executemany(
                f"INSERT INTO app_commands ({_CMD}) VALUES (?,?,?,?,?,?,?)",
                [(c.id, *scope, c.name, c.type, c.version, c.body) for c in commands],
            )

        await self._db.transaction(body)

    # -- webhooks --------------------------------------------------------------------------------

    async def put_webhook(self, webhook: Webhook) -> None:
        w = webhook
        await self._db.execute((
            f"INSERT OR REPLACE INTO webhooks ({_HOOK}) VALUES (?,?,?,?,?,?,?,?,?)",
            (w.id, w.type, w.guild_id, w.channel_id, w.creator_id, w.name, w.token, w.avatar,
             w.application_id),
        ))  # fmt: skip

    async def get_webhook(self, webhook_id: int) -> Webhook | None:
        rows = await self._db.query(f"SELECT {_HOOK} FROM webhooks WHERE id=?", webhook_id)
        return Webhook(*rows[0]) if rows else None

    async def list_webhooks(self, guild_id: int) -> list[Webhook]:
        rows = await self._db.query(f"SELECT {_HOOK} FROM webhooks WHERE guild_id=? ORDER BY id", guild_id)
        return [Webhook(*r) for r in rows]

    async def delete_webhook(self, webhook_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM webhooks WHERE id=?", (webhook_id,)).rowcount > 0

        return await self._db.transaction(body)

    # -- interactions ----------------------------------------------------------------------------

    async def put_interaction(self, state: InteractionState) -> None:
        s = state
        expired = _now_ms() - INTERACTION_TTL_S * 1000
        await self._db.execute(
            ("DELETE FROM interactions WHERE created_at_ms < ?", (expired,)),
            (f"INSERT OR REPLACE INTO interactions ({_INTERACTION}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
             (s.id, s.application_id, s.token, s.type, s.channel_id, s.guild_id, s.user_id,
              s.created_at_ms, s.body, s.callback_type, int(s.ephemeral), s.original_id)),
        )  # fmt: skip

    async def get_interaction(self, token: str) -> InteractionState | None:
        rows = await self._db.query(f"SELECT {_INTERACTION} FROM interactions WHERE token=?", token)
        return _interaction(rows[0]) if rows else None

    async def acknowledge_interaction(self, token: str, callback_type: int, ephemeral: bool) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE interactions SET callback_type=?, ephemeral=? WHERE token=? AND callback_type=0",
                (callback_type, int(ephemeral), token),
            )
            return cur.rowcount > 0

        return await self._db.transaction(body)

    async def set_original(self, token: str, message_id: int | None) -> None:
        await self._db.execute(("UPDATE interactions SET original_id=? WHERE token=?", (message_id, token)))

    # -- messages sent through a webhook or an interaction token ---------------------------------

    async def put_hook_message(self, message: HookMessage, ttl_s: int = 0) -> None:
        m, now = message, _now_ms()
        expires = now + ttl_s * 1000 if ttl_s > 0 else 0
        await self._db.execute(
            ("DELETE FROM hook_messages WHERE expires_at_ms > 0 AND expires_at_ms < ?", (now,)),
            ("INSERT OR REPLACE INTO hook_messages VALUES (?,?,?,?,?,?)",
             (m.hook, m.id, m.channel_id, m.body, int(m.ephemeral), expires)),
        )  # fmt: skip

    async def get_hook_message(self, hook: str, message_id: int) -> HookMessage | None:
        return await self._hook_message("hook=? AND id=?", hook, message_id)

    async def locate_hook_message(self, message_id: int) -> HookMessage | None:
        return await self._hook_message("id=?", message_id)

    async def _hook_message(self, where: str, *args: object) -> HookMessage | None:
        rows = await self._db.query(
            f"SELECT hook, id, channel_id, body, ephemeral FROM hook_messages WHERE {where} "
            "AND (expires_at_ms = 0 OR expires_at_ms >= ?)",
            *args, _now_ms(),
        )  # fmt: skip
        if not rows:
            return None
        hook_, mid, channel, body, ephemeral = rows[0]
        return HookMessage(hook_, mid, channel, body, bool(ephemeral))

    async def delete_hook_message(self, hook: str, message_id: int) -> bool:
        def body(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM hook_messages WHERE hook=? AND id=?", (hook, message_id))
            return cur.rowcount > 0

        return await self._db.transaction(body)
