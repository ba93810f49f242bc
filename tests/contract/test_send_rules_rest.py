"""The message path's send rules through two edges on every backend: of one author's messages
racing into a slowed channel exactly one passes (the mark's compare-and-set is a lightweight
transaction on Cassandra), and a rule created through one edge blocks at once through the other
(the guild cache's stamp is read from the database each message)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from rayguild.config import Config
from rayguild.http_api.local import LocalCluster
from rayguild.storage import SqliteStorage, Storage
from tests.http.helpers import API, MarkProbe, call, edge_client, joined_guild, registrar

from .conftest import BACKENDS, make_scylla

Client = TestClient[Any, Any]
RULE = {"name": "Words", "event_type": 1, "trigger_type": 1, "trigger_metadata": {"keyword_filter": ["nope"]},
        "actions": [{"type": 1, "metadata": {}}], "enabled": True}  # fmt: skip


@pytest.fixture
def probe() -> MarkProbe:
    return MarkProbe()


@pytest.fixture(params=BACKENDS)
async def edges(
    request: pytest.FixtureRequest, tmp_path: Path, probe: MarkProbe
) -> AsyncIterator[tuple[Client, Client]]:
    """Two edges of one in-process cluster on the backend, each with its own storage object
    (watched by ``probe``)."""
    factory: Callable[[], Storage]
    if request.param == "sqlite":
        factory = lambda: SqliteStorage(tmp_path / "edges.sqlite3")  # noqa: E731
    else:
        factory = make_scylla
    cluster = LocalCluster(Config(tick_ms=1.0, identify_interval_s=0.0), lambda: probe.wrap(factory()))
    async with AsyncExitStack() as stack:
        stack.push_async_callback(cluster.close)
        a = await stack.enter_async_context(edge_client(cluster, 0, limit_scale=100))
        b = await stack.enter_async_context(edge_client(cluster, 1, limit_scale=100))
        yield a, b


async def test_racing_messages_and_a_new_rule_through_two_edges(
    edges: tuple[Client, Client], probe: MarkProbe
) -> None:
    a, b = edges
    register = registrar(a)
    owner, member = await register("owner"), await register("racer")
    guild = await joined_guild(a, "Race", owner, member)
    gid, channel = guild.id, guild.channel["id"]
    send = f"/channels/{channel}/messages"
    await call(b, member, "POST", send, json={"content": "nope, no rule yet"})  # B has read the rules
    await call(a, owner, "POST", f"/guilds/{gid}/auto-moderation/rules", json=RULE)
    assert (await call(b, member, "POST", send, 400, json={"content": "nope"}))["code"] == 200000

    await call(a, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 60})

    async def post(edge: Client, n: int) -> tuple[int, Any]:
        response = await edge.post(f"{API}{send}", headers=member.headers, json={"content": f"race {n}"})
        return response.status, await response.json()

    probe.gate(8)  # every message reads the mark before any claims it: they surely race
    answers = await asyncio.gather(*(post((a, b)[n % 2], n) for n in range(8)))
    assert sorted(status for status, _ in answers) == [200] + [429] * 7, answers
    assert probe.lost >= 1  # a lost compare-and-set refused (a plain write would let all 8 pass)
    assert all(body["code"] == 20016 and body["retry_after"] > 0 for status, body in answers if status == 429)
