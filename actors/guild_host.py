"""The guild shard as Ray runs it: the plain ``GuildShard`` body plus what only a Ray actor needs.

Relays are named actors created on demand; batches to session shards and relays are numbered
per destination (``StreamSequencer``) so the receivers apply them in order; a restarted shard
first tells the session shards holding its guilds' sessions (GUILD_DELETE unavailable, then a
re-join that brings GUILD_CREATE; no re-identify); metrics and
the passive-summary loop run off the hot path. Built from ``(index, config)`` only, so Ray can
restart it by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

import structlog

from rayguild.actors import cluster
from rayguild.actors import commands as c
from rayguild.actors.cluster import ActorRef
from rayguild.actors.guild import GuildShard
from rayguild.actors.hosts import call_all, whoami
from rayguild.actors.metrics import count, shard_metrics
from rayguild.actors.outbox import Outbox
from rayguild.actors.refs import Directory
from rayguild.actors.relay import RelayHost
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.fanout.ordering import StreamSequencer
from rayguild.logs import configure_logging
from rayguild.relay import GuildPermissions, RelayCommand
from rayguild.ring import RingSnapshot, ShardName
from rayguild.storage import open_storage

log = structlog.get_logger("rayguild.hosts")


SUSPECT_S = 60.0  # a node that just lost a relay gets no new relay for this long
ALIVE_NODES_TTL_S = 1.0  # how long the list of alive nodes is reused (relays come in bursts)


def relay_node(name: str, alive: list[str], avoid: set[str]) -> str | None:
    """The node relay ``name`` is placed on: a ring over the alive nodes not to avoid (None: no
    preference, when every alive node is to be avoided)."""
    candidates = [ShardName(node) for node in alive if node not in avoid]
    return RingSnapshot(candidates).owner(name) if candidates else None


class RayRelayTransport:
    """Relays as named Ray actors ``relay-<guild>-<n>``, created on demand by their guild and
    spread over the nodes by a ring (a soft preference, as for shards).

    A lost relay's node is avoided for ``SUSPECT_S``: a node that died is still reported alive
    until Ray's health checks give up on it (seconds), and a replacement placed there would be
    lost again. A lost relay is retired by its guild and killed here for good: Ray would otherwise
    restart it empty, to idle forever.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.refs: dict[tuple[int, int], ActorRef] = {}
        self.nodes: dict[tuple[int, int], str | None] = {}  # where each relay was placed
        self._sequencer = StreamSequencer()  # one stream per guild-shard incarnation
        self._suspects: dict[str, float] = {}  # node id -> avoided until (monotonic)
        self._alive: tuple[float, list[str]] = (-ALIVE_NODES_TTL_S, [])

    def create(self, guild_id: int, index: int, permissions: GuildPermissions, prune_passive: bool) -> None:
        name = f"relay-{guild_id}-{index}"
        now = time.monotonic()
        if now - self._alive[0] >= ALIVE_NODES_TTL_S:
            self._alive = (now, cluster.alive_nodes())
        self._suspects = {node: until for node, until in self._suspects.items() if until > now}
        node = relay_node(name, self._alive[1], set(self._suspects))
        ref = cluster.spawn(
            RelayHost, name, self.config.namespace, guild_id, index, self.config, permissions, prune_passive,
            node_id=node,
        )  # fmt: skip
        self.refs[guild_id, index] = ref
        self.nodes[guild_id, index] = node
        log.info("relay created", relay=name, node=node, avoided=len(self._suspects))

    def lost(self, guild_id: int, index: int) -> None:
        node = self.nodes.pop((guild_id, index), None)
        if node is not None:
            self._suspects[node] = time.monotonic() + SUSPECT_S
        ref = self.refs.pop((guild_id, index), None)
        if ref is not None:
            with contextlib.suppress(ShardUnavailable):
                ref.kill(restart=False)

    def send(self, guild_id: int, index: int, commands: list[RelayCommand]) -> Awaitable[object]:
        ref = self.refs.get((guild_id, index))
        if ref is None:  # lost: a batch that was already waiting fails like one sent to it
            return _fail(ShardUnavailable(f"relay-{guild_id}-{index} was lost"))
        return ref.send(c.ApplyRelay(self._sequencer.wrap((guild_id, index), commands)))


async def _fail(error: Exception) -> object:
    raise error


class GuildShardHost:
    """A guild shard on Ray: it HOLDS the plain ``GuildShard`` body (composition) and adds the
    restart announcement, metrics and the passive-summary loop."""

    def __init__(self, index: int, config: Config) -> None:
        configure_logging(config, shard=f"guild-{index}")
        self.index = index
        self.config = config
        self.name = f"guild-{index}"
        self.directory = Directory(config)
        self.relay_actors = RayRelayTransport(config)
        outbox = Outbox(self.directory.transport, config, self.name)
        self.body = GuildShard(index, config, open_storage(config), outbox, self.relay_actors)
        self._passive_task: asyncio.Task[None] | None = None
        self._metrics_task: asyncio.Task[None] | None = None
        self._restarted = cluster.actor_restarted()
        self._incarnation_ns = time.time_ns()
        self._announced: asyncio.Future[None] | None = None

    async def _announce_once(self) -> None:
        """After a restart, once: the sessions of this shard's guilds are told their guilds are
        unavailable (GUILD_DELETE) and join again (the joins wait for this, then bring GUILD_CREATE).

        Every command that loads a guild (publish, connect...) and the start wait for this, so
        no event is published by the new incarnation before those sessions were told.
        """
        if self._restarted:
            if self._announced is None:
                self._announced = asyncio.ensure_future(self._announce_restart())
            await self._announced

    async def _announce_restart(self) -> None:
        counts = await call_all(
            [self.directory.session_shard(i).ref for i in range(self.config.session_shards)],
            c.GuildShardLost(self.index, self._incarnation_ns),
        )
        log.warning("guild shard restarted; its guilds unavailable until rebuilt", sessions=counts)

    async def handle(self, cmd: object) -> object:
        match cmd:
            case c.Start():
                return await self.start()
            case c.Stats():
                return {**whoami(), **(await self.body.stats())}
            case c.Publish() | c.SessionJoin() | c.Subscribe() | c.MemberCount():
                await self._announce_once()
        if isinstance(cmd, c.Publish):
            shard_metrics().events_in.inc(tags={"shard": self.name, "t": cmd.t})
        return await self.body.handle(cmd)

    async def _metrics_loop(self, interval_s: float = 5.0) -> None:
        """Gauges sampled off the hot path: sessions, relays, queue depth, lag drops."""
        metrics, tags, body = shard_metrics(), {"shard": self.name}, self.body
        calls = dropped = 0
        while True:
            active = passive = relays = 0
            for proc in body.guilds.values():
                a, p = proc.sessions.counts()
                active, passive = active + a, passive + p
                relays += len(proc.relays) if proc.relays is not None else 0
            metrics.active_sessions.set(active, tags=tags)
            metrics.passive_sessions.set(passive, tags=tags)
            metrics.relays_per_guild.set(relays, tags=tags)
            metrics.queue_depth.set(body.batcher.in_flight_total(), tags=tags)
            total = body.batcher.calls + (body.relay_batcher.calls if body.relay_batcher else 0)
            count(metrics.ray_calls, total - calls, tags)
            calls = total
            count(
                metrics.dropped_sessions, body.outbox.dropped_sessions - dropped, {**tags, "why": "lagging"}
            )
            dropped = body.outbox.dropped_sessions
            await asyncio.sleep(interval_s)

    async def start(self) -> dict[str, Any]:
        await self.body.ready()
        await self._announce_once()
        if self._passive_task is None:
            self._passive_task = asyncio.create_task(self._passive_loop())
            self._metrics_task = asyncio.create_task(self._metrics_loop())
        return {"shard": self.name}

    async def _passive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.passive_update_interval_s)
            await self.body.tick_passive()
