"""The session shard as Ray runs it: its sessions, and the edge (gateway + REST) holding their sockets.

Batches from every sender (guild shards, relays, user shards) are applied in each sender's
stream order (``OrderedInbox``); a restarted shard first has the guild and user shards forget
its old sessions, before any slot is handed out again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog

from rayguild.actors import cluster
from rayguild.actors import commands as c
from rayguild.actors.hosts import EdgeFactory, EdgeServer, call_all, snowflakes_for, whoami
from rayguild.actors.metrics import count, shard_metrics
from rayguild.actors.refs import GUILD, PRESENCE, SESSION, Directory, Presences, Users
from rayguild.actors.session_shard import SessionShard
from rayguild.actors.transport import Endpoint
from rayguild.config import Config
from rayguild.fanout.events import Dispatch
from rayguild.fanout.partition import Slots
from rayguild.logs import configure_logging
from rayguild.ring import shard_name
from rayguild.storage import open_storage
from rayguild.storage.protocol import Storage

log = structlog.get_logger("rayguild.hosts")


class SessionShardHost:
    """A session shard on Ray: the plain ``SessionShard`` body, the edge (gateway + REST) holding
    its sockets, and metrics."""

    def __init__(self, index: int, config: Config, edge_factory: EdgeFactory | None = None) -> None:
        configure_logging(config, shard=f"session-{index}")
        self.index = index
        self.config = config
        self.directory = Directory(config)
        self.body = SessionShard(
            index, config, self.directory.guild_ring, self.directory.presence_ring, self.directory
        )
        self.body.core.observers.append(self._observe)
        self.directory.guild_shard_failed = self.body.guild_loss.suspect  # this edge's failed calls
        self.core = self.body.core
        self.storage: Storage = open_storage(config)
        self.snowflakes = snowflakes_for(1, index)
        self._edge_factory = edge_factory
        self._edge: EdgeServer | None = None
        self._starting: asyncio.Lock | None = None
        self._restarted = cluster.actor_restarted()
        self._forgotten: asyncio.Future[list[Any]] | None = None
        self._tags = {"shard": f"session-{index}"}
        self._draining = False

    async def forget_lost_sessions(self) -> None:
        """After a restart, before any slot is handed out: guild and user shards drop this shard's
        old sessions.

        Their rows point at slots of the dead incarnation; left alone they would deliver a guild's
        (or a user's) events to whichever new session reuses a slot.
        """
        if self._restarted:
            if self._forgotten is None:
                config = self.config
                names = [shard_name(GUILD, i) for i in range(config.guild_shards)]
                names += [shard_name(PRESENCE, i) for i in range(config.presence_shards)]
                endpoints = [self.directory.endpoint(name) for name in names]
                self._forgotten = asyncio.ensure_future(call_all(endpoints, c.ForgetSessionShard(self.index)))
            await self._forgotten

    async def handle(self, cmd: object) -> object:
        match cmd:
            case c.Start():
                return await self.start()
            case c.Stats():
                port = self._edge.port if self._edge else None
                return {**whoami(), **self.body.stats(), "port": port, "draining": self._draining}
            case c.Drain():
                return await self.drain()
            case c.AdoptPort(port):
                if self._edge is None or self._draining:
                    return False
                await self._edge.adopt(port)
                return True
        return await self.body.handle(cmd)

    async def drain(self) -> int:
        """Stop accepting, then op 7 to every client, which resumes on another edge.

        READY's resume_gateway_url is this edge's own port, where clients come back: an edge on
        the same machine adopts that port (SO_REUSEPORT) before this one closes its listening
        sockets, so the resumes land there and take the sessions over (``handoff``) with no gap.
        Again on a draining edge: op 7 to the sessions attached since (a resume accepted just
        before the edge stopped accepting).
        """
        edge = None if self._draining else self._edge
        self._draining = True
        if edge is not None:
            ports = [edge.port, *edge.adopted]
            peer = await self._peer_on_this_node()
            if peer is None:
                log.warning("drain: no other edge on this machine adopts the port", ports=ports)
            else:
                for port in ports:
                    await peer.send(c.AdoptPort(port))
            await edge.stop_accepting()
        return self.body.drain()

    async def _peer_on_this_node(self) -> Endpoint | None:
        """Another edge (not draining) on this Ray node, if any."""
        here = whoami()["node_id"]
        names = [shard_name(SESSION, i) for i in range(self.config.session_shards) if i != self.index]
        endpoints = [self.directory.endpoint(name) for name in names]
        for endpoint, stats in zip(endpoints, await call_all(endpoints, c.Stats()), strict=True):
            if stats and stats.get("node_id") == here and stats.get("port") and not stats.get("draining"):
                return endpoint
        return None

    async def start(self) -> dict[str, Any]:
        """Open storage and start the edge once; returns where the edge listens."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            await self.forget_lost_sessions()
            if self._edge is None and self._edge_factory is not None:
                await self.storage.start()
                self._edge = await self._edge_factory(
                    index=self.index,
                    config=self.config,
                    storage=self.storage,
                    sessions=self.core,
                    guilds=self.directory,
                    presence=Presences(self.directory),
                    users=Users(self.directory),
                    snowflakes=self.snowflakes,
                    peers=self.directory,
                )
                log.info("edge started", port=self._edge.port)
        return {"shard": f"session-{self.index}", "port": self._edge.port if self._edge else None}

    def _observe(self, batch: Sequence[tuple[Dispatch, Slots]], delivered: int) -> None:
        metrics, now = shard_metrics(), time.time_ns()
        for dispatch, _ in batch:
            metrics.fanout_latency_ms.observe((now - dispatch.emitted_ns) / 1e6, tags=self._tags)
        count(metrics.deliveries_out, delivered, self._tags)
