"""``BotStore`` on Cassandra/ScyllaDB: commands, webhooks, interactions and hook messages.

Mixed into ``ScyllaStorage`` (which owns the session); ``BOTS_TABLES`` and ``BOTS_STATEMENTS`` are
created and prepared with its own. A scope's commands are one partition ``(application_id,
guild_id)``; a bulk overwrite writes the new rows, then deletes the rows not among them. Webhooks are
written by id and in their guild's partition. An interaction is acknowledged with a lightweight
transaction (``IF callback_type = 0``), so exactly one of two racing edges wins; interactions and
ephemeral hook messages expire by TTL. A hook message is also indexed by its id alone
(``hook_message_ids``) for the component interactions that name only the message.
"""

from __future__ import annotations

from typing import Any

from rayguild.storage.bots_protocol import (
    INTERACTION_TTL_S,
    AppCommand,
    HookMessage,
    InteractionState,
    Webhook,
)
from rayguild.storage.scylla_session import CqlSession, Row

_CMD = "application_id, guild_id, command_id, name, type, version, body"
_HOOK = "webhook_id, type, guild_id, channel_id, creator_id, name, hook_token, avatar, application_id"
_INTERACTION = (
    "itoken, interaction_id, application_id, type, channel_id, guild_id, user_id, created_at_ms, "
    "body, callback_type, ephemeral, original_id"
)
BOTS_STATEMENTS = {
    "cmd_put": f"INSERT INTO app_commands ({_CMD}) VALUES (?,?,?,?,?,?,?)",
    "cmd_get": f"SELECT {_CMD} FROM app_commands WHERE application_id=? AND guild_id=? AND command_id=?",
    "cmd_list": f"SELECT {_CMD} FROM app_commands WHERE application_id=? AND guild_id=?",
    "cmd_del": "DELETE FROM app_commands WHERE application_id=? AND guild_id=? AND command_id=?",
    "hook_put": f"INSERT INTO webhooks ({_HOOK}) VALUES (?,?,?,?,?,?,?,?,?)",
    "ghook_put": f"INSERT INTO guild_webhooks ({_HOOK}) VALUES (?,?,?,?,?,?,?,?,?)",
    "hook_get": f"SELECT {_HOOK} FROM webhooks WHERE webhook_id=?",
    "ghook_list": f"SELECT {_HOOK} FROM guild_webhooks WHERE guild_id=?",
    "hook_del": "DELETE FROM webhooks WHERE webhook_id=?",
    "ghook_del": "DELETE FROM guild_webhooks WHERE guild_id=? AND webhook_id=?",
    "int_put": f"INSERT INTO interactions ({_INTERACTION}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) USING TTL ?",
    "int_get": f"SELECT {_INTERACTION} FROM interactions WHERE itoken=?",
    "int_ack": "UPDATE interactions USING TTL ? SET callback_type=?, ephemeral=? WHERE itoken=? "
    "IF callback_type=0",
    "int_original": "UPDATE interactions USING TTL ? SET original_id=? WHERE itoken=?",
    "hmsg_put": "INSERT INTO hook_messages (hook, message_id, channel_id, body, ephemeral) "
    "VALUES (?,?,?,?,?) USING TTL ?",
    "hmsg_get": "SELECT hook, message_id, channel_id, body, ephemeral FROM hook_messages "
    "WHERE hook=? AND message_id=?",
    "hmsg_del": "DELETE FROM hook_messages WHERE hook=? AND message_id=? IF EXISTS",
    "hmsg_id_put": "INSERT INTO hook_message_ids (message_id, hook) VALUES (?,?) USING TTL ?",
    "hmsg_id_get": "SELECT hook FROM hook_message_ids WHERE message_id=?",
    "hmsg_id_del": "DELETE FROM hook_message_ids WHERE message_id=?",
}

_HOOK_COLUMNS = """webhook_id bigint, type int, guild_id bigint, channel_id bigint, creator_id bigint,
        name text, hook_token text, avatar text, application_id bigint"""
BOTS_TABLES = (
    """CREATE TABLE IF NOT EXISTS app_commands (
        application_id bigint, guild_id bigint, command_id bigint, name text, type int,
        version bigint, body text, PRIMARY KEY ((application_id, guild_id), command_id)
    ) WITH CLUSTERING ORDER BY (command_id ASC)""",
    f"CREATE TABLE IF NOT EXISTS webhooks ({_HOOK_COLUMNS}, PRIMARY KEY (webhook_id))",
    f"""CREATE TABLE IF NOT EXISTS guild_webhooks ({_HOOK_COLUMNS},
        PRIMARY KEY (guild_id, webhook_id)) WITH CLUSTERING ORDER BY (webhook_id ASC)""",
    # ``token`` is a CQL function name, hence ``itoken``.
    """CREATE TABLE IF NOT EXISTS interactions (
        itoken text PRIMARY KEY, interaction_id bigint, application_id bigint, type int,
        channel_id bigint, guild_id bigint, user_id bigint, created_at_ms bigint, body text,
        callback_type int, ephemeral boolean, original_id bigint
    )""",
    """CREATE TABLE IF NOT EXISTS hook_messages (
        hook text, message_id bigint, channel_id bigint, body text, ephemeral boolean,
        PRIMARY KEY (hook, message_id)
    )""",
    "CREATE TABLE IF NOT EXISTS hook_message_ids (message_id bigint PRIMARY KEY, hook text)",
)


def _command(r: Row) -> AppCommand:
    return AppCommand(
        id=r["command_id"], application_id=r["application_id"], guild_id=r["guild_id"],
        name=r["name"], type=r["type"], version=r["version"], body=r["body"],
    )  # fmt: skip


def _webhook(r: Row) -> Webhook:
    return Webhook(
        id=r["webhook_id"], type=r["type"], guild_id=r["guild_id"], channel_id=r["channel_id"],
        creator_id=r["creator_id"], name=r["name"], token=r["hook_token"], avatar=r["avatar"],
        application_id=r["application_id"],
    )  # fmt: skip


def _interaction(r: Row) -> InteractionState | None:
    if r["interaction_id"] is None:  # only what an update after the row's TTL leaves behind
        return None
    return InteractionState(
        id=r["interaction_id"], application_id=r["application_id"], token=r["itoken"], type=r["type"],
        channel_id=r["channel_id"], guild_id=r["guild_id"], user_id=r["user_id"],
        created_at_ms=r["created_at_ms"], body=r["body"], callback_type=r["callback_type"] or 0,
        ephemeral=bool(r["ephemeral"]), original_id=r["original_id"],
    )  # fmt: skip


class ScyllaBotsMixin:
    _db: CqlSession

    async def _bots(self, name: str, *params: Any) -> list[Row]:
        return await self._db.execute(BOTS_STATEMENTS[name], *params)

    # -- application commands ------------------------------------------------------------------

    async def put_command(self, command: AppCommand) -> None:
        c = command
        await self._bots("cmd_put", c.application_id, c.guild_id, c.id, c.name, c.type, c.version, c.body)

    async def get_command(self, application_id: int, guild_id: int, command_id: int) -> AppCommand | None:
        rows = await self._bots("cmd_get", application_id, guild_id, command_id)
        return _command(rows[0]) if rows else None

    async def list_commands(self, application_id: int, guild_id: int) -> list[AppCommand]:
        return [_command(r) for r in await self._bots("cmd_list", application_id, guild_id)]

    async def delete_command(self, application_id: int, guild_id: int, command_id: int) -> bool:
        if await self.get_command(application_id, guild_id, command_id) is None:
            return False
        await self._bots("cmd_del", application_id, guild_id, command_id)
        return True

    async def replace_commands(self, application_id: int, guild_id: int, commands: list[AppCommand]) -> None:
        old = await self.list_commands(application_id, guild_id)
        for command in commands:
            await self.put_command(command)
        kept = {c.id for c in commands}
        for stale in old:
            if stale.id not in kept:
                await self._bots("cmd_del", application_id, guild_id, stale.id)

    # -- webhooks --------------------------------------------------------------------------------

    async def put_webhook(self, webhook: Webhook) -> None:
        w = webhook
        row = (w.id, w.type, w.guild_id, w.channel_id, w.creator_id, w.name, w.token, w.avatar,
               w.application_id)  # fmt: skip
        await self._bots("hook_put", *row)
        await self._bots("ghook_put", *row)

    async def get_webhook(self, webhook_id: int) -> Webhook | None:
        rows = await self._bots("hook_get", webhook_id)
        return _webhook(rows[0]) if rows and rows[0]["guild_id"] is not None else None

    async def list_webhooks(self, guild_id: int) -> list[Webhook]:
        return [_webhook(r) for r in await self._bots("ghook_list", guild_id)]

    async def delete_webhook(self, webhook_id: int) -> bool:
        webhook = await self.get_webhook(webhook_id)
        if webhook is None:
            return False
        await self._bots("hook_del", webhook_id)
        await self._bots("ghook_del", webhook.guild_id, webhook_id)
        return True

    # -- interactions ----------------------------------------------------------------------------

    async def put_interaction(self, state: InteractionState) -> None:
        s = state
        await self._bots(
            "int_put", s.token, s.id, s.application_id, s.type, s.channel_id, s.guild_id, s.user_id,
            s.created_at_ms, s.body, s.callback_type, s.ephemeral, s.original_id, INTERACTION_TTL_S,
        )  # fmt: skip

    async def get_interaction(self, token: str) -> InteractionState | None:
        rows = await self._bots("int_get", token)
        return _interaction(rows[0]) if rows else None

    async def acknowledge_interaction(self, token: str, callback_type: int, ephemeral: bool) -> bool:
        (row,) = await self._bots("int_ack", INTERACTION_TTL_S, callback_type, ephemeral, token)
        return bool(row["[applied]"])

    async def set_original(self, token: str, message_id: int | None) -> None:
        await self._bots("int_original", INTERACTION_TTL_S, message_id, token)

    # -- messages sent through a webhook or an interaction token ---------------------------------

    async def put_hook_message(self, message: HookMessage, ttl_s: int = 0) -> None:
        m = message
        await self._bots("hmsg_put", m.hook, m.id, m.channel_id, m.body, m.ephemeral, max(ttl_s, 0))
        await self._bots("hmsg_id_put", m.id, m.hook, max(ttl_s, 0))

    async def get_hook_message(self, hook: str, message_id: int) -> HookMessage | None:
        rows = await self._bots("hmsg_get", hook, message_id)
        if not rows:
            return None
        r = rows[0]
        return HookMessage(r["hook"], r["message_id"], r["channel_id"], r["body"], bool(r["ephemeral"]))

    async def locate_hook_message(self, message_id: int) -> HookMessage | None:
        rows = await self._bots("hmsg_id_get", message_id)
        return await self.get_hook_message(rows[0]["hook"], message_id) if rows else None

    async def delete_hook_message(self, hook: str, message_id: int) -> bool:
        (row,) = await self._bots("hmsg_del", hook, message_id)
        if row["[applied]"]:
            await self._bots("hmsg_id_del", message_id)
        return bool(row["[applied]"])
