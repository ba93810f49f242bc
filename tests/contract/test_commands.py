"""BotStore on every backend: application commands by scope, bulk overwrite, webhooks by guild,
one acknowledgement per interaction, and hook messages (ephemeral ones included)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from rayguild.storage import Storage
from rayguild.storage.bots_protocol import AppCommand, HookMessage, InteractionState, Webhook

NewId = Callable[[], int]


def _command(new_id: NewId, app: int, guild: int, name: str) -> AppCommand:
    return AppCommand(new_id(), app, guild, name, 1, new_id(), f'{{"name": "{name}"}}')


async def test_commands_are_kept_per_scope(storage: Storage, new_id: NewId) -> None:
    app, guild = new_id(), new_id()
    ping, echo = _command(new_id, app, 0, "ping"), _command(new_id, app, guild, "echo")
    await storage.put_command(ping)
    await storage.put_command(echo)
    assert await storage.list_commands(app, 0) == [ping]
    assert await storage.list_commands(app, guild) == [echo]
    assert await storage.get_command(app, 0, ping.id) == ping
    assert await storage.get_command(app, guild, ping.id) is None
    renamed = AppCommand(ping.id, app, 0, "pong", 1, new_id(), '{"name": "pong"}')
    await storage.put_command(renamed)
    assert await storage.list_commands(app, 0) == [renamed]
    assert await storage.delete_command(app, 0, ping.id)
    assert not await storage.delete_command(app, 0, ping.id)
    assert await storage.list_commands(app, 0) == []


async def test_bulk_overwrite_leaves_exactly_the_given_commands(storage: Storage, new_id: NewId) -> None:
    app = new_id()
    first = [_command(new_id, app, 0, n) for n in ("a", "b", "c")]
    await storage.replace_commands(app, 0, first)
    assert [c.name for c in await storage.list_commands(app, 0)] == ["a", "b", "c"]
    second = [first[1], _command(new_id, app, 0, "d")]
    await storage.replace_commands(app, 0, second)
    assert await storage.list_commands(app, 0) == second
    await storage.replace_commands(app, 0, [])
    assert await storage.list_commands(app, 0) == []


async def test_webhooks_by_id_and_by_guild(storage: Storage, new_id: NewId) -> None:
    guild, channel = new_id(), new_id()
    hooks = [Webhook(new_id(), 1, guild, channel, new_id(), f"hook{i}", f"tok{i}") for i in range(2)]
    for hook in hooks:
        await storage.put_webhook(hook)
    assert await storage.get_webhook(hooks[0].id) == hooks[0]
    assert await storage.list_webhooks(guild) == hooks
    renamed = Webhook(hooks[0].id, 1, guild, channel, hooks[0].creator_id, "renamed", "tok0", "abc")
    await storage.put_webhook(renamed)
    assert await storage.list_webhooks(guild) == [renamed, hooks[1]]
    assert await storage.delete_webhook(hooks[1].id)
    assert not await storage.delete_webhook(hooks[1].id)
    assert await storage.get_webhook(hooks[1].id) is None
    assert await storage.list_webhooks(guild) == [renamed]


async def test_an_interaction_is_acknowledged_once(storage: Storage, new_id: NewId) -> None:
    token = f"tok-{new_id()}"
    state = InteractionState(
        id=new_id(), application_id=new_id(), token=token, type=2, channel_id=new_id(),
        guild_id=new_id(), user_id=new_id(), created_at_ms=time.time_ns() // 1_000_000, body="{}",
    )  # fmt: skip
    await storage.put_interaction(state)
    assert await storage.get_interaction(token) == state
    wins = await asyncio.gather(*(storage.acknowledge_interaction(token, 4, i == 0) for i in range(4)))
    assert sum(wins) == 1
    acknowledged = await storage.get_interaction(token)
    assert acknowledged is not None and acknowledged.callback_type == 4
    assert acknowledged.ephemeral == (wins.index(True) == 0)
    message_id = new_id()
    await storage.set_original(token, message_id)
    again = await storage.get_interaction(token)
    assert again is not None and again.original_id == message_id
    assert not await storage.acknowledge_interaction(f"missing-{token}", 4, False)
    assert await storage.get_interaction(f"missing-{token}") is None


async def test_hook_messages(storage: Storage, new_id: NewId) -> None:
    hook, channel = f"hook-{new_id()}", new_id()
    kept = HookMessage(hook, new_id(), channel, '{"content": "a"}')
    ephemeral = HookMessage(hook, new_id(), channel, '{"content": "b"}', ephemeral=True)
    await storage.put_hook_message(kept)
    await storage.put_hook_message(ephemeral, ttl_s=900)
    assert await storage.get_hook_message(hook, kept.id) == kept
    assert await storage.get_hook_message(hook, ephemeral.id) == ephemeral
    assert await storage.locate_hook_message(ephemeral.id) == ephemeral
    edited = HookMessage(hook, kept.id, channel, '{"content": "c"}')
    await storage.put_hook_message(edited)
    assert await storage.get_hook_message(hook, kept.id) == edited
    assert await storage.delete_hook_message(hook, kept.id)
    assert not await storage.delete_hook_message(hook, kept.id)
    assert await storage.get_hook_message(hook, kept.id) is None
    assert await storage.locate_hook_message(kept.id) is None
    assert await storage.get_hook_message(f"other-{hook}", ephemeral.id) is None
