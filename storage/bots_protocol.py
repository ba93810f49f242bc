"""What bots persist besides messages: application commands, webhooks, live interactions, and the
messages sent through a webhook or an interaction token (records and the ``BotStore`` Protocol).

Guarantees every backend gives (proved by tests/contract/test_commands.py on each backend):
- a write returns once durable (or raises ``StorageUnavailable``), as every ``Storage`` write;
- ``replace_commands`` leaves exactly the given commands in their scope (stale ones deleted);
- ``acknowledge_interaction`` succeeds for exactly one caller per interaction, even when two edges
  race (a transaction on SQLite, a lightweight transaction on Cassandra), so a second callback
  gets 40060 wherever it lands;
- interactions and their ephemeral messages are kept at least ``INTERACTION_TTL_S`` (Cassandra
  drops them after it by TTL; readers check the age themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

INTERACTION_TTL_S = 15 * 60


@dataclass(frozen=True, slots=True)
class AppCommand:
    """An application command in one scope; ``guild_id`` 0 is global. ``body`` is the command's
    JSON as Discord returns it, without ``id``, ``application_id``, ``guild_id`` and ``version``."""

    id: int
    application_id: int
    guild_id: int
    name: str
    type: int
    version: int
    body: str


@dataclass(frozen=True, slots=True)
class Webhook:
    """A channel webhook: ``type`` 1 incoming (has a token), 3 an application's."""

    id: int
    type: int
    guild_id: int
    channel_id: int
    creator_id: int
    name: str
    token: str
    avatar: str | None = None
    application_id: int | None = None


@dataclass(frozen=True, slots=True)
class InteractionState:
    """One interaction while its token lives; ``body`` is the INTERACTION_CREATE payload as sent.

    ``callback_type`` is 0 until the bot acknowledges; ``original_id`` names the @original
    message once there is one.
    """

    id: int
    application_id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    created_at_ms: int
    body: str
    callback_type: int = 0
    ephemeral: bool = False
    original_id: int | None = None


@dataclass(frozen=True, slots=True)
class HookMessage:
    """A message sent through ``/webhooks/{id}/{token}``; ``hook`` is the webhook id or the
    interaction token. ``body`` is the message JSON as shown; ephemeral ones live nowhere else."""

    hook: str
    id: int
    channel_id: int
    body: str
    ephemeral: bool = False


class BotStore(Protocol):
    async def put_command(self, command: AppCommand) -> None:
        """Create or replace the command with ``command.id`` in its scope."""
        ...

    async def get_command(self, application_id: int, guild_id: int, command_id: int) -> AppCommand | None: ...

    async def list_commands(self, application_id: int, guild_id: int) -> list[AppCommand]:
        """The commands of one scope, ordered by id."""
        ...

    async def delete_command(self, application_id: int, guild_id: int, command_id: int) -> bool: ...

    async def replace_commands(self, application_id: int, guild_id: int, commands: list[AppCommand]) -> None:
        """Bulk overwrite: afterwards the scope holds exactly ``commands``."""
        ...

    async def put_webhook(self, webhook: Webhook) -> None: ...

    async def get_webhook(self, webhook_id: int) -> Webhook | None: ...

    async def list_webhooks(self, guild_id: int) -> list[Webhook]:
        """The guild's webhooks, ordered by id."""
        ...

    async def delete_webhook(self, webhook_id: int) -> bool: ...

    async def put_interaction(self, state: InteractionState) -> None: ...

    async def get_interaction(self, token: str) -> InteractionState | None: ...

    async def acknowledge_interaction(self, token: str, callback_type: int, ephemeral: bool) -> bool:
        """Record the first callback; False if the interaction was already acknowledged (or is gone)."""
        ...

    async def set_original(self, token: str, message_id: int | None) -> None:
        """Name (or, with None, forget) the interaction's @original message."""
        ...

    async def put_hook_message(self, message: HookMessage, ttl_s: int = 0) -> None:
        """Store (or replace) the message; ``ttl_s`` > 0 lets the backend drop it after that long."""
        ...

    async def get_hook_message(self, hook: str, message_id: int) -> HookMessage | None: ...

    async def locate_hook_message(self, message_id: int) -> HookMessage | None:
        """The hook message with this id, whichever hook sent it (a component's message)."""
        ...

    async def delete_hook_message(self, hook: str, message_id: int) -> bool: ...
