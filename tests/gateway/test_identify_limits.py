"""Identify limits as Discord has them (http_api/identify_limits.py): ``GET /gateway/bot`` counts
session starts down, resumes and user accounts do not count, an identify beyond the limit is 4004,
one beyond ``max_concurrency`` is op 9, invalid shard values are 4010, an unsharded bot in more
than 2500 guilds is 4011."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rayguild.config import Config
from rayguild.http_api.gateway_protocol import GatewayClose
from rayguild.http_api.identify_limits import IdentifyThrottled, StartRule, admit, standing, take
from rayguild.storage import SessionStarts, SqliteStorage, User

from .conftest import ConnectionClosed, EdgeFactory


async def limit_of(edge: Any, headers: dict[str, str]) -> dict[str, Any]:
    body = await edge.rest("GET", "/gateway/bot", headers)
    assert body["shards"] == 1
    limit: dict[str, Any] = body["session_start_limit"]
    return limit


async def test_session_starts_count_down_and_the_one_beyond_is_4004(make_edge: EdgeFactory) -> None:
    edge = await make_edge(session_start_total=2, identify_interval_s=0.0)
    token, headers, _, _ = await edge.guild_with_bot()
    fresh = await limit_of(edge, headers)
    assert fresh == {"total": 2, "remaining": 2, "reset_after": 86_400_000, "max_concurrency": 1}

    first = await edge.connect()
    ready = (await first.identify(token))["d"]
    assert (await limit_of(edge, headers))["remaining"] == 1
    await first.ws.close(code=4000)  # not a final close: the session stays resumable
    resumed = await edge.connect()  # a resume is not a session start
    await resumed.send({"op": 6, "d": {"token": token, "session_id": ready["session_id"], "seq": first.seq}})
    assert (await resumed.dispatch("RESUMED"))["t"] == "RESUMED"
    assert (await limit_of(edge, headers))["remaining"] == 1

    await (await edge.connect()).identify(token)
    after = await limit_of(edge, headers)
    assert after["remaining"] == 0 and 0 < after["reset_after"] <= 86_400_000
    refused = await edge.connect()
    await refused.send({"op": 2, "d": {"token": token, "intents": 1, "properties": {}}})
    assert await refused.closed_with() == 4004

    human_token, _, _ = await edge.register("human", bot=False)  # user accounts are not limited
    for _ in range(3):
        assert (await (await edge.connect()).identify(human_token))["t"] == "READY"


async def test_an_identify_beyond_max_concurrency_is_op_9_and_counts_nothing(make_edge: EdgeFactory) -> None:
    # An interval far longer than the test: the refusal cannot depend on the machine's speed.
    edge = await make_edge(identify_max_concurrency=2, identify_interval_s=3600.0)
    token, headers, _, _ = await edge.guild_with_bot()
    assert (await limit_of(edge, headers))["max_concurrency"] == 2
    await (await edge.connect()).identify(token, shard=[0, 2])
    await (await edge.connect()).identify(token, shard=[1, 2])  # the other bucket: allowed
    again = await edge.connect()
    await again.send({"op": 2, "d": {"token": token, "intents": 1, "properties": {}, "shard": [2, 4]}})
    frame = await again.recv()  # bucket 2 % 2 = 0 identified less than an interval ago
    assert (frame["op"], frame["d"]) == (9, False)
    assert (await limit_of(edge, headers))["remaining"] == 1000 - 2


@pytest.mark.parametrize("shard", [[1, 1], [0, 0], [-1, 2], [0], "0,1", [0, True]])
async def test_invalid_shard_values_are_4010(make_edge: EdgeFactory, shard: Any) -> None:
    edge = await make_edge()
    token, _, _, _ = await edge.guild_with_bot()
    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": token, "intents": 1, "properties": {}, "shard": shard}})
    assert await gw.closed_with() == 4010


async def test_a_shard_of_more_than_2500_guilds_is_4011_and_counts_nothing(tmp_path: Any) -> None:
    storage = SqliteStorage(str(tmp_path / "limits.sqlite3"))
    await storage.start()
    config = Config(sqlite_path=str(tmp_path / "limits.sqlite3"))
    bot = User(id=42, username="big", bot=True)
    with pytest.raises(GatewayClose) as closed:
        await admit(storage, config, bot, (0, 1), 2501)
    assert int(closed.value.code) == 4011
    assert await storage.get_session_starts(42) is None
    await admit(storage, config, bot, (0, 2), 1250)  # sharded: fine
    assert (await storage.get_session_starts(42) or SessionStarts(42, 0, 0, 0)).used == 1
    await storage.close()


def test_the_window_opens_at_the_first_identify_and_resets_after_its_period() -> None:
    rule = StartRule(total=2, reset_ms=1000, max_concurrency=1, interval_ms=0)
    one = take(7, None, rule, 10_000, 0)
    two = take(7, one, rule, 10_500, 0)
    assert standing(two, rule, 10_600).remaining == 0 and standing(two, rule, 10_600).reset_after_ms == 400
    with pytest.raises(GatewayClose):
        take(7, two, rule, 10_999, 0)
    three = take(7, two, rule, 11_000, 0)  # a new window
    assert (three.window_start_ms, three.used, three.version) == (11_000, 1, 3)


def test_each_bucket_takes_one_identify_per_interval() -> None:
    rule = StartRule(total=100, reset_ms=10**6, max_concurrency=2, interval_ms=5000)
    one = take(7, None, rule, 0, 0)
    two = take(7, one, rule, 1, 1)
    with pytest.raises(IdentifyThrottled):
        take(7, two, rule, 4999, 0)
    assert take(7, two, rule, 5000, 0).used == 3


async def test_the_count_is_shared_by_every_edge(two_edges: Any) -> None:
    first, second = two_edges
    token, headers, _, _ = await first.guild_with_bot()
    await (await first.connect()).identify(token)
    await (await second.connect()).identify(token)
    assert (
        (await limit_of(first, headers))["remaining"] == (await limit_of(second, headers))["remaining"] == 998
    )


async def _admit_all(
    clients: list[SqliteStorage], config: Config, shards: list[tuple[int, int]]
) -> list[str]:
    """Admit one identify of one bot per shard, all at once, spread over ``clients`` (one per
    edge); each outcome as its name: READY, 4004 or op 9."""
    bot = User(id=42, username="busy", bot=True)

    async def one(i: int, shard: tuple[int, int]) -> str:
        try:
            await admit(clients[i % len(clients)], config, bot, shard, 1)
        except IdentifyThrottled:
            return "op 9"
        except GatewayClose as closed:
            return str(int(closed.code))
        return "READY"

    return list(await asyncio.gather(*(one(i, shard) for i, shard in enumerate(shards))))


async def test_concurrent_identifies_of_one_bot_are_each_counted_or_refused_never_lost(tmp_path: Any) -> None:
    """300 identifies at once on three edges' storage clients: the 250 session starts left go to
    exactly 250 of them, the rest get 4004; none is told to retry for contention alone."""
    path = str(tmp_path / "limits.sqlite3")
    clients = [SqliteStorage(path) for _ in range(3)]
    for client in clients:
        await client.start()
    config = Config(sqlite_path=path, session_start_total=250, identify_interval_s=0.0)
    outcomes = await _admit_all(clients, config, [(0, 1)] * 300)
    assert (outcomes.count("READY"), outcomes.count("4004"), outcomes.count("op 9")) == (250, 50, 0)
    assert (await clients[0].get_session_starts(42) or SessionStarts(42, 0, 0, 0)).used == 250
    for client in clients:
        await client.close()


async def test_concurrent_identifies_pass_one_per_bucket_the_others_get_op_9(tmp_path: Any) -> None:
    path = str(tmp_path / "limits.sqlite3")
    clients = [SqliteStorage(path) for _ in range(3)]
    for client in clients:
        await client.start()
    config = Config(sqlite_path=path, identify_max_concurrency=4, identify_interval_s=3600.0)
    outcomes = await _admit_all(clients, config, [(i % 16, 16) for i in range(200)])
    assert (outcomes.count("READY"), outcomes.count("op 9")) == (4, 196)
    record = await clients[0].get_session_starts(42)
    assert record is not None and record.used == 4 and [b for b, _ in record.bucket_last_ms] == [0, 1, 2, 3]
    for client in clients:
        await client.close()


async def test_concurrent_gateway_identifies_of_one_bot_on_two_edges_all_get_ready(two_edges: Any) -> None:
    first, second = two_edges
    token, headers, _, _ = await first.guild_with_bot()
    sockets = [await edge.connect() for edge in (first, second) for _ in range(20)]
    readies = await asyncio.gather(*(gw.identify(token) for gw in sockets))
    assert len({ready["d"]["session_id"] for ready in readies}) == 40
    assert (await limit_of(first, headers))["remaining"] == 1000 - 40


async def test_concurrent_gateway_identifies_beyond_the_limit_are_4004(make_edge: EdgeFactory) -> None:
    edge = await make_edge(session_start_total=20, identify_interval_s=0.0)
    token, headers, _, _ = await edge.guild_with_bot()
    sockets = [await edge.connect() for _ in range(30)]
    for gw in sockets:
        await gw.send({"op": 2, "d": {"token": token, "intents": 1, "properties": {}}})

    async def outcome(gw: Any) -> str:
        try:
            frame = await gw.dispatch("READY")
        except ConnectionClosed as closed:
            return str(closed.code)
        return str(frame["t"])

    outcomes = await asyncio.gather(*(outcome(gw) for gw in sockets))
    assert (outcomes.count("READY"), outcomes.count("4004")) == (20, 10)
    assert (await limit_of(edge, headers))["remaining"] == 0
