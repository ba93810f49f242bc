"""The guild records the REST layer keeps as settings documents (scheduled events and their
interested users, auto-moderation rules, templates and their codes, slowmode marks): the listing
orders and prefix boundaries they rely on hold on every backend."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from rayguild.http_api import automod, rest_scheduled_events, rest_templates
from rayguild.storage import Storage

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]


async def test_event_users_list_in_user_id_order_per_event(storage: Storage, new_id: NewId) -> None:
    guild, event, other_event = new_id(), "1001", "10010"  # one event id is a prefix of the other's
    users = [7, 123456789012345678, 42, 9_000_000_000_000_000_000 // 1000]
    for user in users:
        await storage.put_setting(guild, f"{rest_scheduled_events.USER_PREFIX}{event}:{user:020d}", "{}")
    await storage.put_setting(guild, f"{rest_scheduled_events.USER_PREFIX}{other_event}:{5:020d}", "{}")
    await storage.put_setting(guild, f"{rest_scheduled_events.PREFIX}{event}", json.dumps({"id": event}))
    listed = await storage.list_settings(guild, f"{rest_scheduled_events.USER_PREFIX}{event}:")
    assert [int(name.rsplit(":", 1)[1]) for name, _ in listed] == sorted(users)
    events = await storage.list_settings(guild, rest_scheduled_events.PREFIX)
    assert [json.loads(doc)["id"] for _, doc in events] == [event]  # users are not events
    assert await storage.delete_setting(guild, f"{rest_scheduled_events.USER_PREFIX}{event}:{42:020d}")
    after = await storage.list_settings(guild, f"{rest_scheduled_events.USER_PREFIX}{event}:")
    assert len(after) == len(users) - 1


async def test_rules_and_templates_are_kept_per_guild(storage: Storage, new_id: NewId) -> None:
    guild, other = new_id(), new_id()
    rule = {"id": str(new_id()), "name": "words", "trigger_metadata": {"keyword_filter": ["ä*", "x"]}}
    await storage.put_setting(guild, f"{automod.PREFIX}{rule['id']}", json.dumps(rule))
    await storage.put_setting(other, f"{automod.PREFIX}{new_id()}", "{}")
    assert [json.loads(d) for _, d in await storage.list_settings(guild, automod.PREFIX)] == [rule]
    code = f"Code-{guild}_x"
    await storage.put_setting(guild, f"{rest_templates.PREFIX}{code}", json.dumps({"code": code}))
    await storage.put_setting(0, f"{rest_templates.CODE_PREFIX}{code}", json.dumps(str(guild)))
    assert json.loads(await storage.get_setting(0, f"{rest_templates.CODE_PREFIX}{code}") or "null") == str(
        guild
    )
    assert [n for n, _ in await storage.list_settings(guild, rest_templates.PREFIX)] == [f"template:{code}"]
