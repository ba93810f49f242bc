"""Losing, ungracefully, the worker node that holds both relays of a large guild and the presence
shard costs no session a re-identify.

The shards run on the head and one worker; the other worker holds only the presence shard and the
two relays of the target guild (relays are spread by a ring over the alive nodes: the guild is
chosen so that both of its relays land there). Under a stream of acknowledged messages that node
is removed without a graceful shutdown. Each session of the target guild gets GUILD_DELETE
unavailable and then, within ``RECOVERY_BOUND_S``, GUILD_CREATE on the same session (new relays on
the surviving nodes); what it missed it fetches through history; nothing acknowledged is lost; a
bystander guild on the other guild shard sees every message live and no outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import aiohttp
import pytest
from ray.cluster_utils import Cluster

from rayguild.actors import cluster
from rayguild.actors.commands import Stats
from rayguild.actors.guild_host import relay_node
from rayguild.actors.runtime import Runtime
from rayguild.config import Config, load_config
from rayguild.errors import ShardUnavailable
from rayguild.http_api.server import free_listen_ports, start_edge
from rayguild.ring import RingSnapshot, ShardName
from tests.integration.test_failover import (
    CHANNELS,
    FINAL,
    KILL_AFTER,
    MESSAGES,
    SESSIONS,
    Client,
    Node,
    Run,
    assert_no_silent_gap,
    assert_work_done,
    identify,
    until,
)

RECOVERY_BOUND_S = 45.0  # node loss to the last GUILD_CREATE (Ray's health checks: about 15 s)
GUILD_TRIES = 150  # both relays of a guild land on one of three nodes with chance 1/9


class Pinned(RingSnapshot):
    """The ring, except for shards pinned to a node (the test's arrangement of what the victim holds)."""

    __slots__ = ("pins",)

    def __init__(self, nodes: list[ShardName], pins: Mapping[str, str]) -> None:
        self.pins = dict(pins)
        super().__init__(nodes)

    def owner(self, key: object) -> ShardName:
        pinned = self.pins.get(str(key))
        return ShardName(pinned) if pinned else super().owner(str(key))


class ArrangedRuntime(Runtime):
    """Places every shard on ``spread`` nodes by the ring, and the pinned ones where they say."""

    def __init__(self, config: Config, spread: list[str], pins: Mapping[str, str], victim: str) -> None:
        super().__init__(config, edge_factory=start_edge)
        self.spread, self.pins, self.victim = spread, pins, victim

    def placement(self) -> RingSnapshot:
        return Pinned([ShardName(n) for n in self.spread], self.pins)


@pytest.fixture(scope="module")
def arranged(ray_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArrangedRuntime]:
    db = Path(tmp_path_factory.mktemp("relay-node")) / "rayguild.sqlite3"
    config = load_config(
        environ={},
        namespace="rayguild-relay-node",
        ray_address=ray_cluster.address,
        guild_shards=2,
        session_shards=2,
        presence_shards=1,
        sqlite_path=str(db),
        port=free_listen_ports(1),
        edge_port_base=free_listen_ports(2),
        log_level="warning",
        passive_update_interval_s=3600.0,
        identify_interval_s=0.0,  # the test's sessions identify back to back (Discord: one per 5 s)
        relay_threshold_sessions=2,
        relay_size=2,
    )
    head = ray_cluster.head_node.node_id
    survivor, victim = sorted(n.node_id for n in ray_cluster.worker_nodes)
    rt = ArrangedRuntime(config, [head, survivor], {"presence-0": victim}, victim)
    rt.start(log_to_driver=False)
    yield rt
    rt.shutdown()


def held_by(rt: Runtime, node_id: str) -> set[str]:
    return {a.name for a in cluster.list_named_actors(rt.config.namespace) if a.node_id == node_id}


async def test_losing_the_node_of_a_guilds_relays_and_presence_costs_no_reidentify(
    ray_cluster: Cluster, arranged: ArrangedRuntime
) -> None:
    rt = arranged
    (victim,) = [n for n in ray_cluster.worker_nodes if n.node_id == rt.victim]
    alive = cluster.alive_nodes()
    ports = [s["port"] for s in rt.ensure_started() if s.get("port")]
    watcher = asyncio.create_task(rt.watch(0.5))
    async with aiohttp.ClientSession() as http:
        node = Node(rt, http)
        registered = await node.call("POST", "/auth/register", {"username": "relay-node", "bot": True})
        node.token = registered["token"]

        def relays_on_victim(guild_id: str) -> int:
            return sum(relay_node(f"relay-{guild_id}-{i}", alive, set()) == victim.node_id for i in range(2))

        guilds: dict[str, str] = {}
        owner = rt.directory.guild_ring.owner
        for _ in range(GUILD_TRIES):  # the target: both relays on the victim; the bystander: none
            gid = (await node.call("POST", "/guilds", {"name": "candidate"}))["id"]
            if "t" not in guilds and relays_on_victim(gid) == 2:
                guilds["t"] = gid
            elif "t" in guilds and relays_on_victim(gid) == 0 and owner(int(gid)) != owner(int(guilds["t"])):
                guilds["b"] = gid
                break
            else:  # not used: gone before any session, so no relay is ever made for it
                url = f"{node.api}/guilds/{gid}"
                async with http.delete(url, headers={"Authorization": f"Bot {node.token}"}) as r:
                    assert r.status == 204
        assert set(guilds) == {"t", "b"}, "no guild with both relays on the victim node"
        for gid in guilds.values():
            node.channels[gid] = [(await node.call("GET", f"/guilds/{gid}/channels"))[0]["id"]]
            for i in range(CHANNELS - 1):
                made = await node.call("POST", f"/guilds/{gid}/channels", {"name": f"c{i}"})
                node.channels[gid].append(made["id"])

        clients = [await identify(http, ports[i % len(ports)], node.token) for i in range(SESSIONS)]
        readers = [asyncio.create_task(c.read()) for c in clients]
        expected = {"presence-0", f"relay-{guilds['t']}-0", f"relay-{guilds['t']}-1"}
        await until(lambda: held_by(rt, victim.node_id) == expected, 30)
        assert held_by(rt, victim.node_id) == expected, "the victim holds the relays and presence only"

        acked: dict[str, list[str]] = {"t": [], "b": []}
        after_kill, killed_at = {"t": 0, "b": 0}, 0.0
        removal: asyncio.Future[None] | None = None
        for i in range(MESSAGES):
            if i == KILL_AFTER:
                killed_at = time.monotonic()
                removal = asyncio.ensure_future(asyncio.to_thread(ray_cluster.remove_node, victim, False))
            for prefix, gid in guilds.items():
                if await node.post(gid, i, f"{prefix}{i:03}"):
                    acked[prefix].append(f"{prefix}{i:03}")
                    after_kill[prefix] += i >= KILL_AFTER
            await asyncio.sleep(0.05)
        assert removal is not None
        await removal

        def alive_clients() -> list[Client]:
            return [c for c in clients if not (c.invalidated or c.dropped)]

        def back() -> bool:
            return all(
                c.losses(guilds["t"]) and all(loss[1] for loss in c.losses(guilds["t"])) for c in clients
            )

        await until(back, RECOVERY_BOUND_S)
        recovered_s = max(loss[1] or 0.0 for c in clients for loss in c.losses(guilds["t"])) - killed_at
        # The presence shard comes back once Ray declares the node dead (its health checks); the
        # sessions are checked after that, so a late effect of its loss would show too.
        presence: dict[str, object] = {}
        while not presence and time.monotonic() - killed_at < RECOVERY_BOUND_S:
            with contextlib.suppress(ShardUnavailable):
                presence = await rt.directory.actor("presence-0").send(Stats())
            await asyncio.sleep(0.5)
        presence_s = time.monotonic() - killed_at
        for prefix, gid in guilds.items():  # posted once every guild is back
            if await node.post(gid, 0, f"{prefix}{FINAL}"):
                acked[prefix].append(f"{prefix}{FINAL}")
        await until(lambda: all(f"{p}{FINAL}" in c.contents(p) for c in alive_clients() for p in guilds))
        for c in alive_clients():
            for lost_at, _, _ in c.losses(guilds["t"]):
                c.fetched |= await node.history(guilds["t"], c.last_seen_before(lost_at, "t"))
        stored: set[str] = set()
        for gid in guilds.values():
            stored |= await node.history(gid, None)
        for c in clients:
            c.closing = True
            await c.ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
    watcher.cancel()

    print(
        f"relays and presence node lost: every GUILD_CREATE back after {recovered_s:.1f} s, "
        f"the presence shard after {presence_s:.1f} s"
    )
    run = Run(clients, guilds, acked, after_kill, stored, killed_at, node.token, ports)
    assert_work_done(run)
    assert_no_silent_gap(run)
    for c in clients:
        assert not c.invalidated and not c.dropped, "no op 9, no dropped socket: the session lives on"
        assert [f["t"] for _, f in c.frames].count("READY") == 1, "never identified again"
        losses = c.losses(guilds["t"])
        assert losses, "every session of the target guild was in a lost relay, and is told"
        for _, back_at, guild in losses:
            assert back_at is not None and guild is not None, "GUILD_CREATE after GUILD_DELETE"
            assert back_at - killed_at < RECOVERY_BOUND_S
            assert any(ch.get("last_message_id") for ch in guild["channels"]), "history can be fetched"
        assert not c.losses(guilds["b"]), "the bystander guild was never unavailable"
        assert set(acked["b"]) <= set(c.contents("b")), "the bystander guild got everything live"
        assert f"t{FINAL}" in c.contents("t"), "the target guild is live again"
    assert presence and presence["node_id"] != victim.node_id, "the presence shard runs on a surviving node"
    assert not held_by(rt, victim.node_id)
