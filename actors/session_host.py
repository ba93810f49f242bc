"""The session shard as Ray runs it: its sessions, and the edge (gateway + REST) holding their sockets.

Batches from every sender (guild shards, relays, user shards) are applied in each sender's
stream order (``OrderedInbox``); a restarted shard first has the guild and user shards forget
its old sessions, before any slot is handed out again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import structlog

from rayguild.actors import cluster
from rayguild.actors import commands as c
from rayguild.actors.bench import DeliveryTrace
from rayguild.actors.handoff import Handoffs
from rayguild.actors.hosts import EdgeFactory, EdgeServer, call_all, snowflakes_for, whoami
from rayguild.actors.metrics import count, shard_metrics
from rayguild.actors.presence import SessionPresence
from rayguild.actors.refs import GUILD, PRESENCE, Directory, Presences, Users
from rayguild.actors.session import CountingSink, SessionShardCore
from rayguild.actors.session_presence import SessionPresences, live_records
from rayguild.config import Config
from rayguild.fanout.events import Dispatch
from rayguild.fanout.ordering import OrderedInbox, Sequenced, StreamBroken
from rayguild.fanout.partition import Slots
from rayguild.logs import configure_logging
from rayguild.ring import shard_name
from rayguild.storage import open_storage
from rayguild.storage.protocol import Storage

log = structlog.get_logger("rayguild.hosts")


class SessionShardHost:
    """A session shard: its sessions, and the edge (gateway + REST) that holds their sockets."""

    def __init__(self, index: int, config: Config, edge_factory: EdgeFactory | None = None) -> None:
        configure_logging(config, shard=f"session-{index}")
        self.index = index
        self.config = config
        presences = SessionPresences(config.presence_backlog_frames, config.presence_updates_per_minute)
        self.core = SessionShardCore(index, config.replay_buffer_events, presence=presences)
        self.handoffs = Handoffs(self.core)
        self.directory = Directory(config)
        self.storage: Storage = open_storage(config)
        self.snowflakes = snowflakes_for(1, index)
        self._edge_factory = edge_factory
        self._edge: EdgeServer | None = None
        self._starting: asyncio.Lock | None = None
        self._trace: DeliveryTrace | None = None
        self._counting = CountingSink()
        self._restarted = cluster.actor_restarted()
        self._inbox: OrderedInbox[tuple[Dispatch, Slots]] = OrderedInbox()
        self._forgotten: asyncio.Future[list[Any]] | None = None

    async def _forget_lost_sessions(self) -> None:
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
                refs = [self.directory.actor(name) for name in names]
                self._forgotten = asyncio.ensure_future(call_all(refs, c.ForgetSessionShard(self.index)))
            await self._forgotten

    async def handle(self, cmd: object) -> object:
        """Every session-shard operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.Deliver(batch):
                return await self.deliver(batch)
            case c.Invalidate(slots):
                return self.core.invalidate(np.asarray(slots, dtype=np.int32))
            case c.DescribeSession(session_id, user_id):
                return self.handoffs.describe(session_id, user_id)
            case c.TakeSession(session_id, user_id, seq, moved, known):
                # waits for its guilds' moved markers (handoff.py)
                return await self.handoffs.take(session_id, user_id, seq, list(moved), list(known))
            case c.GuildShardLost(index, since_ns):
                return await self.guild_shard_lost(index, since_ns)
            case c.PresenceReport(presence_index):
                return await self.presence_report(presence_index)
            case c.PresenceResync():
                return self.core.presence.mark_all_stale()
            case c.AddSynthetic(n):
                return await self.add_synthetic(n)
            case c.TakeTrace():
                return self._trace.take() if self._trace is not None else {}
            case c.Memory():
                return await self.memory()
            case c.Start():
                return await self.start()
            case c.Stats():
                return await self.stats()
        raise TypeError(f"a session shard does not handle {type(cmd).__name__}")

    async def start(self) -> dict[str, Any]:
        """Open storage and start the edge once; returns where the edge listens."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            await self._forget_lost_sessions()
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

    async def deliver(self, sequenced: Sequenced[tuple[Dispatch, Slots]]) -> int:
        """Apply a sender's batches in its stream order (no await inside: atomic)."""
        try:
            ready = self._inbox.accept(sequenced)
        except StreamBroken as err:
            log.error("delivery stream broken; a batch was lost", error=str(err))
            shard_metrics().dropped_sessions.inc(1, tags={"shard": f"session-{self.index}", "why": "stream"})
            return 0
        delivered = 0
        metrics, tags, now = shard_metrics(), {"shard": f"session-{self.index}"}, time.time_ns()
        for batch in ready:
            delivered += self.core.deliver(batch)
            if self._trace is not None:
                self._trace.record(batch)
            for dispatch, _ in batch:
                metrics.fanout_latency_ms.observe((now - dispatch.emitted_ns) / 1e6, tags=tags)
        count(metrics.deliveries_out, delivered, tags)
        return delivered

    async def guild_shard_lost(self, index: int, since_ns: int) -> int:
        """Guild shard ``index`` restarted empty at ``since_ns``: sessions opened before then in its
        guilds missed events (op 9 them); sessions opened since connect to the new incarnation."""
        lost, owner = shard_name(GUILD, index), self.directory.guild_ring.owner
        slots = [
            s.slot
            for s in self.core.sessions.values()
            if s.opened_ns < since_ns and any(owner(g) == lost for g in s.guild_ids)
        ]
        return self.core.invalidate(np.asarray(slots, dtype=np.int32))

    async def presence_report(self, presence_index: int) -> list[SessionPresence]:
        """This shard's live sessions whose user presence shard ``presence_index`` owns."""
        name, owner = shard_name(PRESENCE, presence_index), self.directory.presence_ring.owner
        return live_records(self.core, lambda user_id: owner(user_id) == name)

    async def add_synthetic(self, count: int) -> Slots:
        """Benchmark sessions on this shard: real session code, a counting sink, delivery tracing."""
        await self._forget_lost_sessions()
        if self._trace is None:
            self._trace = DeliveryTrace()
        return self.core.add_synthetic(count, self._counting)

    async def memory(self) -> dict[str, int]:
        return {
            "bytes": self.core.memory_bytes(),
            "slots": self.core.slot_count,
            "frames": self._counting.frames,
        }

    async def stats(self) -> dict[str, Any]:
        return {
            **whoami(),
            "sessions": len(self.core.sessions),
            "slots": self.core.slot_count,
            "frames_out": self.core.frames_out,
            "port": self._edge.port if self._edge else None,
        }
