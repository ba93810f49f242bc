"""The Runtime: starts Ray (or joins a cluster), creates the configured shards, keeps them started.

Shards are named ``guild-<n>``, ``session-<n>``, ``presence-<n>``, ``push-<n>``. After Ray restarts a crashed
shard, ``ensure_started`` (run every ``watch_interval_s`` by ``watch``) calls its idempotent
``start`` again, which brings its edge and storage back.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from rayguild.actors import cluster
from rayguild.actors.commands import Start, Stats
from rayguild.actors.guild_host import GuildShardHost
from rayguild.actors.hosts import EdgeFactory, PresenceShardHost, PushShardHost
from rayguild.actors.push import TransportFactory
from rayguild.actors.refs import GUILD, PRESENCE, PUSH, SESSION, Directory
from rayguild.actors.session_host import SessionShardHost
from rayguild.config import Config
from rayguild.errors import RayguildError, ShardUnavailable
from rayguild.ring import RingSnapshot, ShardName, shard_name


@dataclass(frozen=True, slots=True)
class ShardStatus:
    name: str
    state: str
    node_id: str
    pid: int
    stats: dict[str, Any]


START_TIMEOUT_S = 300.0


class Runtime:
    def __init__(
        self,
        config: Config,
        edge_factory: EdgeFactory | None = None,
        push_transport: TransportFactory | None = None,
    ) -> None:
        self.config = config
        self.edge_factory = edge_factory
        self.push_transport = push_transport
        self.directory = Directory(config)

    def shard_names(self) -> list[ShardName]:
        c = self.config
        return (
            [shard_name(GUILD, i) for i in range(c.guild_shards)]
            + [shard_name(PRESENCE, i) for i in range(c.presence_shards)]
            + [shard_name(PUSH, i) for i in range(c.push_shards)]
            + [shard_name(SESSION, i) for i in range(c.session_shards)]
        )

    def start(self, dashboard: bool = True, **ray_options: Any) -> list[dict[str, Any]]:
        """Start or join Ray, create every shard, start them; returns each shard's start info."""
        cluster.init(self.config, dashboard, **ray_options)
        ns, c = self.config.namespace, self.config
        node = self.placement().owner

        def spawn(cls: type, kind: str, index: int, *extra: Any) -> cluster.ActorRef:
            name = shard_name(kind, index)
            return cluster.spawn(cls, name, ns, index, c, *extra, node_id=node(name))

        spawned = (
            [spawn(GuildShardHost, GUILD, i) for i in range(c.guild_shards)]
            + [spawn(PresenceShardHost, PRESENCE, i) for i in range(c.presence_shards)]
            + [spawn(PushShardHost, PUSH, i, self.push_transport) for i in range(c.push_shards)]
            + [spawn(SessionShardHost, SESSION, i, self.edge_factory) for i in range(c.session_shards)]
        )
        for ref in spawned:
            self.directory.register(ref)
        return self.ensure_started()

    def placement(self) -> RingSnapshot:
        """Shard name -> node id: a ring over the alive nodes spreads the shards across them.

        Placement is soft and only chosen at creation; a shard whose node is lost is restarted
        by Ray on a surviving node.
        """
        return RingSnapshot([ShardName(node) for node in cluster.alive_nodes()])

    def ensure_started(self) -> list[dict[str, Any]]:
        """Start every shard in turn. The first start on a new Cassandra keyspace creates the whole
        schema (about 70 tables), which takes minutes on a loaded node; a dead shard still fails at
        once (the timeout only bounds a live shard that is slow to answer)."""
        return [self.directory.actor(name).send_sync(Start(), START_TIMEOUT_S) for name in self.shard_names()]

    async def watch(self, interval_s: float = 1.0) -> None:
        """Re-start shards Ray has restarted (their start is idempotent).

        Every shard on its own: a start that does not answer (its node lost under the call, its
        storage slow) holds up only that shard's next start, never the others' (seen: an edge
        killed in a rolling restart stayed down for minutes behind another shard's start).
        """
        starting: dict[str, asyncio.Future[None]] = {}
        try:
            while True:
                await asyncio.sleep(interval_s)
                for name in self.shard_names():
                    if name not in starting or starting[name].done():
                        starting[name] = asyncio.ensure_future(self._start(name))
        finally:
            for task in starting.values():
                task.cancel()

    async def _start(self, name: str) -> None:
        """One start; a refusal (the shard restarting, its storage down) is retried next round."""
        with contextlib.suppress(RayguildError):
            await self.directory.actor(name).send(Start())

    def status(self) -> list[ShardStatus]:
        actors = {a.name: a for a in cluster.list_named_actors(self.config.namespace)}
        out = []
        for name in self.shard_names():
            info = actors.get(name)
            try:
                stats = self.directory.actor(name).send_sync(Stats(), timeout_s=5) if info else {}
            except ShardUnavailable:
                stats = {}
            out.append(
                ShardStatus(
                    name,
                    info.state if info else "MISSING",
                    info.node_id if info else "",
                    info.pid if info else 0,
                    stats,
                )
            )
        return out

    async def drain(self) -> int:
        """Drain every edge (op 7 to its clients, no more accepting); how many sessions were told.

        Edges drain one after another, so each hands its ports to one still accepting; the last
        one has no peer left, and its clients reconnect once a node is back."""
        told = 0
        for index in range(self.config.session_shards):
            try:
                told += await self.directory.session_shard(index).drain()
            except ShardUnavailable:
                continue
        return told

    def dashboard_url(self) -> str | None:
        return cluster.dashboard_url()

    def shutdown(self) -> None:
        cluster.shutdown()
