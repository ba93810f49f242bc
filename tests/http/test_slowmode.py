"""Slowmode enforced on message create: a member's second message within ``rate_limit_per_user``
is 429 20016 with ``retry_after``; bots and members who may MANAGE_MESSAGES are unaffected; a
channel without slowmode never waits; of one author's messages racing through two edges exactly one
passes; a claim whose compare-and-set timed out passes only if the stored claim is its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from rayguild.storage.sqlite import SqliteStorage
from tests.http import test_moderation
from tests.http.helpers import API, MarkProbe, NewGuild, call
from tests.http.spec import assert_rate_limited_matches_spec

Client = TestClient[Any, Any]
limit_scale = test_moderation.limit_scale  # the edge with scaled-up limits: these tests post in bursts


@pytest.fixture
def probe() -> MarkProbe:
    return MarkProbe()


@pytest.fixture
def wrap_storage(probe: MarkProbe) -> Callable[[SqliteStorage], Any]:
    """Every part's storage object watched by ``probe``."""
    return probe.wrap


async def test_slowmode_is_enforced(client: Client, register: Any, new_guild: NewGuild) -> None:
    owner, member, bot = (
        await register("slowowner"),
        await register("chatty"),
        await register("slowbot", bot=True),
    )
    channel = (await new_guild("Slow", owner, member, bot)).channel["id"]
    send = f"/channels/{channel}/messages"
    for _ in range(3):  # no slowmode yet
        await call(client, member, "POST", send, json={"content": "quick"})
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 30})
    await call(client, member, "POST", send, json={"content": "first"})
    slowed = await call(client, member, "POST", send, 429, json={"content": "second"})
    assert slowed["code"] == 20016 and 0 < slowed["retry_after"] <= 30
    for who in (owner, bot):  # MANAGE_MESSAGES holders and bots are unaffected
        await call(client, who, "POST", send, json={"content": "one"})
        await call(client, who, "POST", send, json={"content": "two"})
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 0})
    await call(client, member, "POST", send, json={"content": "free again"})


async def test_of_one_authors_racing_messages_through_two_edges_exactly_one_passes(
    client: Client, other_edge: Client, probe: MarkProbe, register: Any, new_guild: NewGuild
) -> None:
    owner, member = await register("raceowner"), await register("racer")
    channel = (await new_guild("Race", owner, member)).channel["id"]
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 60})

    async def send(edge: Client, n: int) -> tuple[int, Any, str | None]:
        response = await edge.post(f"{API}/channels/{channel}/messages", headers=member.headers,
                                   json={"content": f"race {n}"})  # fmt: skip
        return response.status, await response.json(), response.headers.get("Retry-After")

    probe.gate(16)  # every message reads the mark before any claims it: they surely race
    answers = await asyncio.gather(*(send((client, other_edge)[n % 2], n) for n in range(16)))
    assert sorted(status for status, _, _ in answers) == [200] + [429] * 15
    assert probe.lost == 15  # the 429s lost the compare-and-set (a plain write would let all pass)
    for status, body, retry_after in answers:
        if status == 429:
            assert_rate_limited_matches_spec("POST", "/channels/{channel_id}/messages", body)
            assert body["code"] == 20016 and body["global"] is False and 0 < body["retry_after"] <= 60
            assert retry_after is not None and 0 < int(retry_after) <= 60
    history = await call(client, owner, "GET", f"/channels/{channel}/messages?limit=50")
    assert [m["content"] for m in history] == [b["content"] for s, b, _ in answers if s == 200]


async def test_a_claim_that_timed_out_passes_only_if_it_is_stored(
    client: Client, probe: MarkProbe, register: Any, new_guild: NewGuild
) -> None:
    owner, member, other = await register("casowner"), await register("casmember"), await register("casother")
    channel = (await new_guild("Ambiguous", owner, member, other)).channel["id"]
    send = f"/channels/{channel}/messages"
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 60})
    probe.timeouts.append("applied")  # the claim was stored, then the write timed out
    await call(client, member, "POST", send, json={"content": "stored"})
    assert (await call(client, member, "POST", send, 429, json={"content": "too soon"}))["code"] == 20016

    probe.timeouts.append("unapplied")  # not stored: refused, the author may try again at once
    assert (await call(client, other, "POST", send, 429, json={"content": "lost"}))["retry_after"] <= 1
    probe.timeouts.append("down")  # not stored and the re-read fails: 503, nothing acknowledged
    assert (await call(client, other, "POST", send, 503, json={"content": "down"}))["code"] == 0
    await call(client, other, "POST", send, json={"content": "through"})
    history = await call(client, owner, "GET", f"/channels/{channel}/messages")
    assert [m["content"] for m in history] == ["through", "stored"]
