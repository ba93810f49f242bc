"""What the message-create path reads of a guild's send rules (auto-moderation rules, a channel's
slowmode): a change made through one edge applies at once to a message posted through another,
and the storage reads a message costs do not grow with the number of rules (counted by a storage
wrapper around the edge's own storage object, not by timing)."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from rayguild.http_api.keys import CTX
from rayguild.storage.sqlite import SqliteStorage
from tests.http import test_moderation
from tests.http.helpers import Client, NewGuild, Register, call

limit_scale = test_moderation.limit_scale  # the edges with scaled-up limits: many writes
KEYWORD_RULE = {"name": "Words", "event_type": 1, "trigger_type": 1, "enabled": True,
                "trigger_metadata": {"keyword_filter": ["forbidden"]},
                "actions": [{"type": 1, "metadata": {}}]}  # fmt: skip


class CountingStorage:
    """A storage object that counts its reads: calls of get_* / list_* methods, and the documents
    they returned (one per record, each item of a list). Everything else passes through."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls, self.documents = inner, Counter[str](), Counter[str]()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not (name.startswith(("get_", "list_")) and inspect.iscoroutinefunction(attr)):
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            found = await attr(*args, **kwargs)
            self.calls[name] += 1
            self.documents[name] += len(found) if isinstance(found, list) else int(found is not None)
            return found

        return counted

    def reset(self) -> None:
        self.calls.clear()
        self.documents.clear()


@pytest.fixture
def wrap_storage() -> Callable[[SqliteStorage], Any]:
    """Every part's storage object counted."""
    return CountingStorage


def storage_of(client: Client) -> CountingStorage:
    """The edge's own (counted) storage object."""
    storage: CountingStorage = client.server.app[CTX].storage  # type: ignore[assignment]
    return storage


async def _guild(new_guild: NewGuild, register: Register) -> tuple[Any, Any, str, str]:
    owner, member = await register("sendowner"), await register("sender")
    guild = await new_guild("Send rules", owner, member)
    return owner, member, guild.id, guild.channel["id"]


async def test_a_change_through_one_edge_applies_at_once_through_another(
    client: Client, other_edge: Client, register: Register, new_guild: NewGuild
) -> None:
    a, b = client, other_edge
    owner, member, gid, channel = await _guild(new_guild, register)
    send = f"/channels/{channel}/messages"
    await call(b, member, "POST", send, json={"content": "forbidden fruit"})  # B has read the rules
    rule = await call(a, owner, "POST", f"/guilds/{gid}/auto-moderation/rules", json=KEYWORD_RULE)
    blocked = await call(b, member, "POST", send, 400, json={"content": "forbidden fruit"})
    assert blocked["code"] == 200000
    path = f"/guilds/{gid}/auto-moderation/rules/{rule['id']}"
    await call(a, owner, "PATCH", path, json={"enabled": False})
    await call(b, member, "POST", send, json={"content": "forbidden again"})
    await call(a, owner, "PATCH", path, json={"enabled": True})
    await call(b, member, "POST", send, 400, json={"content": "forbidden once more"})
    await call(a, owner, "DELETE", path, 204)
    await call(b, member, "POST", send, json={"content": "forbidden, but no rule"})

    await call(a, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 60})
    await call(b, member, "POST", send, json={"content": "first"})
    assert (await call(b, member, "POST", send, 429, json={"content": "second"}))["code"] == 20016
    await call(a, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 0})
    await call(b, member, "POST", send, json={"content": "free again"})

    thread = await call(a, owner, "POST", f"/channels/{channel}/threads", 201, json={"name": "t", "type": 11})
    in_thread = f"/channels/{thread['id']}/messages"
    await call(b, member, "POST", in_thread, json={"content": "thread, no slowmode"})
    await call(a, owner, "PATCH", f"/channels/{thread['id']}", json={"rate_limit_per_user": 60})
    await call(b, member, "POST", in_thread, json={"content": "thread, first"})
    assert (await call(b, member, "POST", in_thread, 429, json={"content": "thread, second"}))[
        "code"
    ] == 20016


async def test_storage_reads_per_message_do_not_grow_with_the_rules(
    client: Client, register: Register, new_guild: NewGuild
) -> None:
    a, storage = client, storage_of(client)
    owner, member, gid, channel = await _guild(new_guild, register)
    per_message = {}
    for rules in (1, 6):  # KEYWORD rules: Discord allows 6 a guild
        while len(await call(a, owner, "GET", f"/guilds/{gid}/auto-moderation/rules")) < rules:
            body = {**KEYWORD_RULE, "trigger_metadata": {"keyword_filter": [f"word{rules}"]}}
            await call(a, owner, "POST", f"/guilds/{gid}/auto-moderation/rules", json=body)
        await call(a, member, "POST", f"/channels/{channel}/messages", json={"content": "warm"})
        storage.reset()
        sent = 5
        for n in range(sent):  # a member: the rules apply to them (a manager's are not read)
            await call(a, member, "POST", f"/channels/{channel}/messages", json={"content": f"hi {n}"})
        assert storage.calls["get_channel"] == sent  # the messages were checked, one read each
        assert "list_settings" not in storage.calls  # the rules were not read again
        per_message[rules] = (sum(storage.calls.values()) / sent, sum(storage.documents.values()) / sent)
    assert per_message[1] == per_message[6]
