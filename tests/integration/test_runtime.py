"""The runtime on real Ray: named shards, ring lookups shared by drivers, restarts under the same name."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from ray.util.state import list_actors

from rayguild.actors import cluster
from rayguild.actors.commands import Publish, Stats
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.synthetic_edge import SyntheticEdges
from rayguild.benchmarks.synthetic_guild import channel_of, guild_stats, mode_config, run_shards, store_guild
from rayguild.errors import ShardUnavailable
from rayguild.fanout.events import GUILD_MESSAGES

pytestmark = pytest.mark.ray


def test_shards_come_up_under_their_names(runtime: Runtime) -> None:
    alive = {
        a.name
        for a in list_actors(  # THIS cluster's address: other Ray clusters may run on the machine
            address=cluster.gcs_address(),
            filters=[("ray_namespace", "=", runtime.config.namespace)],
            limit=1000,
        )
        if a.state == "ALIVE"
    }
    assert {"guild-0", "guild-1", "session-0", "session-1", "presence-0"} <= alive
    status = {row.name: row for row in runtime.status()}
    assert all(status[name].state == "ALIVE" and status[name].pid > 0 for name in status)


SECOND_DRIVER = """
import sys
from rayguild.actors import cluster
from rayguild.actors.commands import Stats
from rayguild.actors.refs import Directory
from rayguild.config import load_config
config = load_config(environ={}, namespace=sys.argv[2], guild_shards=2, ray_address=sys.argv[1])
cluster.init(config)
directory = Directory(config)
for guild_id in map(int, sys.argv[3:]):
    ref = directory.guild_shard(guild_id).ref
    print(guild_id, ref.name, ref.send_sync(Stats())["pid"])
"""


def test_an_id_resolves_to_the_same_shard_from_two_drivers(runtime: Runtime) -> None:
    guild_ids = [1, 2, 4, 9, 81384788765712384, 175928847299117063]
    mine = {}
    for guild_id in guild_ids:
        ref = runtime.directory.guild_shard(guild_id).ref
        mine[guild_id] = (ref.name, ref.send_sync(Stats())["pid"])
    assert {name for name, _ in mine.values()} == {"guild-0", "guild-1"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SECOND_DRIVER,
            cluster.gcs_address(),
            runtime.config.namespace,
            *map(str, guild_ids),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAY_LOG_TO_DRIVER": "0"},
        check=True,
    ).stdout
    theirs = {
        int(g): (name, int(pid)) for g, name, pid in (line.split() for line in out.strip().splitlines())
    }
    assert theirs == mine


def test_a_killed_shard_is_restarted_and_found_again_under_its_name(runtime: Runtime) -> None:
    ref = runtime.directory.actor("presence-0")
    before = ref.send_sync(Stats())["pid"]
    ref.kill(restart=True)
    deadline = time.monotonic() + 60
    after = before
    while after == before and time.monotonic() < deadline:  # ray.kill returns before the process is gone
        try:
            after = ref.send_sync(Stats(), timeout_s=5)["pid"]
        except ShardUnavailable:
            time.sleep(0.5)
    assert after != before
    fresh = cluster.ActorRef("presence-0", runtime.config.namespace)  # found again by name alone
    assert fresh.send_sync(Stats())["pid"] == after
    assert runtime.ensure_started()  # the idempotent start runs again on the new incarnation


@pytest.mark.parametrize("mode", ["direct", "relays", "relays+passive"])
async def test_every_active_session_gets_each_event_exactly_once_through_ray(
    runtime: Runtime, mode: str
) -> None:
    """Sessions identified through the synthetic edges (the session lifecycle, as a gateway's),
    in a guild the guild shard loads from storage; shards of their own, configured for the mode."""
    config = mode_config(replace(runtime.config, guild_shards=1), mode)
    namespace = f"rayguild-test-{mode.replace('+', '-')}"
    async with run_shards(config, namespace) as shards, SyntheticEdges(shards.directory, 2) as edges:
        guild_id = 500
        await store_guild(shards.config, guild_id, 50)
        users = [[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]]
        active = [1, 2, 5, 8] if mode == "relays+passive" else []
        opened = [await edges.open(i, users[i], [guild_id], GUILD_MESSAGES, active=active) for i in range(2)]
        assert [o["opened"] for o in opened] == [5, 5]
        expected = len(active) if active else 10
        await edges.collect(10, 30)  # the GUILD_CREATEs
        guild = shards.directory.guild_shard(guild_id)
        for i in range(5):
            body = {"id": str(i), "content": "x"}
            await guild.publish(
                Publish(guild_id, "MESSAGE_CREATE", body, channel_of(guild_id), GUILD_MESSAGES)
            )
        deadline = time.monotonic() + 30
        counts: dict[int, int] = {}
        while time.monotonic() < deadline and sum(counts.values()) < 5 * expected:
            for key, (_, n) in (await edges.collect(0, 0)).items():
                counts[key] = counts.get(key, 0) + n
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # nothing more may come
        for key, (_, n) in (await edges.collect(0, 0)).items():
            counts[key] = counts.get(key, 0) + n
        assert sorted(counts.values()) == [expected] * 5
        stats = await guild_stats(shards, guild_id)
        assert stats["relays"] == (0 if mode == "direct" else 4)  # 10 sessions, relay_size 3
        assert stats["dropped_sessions"] == 0
        assert await edges.close() == 10
