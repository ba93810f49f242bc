"""The actor bodies Ray instantiates: each builds its shard's dependencies inside its own process.

A host is constructed from ``(index, config)`` only (picklable), so Ray can restart it by
itself; ``start`` is idempotent and the Runtime calls it again after a restart.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import numpy as np
import structlog

from rayguild.actors import cluster
from rayguild.actors.bench import BenchGuild, DeliveryTrace, build_guild
from rayguild.actors.cluster import ActorRef
from rayguild.actors.commands import Publish
from rayguild.actors.guild import Batch, GuildShard
from rayguild.actors.handoff import HandedOver, Handoffs, SessionSummary
from rayguild.actors.metrics import count, shard_metrics
from rayguild.actors.presence import PresenceShard, SessionPresence
from rayguild.actors.push import PushShard, TransportFactory, UrllibTransport
from rayguild.actors.refs import GUILD, PRESENCE, Directory, Presences, Users
from rayguild.actors.relay import RelayHost, invalidate_lagging, session_batcher
from rayguild.actors.session import CountingSink, SessionShardCore
from rayguild.actors.session_presence import SessionPresences, live_records
from rayguild.actors.users import UserPath
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.fanout.events import Dispatch
from rayguild.fanout.ordering import OrderedInbox, Sequenced, StreamBroken, StreamSequencer
from rayguild.fanout.partition import Slots
from rayguild.ids import SnowflakeGenerator
from rayguild.logs import configure_logging
from rayguild.relay import GuildPermissions, RelayCommand
from rayguild.ring import shard_name
from rayguild.storage import open_storage
from rayguild.storage.protocol import Storage

log = structlog.get_logger("rayguild.hosts")


class EdgeServer(Protocol):
    """The gateway/REST server a session shard runs (built by http_api, never imported here)."""

    port: int

    async def stop(self) -> None: ...


EdgeFactory = Callable[..., Awaitable[EdgeServer]]


def whoami() -> dict[str, Any]:
    """The process and Ray node a shard runs on (for ``rayguild status`` and tests)."""
    return {"pid": os.getpid(), "node_id": cluster.node_of_current_actor()}


def snowflakes_for(kind_worker: int, index: int) -> SnowflakeGenerator:
    """Snowflake (worker, process) from the shard kind and index, unique across shards."""
    return SnowflakeGenerator(kind_worker * 4 + index // 32, index % 32)


class RayRelayTransport:
    """Relays as named Ray actors ``relay-<guild>-<n>``, created on demand by their guild."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.refs: dict[tuple[int, int], ActorRef] = {}
        self._sequencer = StreamSequencer()  # one stream per guild-shard incarnation

    def create(self, guild_id: int, index: int, permissions: GuildPermissions, prune_passive: bool) -> None:
        name = f"relay-{guild_id}-{index}"
        ref = cluster.spawn(
            RelayHost, name, self.config.namespace, guild_id, index, self.config, permissions, prune_passive
        )
        self.refs[guild_id, index] = ref

    def send(self, guild_id: int, index: int, commands: list[RelayCommand]) -> Awaitable[object]:
        return self.refs[guild_id, index].call("apply", self._sequencer.wrap((guild_id, index), commands))

    def ref(self, guild_id: int, index: int) -> ActorRef:
        return self.refs[guild_id, index]


class GuildShardHost(GuildShard):
    def __init__(self, index: int, config: Config) -> None:
        configure_logging(config, shard=f"guild-{index}")
        self.directory = Directory(config)
        self.relay_actors = RayRelayTransport(config)
        super().__init__(
            index, config, open_storage(config), self._send, self.relay_actors, self._lagging_shard
        )
        self._passive_task: asyncio.Task[None] | None = None
        self._metrics_task: asyncio.Task[None] | None = None
        self.dropped_sessions = 0
        self._restarted = cluster.actor_restarted()
        self._incarnation_ns = time.time_ns()
        self._announced: asyncio.Future[None] | None = None
        self._sequencer = StreamSequencer()

    def _send(self, shard: int, batch: Batch) -> Awaitable[object]:
        return self.directory.session_shard(shard).deliver(self._sequencer.wrap(shard, batch))

    async def session_shard_lost(self, shard: int) -> int:
        self._sequencer.restart(shard)  # the restarted shard expects a stream from seq 0
        return await super().session_shard_lost(shard)

    def _lagging_shard(self, shard: int, batch: Batch) -> None:
        dropped = invalidate_lagging(self.directory, shard, batch)
        self.dropped_sessions += dropped
        count(shard_metrics().dropped_sessions, dropped, {"shard": self.name, "why": "lagging"})

    @property
    def name(self) -> str:
        return f"guild-{self.index}"

    async def ready(self) -> None:
        """Storage first; after a restart also, once, the sessions of this shard's guilds re-identify.

        Every path that loads a guild (publish, connect) or starts the shard waits for this, so no
        event is published by the new incarnation before those sessions were told (op 9).
        """
        await super().ready()
        if self._restarted:
            if self._announced is None:
                self._announced = asyncio.ensure_future(self._announce_restart())
            await self._announced

    async def _announce_restart(self) -> None:
        counts = await call_all(
            [self.directory.session_shard(i).ref for i in range(self.config.session_shards)],
            "guild_shard_lost",
            self.index,
            self._incarnation_ns,
        )
        log.warning("guild shard restarted; its sessions told to re-identify", sessions=counts)

    async def publish(self, cmd: Publish) -> int:
        recipients = await super().publish(cmd)
        shard_metrics().events_in.inc(tags={"shard": self.name, "t": cmd.t})
        return recipients

    async def _metrics_loop(self, interval_s: float = 5.0) -> None:
        """Gauges sampled off the hot path: sessions, relays, queue depth."""
        metrics, tags = shard_metrics(), {"shard": self.name}
        calls = 0
        while True:
            active = passive = relays = 0
            for proc in self.guilds.values():
                a, p = proc.sessions.counts()
                active, passive = active + a, passive + p
                relays += len(proc.relays) if proc.relays is not None else 0
            metrics.active_sessions.set(active, tags=tags)
            metrics.passive_sessions.set(passive, tags=tags)
            metrics.relays_per_guild.set(relays, tags=tags)
            metrics.queue_depth.set(self.batcher.in_flight_total(), tags=tags)
            total = self.batcher.calls + (self.relay_batcher.calls if self.relay_batcher else 0)
            count(metrics.ray_calls, total - calls, tags)
            calls = total
            await asyncio.sleep(interval_s)

    async def start(self) -> dict[str, Any]:
        await self.ready()
        if self._passive_task is None:
            self._passive_task = asyncio.create_task(self._passive_loop())
            self._metrics_task = asyncio.create_task(self._metrics_loop())
        return {"shard": f"guild-{self.index}"}

    async def stats(self) -> dict[str, Any]:
        return {**whoami(), **(await super().stats())}

    async def bench_build(self, spec: BenchGuild) -> dict[str, Any]:
        return await build_guild(self, spec)

    async def bench_stats(self, guild_id: int) -> dict[str, Any]:
        """Counters and memory of one (bench) guild, its relays included."""
        proc = self.guilds[guild_id]
        relay_stats = []
        if proc.relays is not None:
            refs = [self.relay_actors.ref(guild_id, i) for i in range(len(proc.relays))]
            relay_stats = [await ref.call("stats") for ref in refs]
        return {
            "published": self.published,
            "cpu_s": self.cpu_s,
            "guild_calls": self.batcher.calls + (self.relay_batcher.calls if self.relay_batcher else 0),
            "relay_calls": sum(r["ray_calls"] for r in relay_stats),
            "member_bytes": proc.members.memory_bytes(),
            "session_table_bytes": proc.sessions.memory_bytes(),
            "relay_bytes": sum(r["memory_bytes"] for r in relay_stats),
            "dropped_sessions": self.dropped_sessions + sum(r["dropped_sessions"] for r in relay_stats),
        }

    async def bench_forget(self, guild_id: int) -> None:
        """Drop a bench guild (its relays are killed by the caller through their names)."""
        self.guilds.pop(guild_id, None)

    async def _passive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.passive_update_interval_s)
            await self.tick_passive()


async def call_all(refs: list[ActorRef], method: str, *args: Any) -> list[Any]:
    """Call ``method`` on every actor; an unavailable one (also restarting) answers None."""

    async def one(ref: ActorRef) -> Any:
        try:
            return await ref.call(method, *args)
        except ShardUnavailable:
            return None

    return list(await asyncio.gather(*(one(ref) for ref in refs)))


class PresenceShardHost(PresenceShard):
    def __init__(self, index: int, config: Config) -> None:
        configure_logging(config, shard=f"presence-{index}")
        self.config = config
        self.directory = Directory(config)
        self.presences = Presences(self.directory)
        self._sequencer = StreamSequencer()
        outbox = session_batcher(self.directory, config, self._lagging_shard, self._sequencer)
        super().__init__(
            index, self.directory.publish, self.presences.submit_push, UserPath(outbox, self.directory)
        )
        self._restarted = cluster.actor_restarted()
        self._rebuilt: asyncio.Future[None] | None = None

    async def ready(self) -> None:
        """After a restart, once, before anything else: rebuild from the sessions the edges hold,
        then have every edge send its sessions one PRESENCES_REPLACE (no stale presence stays)."""
        if self._restarted:
            if self._rebuilt is None:
                self._rebuilt = asyncio.ensure_future(self._rebuild())
            await self._rebuilt

    async def _rebuild(self) -> None:
        refs = [self.directory.session_shard(i).ref for i in range(self.config.session_shards)]
        reports = await call_all(refs, "presence_report", self.index)
        users = self.rebuild(r for report in reports if report for r in report)
        resynced = await call_all(refs, "presence_resync")
        log.warning("presence shard restarted; rebuilt from live sessions", users=users, resync=resynced)

    def _lagging_shard(self, shard: int, batch: Batch) -> None:
        dropped = invalidate_lagging(self.directory, shard, batch)
        count(
            shard_metrics().dropped_sessions, dropped, {"shard": f"presence-{self.index}", "why": "lagging"}
        )

    async def session_shard_lost(self, shard: int) -> int:
        self._sequencer.restart(shard)  # the restarted shard expects a stream from seq 0
        return await super().session_shard_lost(shard)

    async def start(self) -> dict[str, Any]:
        await self.ready()
        return {"shard": f"presence-{self.index}"}

    async def stats(self) -> dict[str, Any]:
        return {**whoami(), **(await super().stats())}


class PushShardHost(PushShard):
    """A push shard: its own storage (the outbox) and provider connection. ``transport_factory``
    (picklable; http_api's ``AiohttpTransport`` in the CLI) defaults to urllib in threads."""

    def __init__(self, index: int, config: Config, transport_factory: TransportFactory | None = None) -> None:
        configure_logging(config, shard=f"push-{index}")
        transport = (transport_factory or UrllibTransport)(config)
        super().__init__(index, config, open_storage(config), transport)

    async def stats(self) -> dict[str, Any]:
        return {**whoami(), **(await super().stats())}


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
                c = self.config
                names = [shard_name(GUILD, i) for i in range(c.guild_shards)]
                names += [shard_name(PRESENCE, i) for i in range(c.presence_shards)]
                refs = [self.directory.actor(name) for name in names]
                self._forgotten = asyncio.ensure_future(call_all(refs, "session_shard_lost", self.index))
            await self._forgotten

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

    async def invalidate(self, slots: list[int]) -> int:
        return self.core.invalidate(np.asarray(slots, dtype=np.int32))

    async def describe_session(self, session_id: str, user_id: int) -> SessionSummary | None:
        return self.handoffs.describe(session_id, user_id)

    async def take_session(
        self, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        """Hand a session to the edge it resumed on (waits for its guilds' markers; handoff.py)."""
        return await self.handoffs.take(session_id, user_id, seq, moved, known)

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

    async def presence_resync(self) -> int:
        """A presence shard restarted: every session watching presences gets PRESENCES_REPLACE."""
        return self.core.presence.mark_all_stale()

    async def add_synthetic(self, count: int) -> Slots:
        """Benchmark sessions on this shard: real session code, a counting sink, delivery tracing."""
        await self._forget_lost_sessions()
        if self._trace is None:
            self._trace = DeliveryTrace()
        return self.core.add_synthetic(count, self._counting)

    async def take_trace(self) -> dict[int, list[int]]:
        return self._trace.take() if self._trace is not None else {}

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
