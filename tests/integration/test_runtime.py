"""The runtime on real Ray: named shards, ring lookups shared by drivers, restarts under the same name."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from ray.util.state import list_actors

from rayguild.actors import cluster
from rayguild.actors.bench import BenchGuild
from rayguild.actors.commands import (
    AddSynthetic,
    BenchBuild,
    BenchForget,
    BenchStats,
    Publish,
    Stats,
    TakeTrace,
)
from rayguild.actors.runtime import Runtime
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
    shards = [runtime.directory.session_shard(i).ref for i in range(2)]
    slots = {i: await shard.send(AddSynthetic(5)) for i, shard in enumerate(shards)}
    guild_id = {"direct": 500, "relays": 600, "relays+passive": 700}[mode]
    guild = runtime.directory.guild_shard(guild_id)
    spec = BenchGuild(guild_id, 50, slots, 0.4, mode)
    sizes = await guild.ref.send(BenchBuild(spec))
    expected_relays = 0 if mode == "direct" else 4  # 10 sessions, relay_size 3
    assert sizes["relays"] == expected_relays
    for shard in shards:
        await shard.send(TakeTrace())
    for i in range(5):
        await guild.publish(
            Publish(
                guild_id, "MESSAGE_CREATE", {"id": str(i), "content": "x"}, spec.channel_id, GUILD_MESSAGES
            )
        )
    deadline = time.monotonic() + 30
    counts: dict[int, int] = {}
    while time.monotonic() < deadline and sum(counts.values()) < 5 * sizes["active_sessions"]:
        for shard in shards:
            for key, (_, n) in (await shard.send(TakeTrace())).items():
                counts[key] = counts.get(key, 0) + n
        await asyncio.sleep(0.05)
    assert len(counts) == 5
    assert all(n == sizes["active_sessions"] for n in counts.values())
    if mode == "relays+passive":
        assert sizes["active_sessions"] < 10
    stats = await guild.ref.send(BenchStats(guild_id))
    assert stats["dropped_sessions"] == 0
    await guild.ref.send(BenchForget(guild_id))
    assert np.all([s.size == 5 for s in slots.values()])
