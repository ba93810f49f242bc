"""The shards ``rayguild bench`` (and the exactly-once Ray test) run: the production hosts, wrapped.

Production actors carry no benchmark-only operation. A bench shard HOLDS the production host and
answers the benchmark commands (build a bulk guild, its counters; synthetic sessions, their
delivery trace and memory) itself, passing every other command to the host unchanged, so what a
benchmark measures is the production path. ``Runtime(config, bench=True)`` spawns these.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rayguild.actors import commands as c
from rayguild.actors.bench import DeliveryTrace, build_guild
from rayguild.actors.guild_host import GuildShardHost
from rayguild.actors.hosts import EdgeFactory
from rayguild.actors.outbox import Batch
from rayguild.actors.refs import Directory
from rayguild.actors.session import CountingSink
from rayguild.actors.session_host import SessionShardHost
from rayguild.actors.transport import Endpoint
from rayguild.benchmarks.memory import rss_bytes
from rayguild.benchmarks.wire import WireCounters, WireSink
from rayguild.config import Config
from rayguild.fanout.partition import Slots
from rayguild.ring import shard_name


class BenchGuildShardHost:
    def __init__(self, index: int, config: Config) -> None:
        self.host = GuildShardHost(index, config)

    async def handle(self, cmd: object) -> object:
        body = self.host.body
        match cmd:
            case c.BenchBuild(spec):
                return await build_guild(body, spec)
            case c.BenchStats(guild_id):
                return await self.guild_stats(guild_id)
            case c.BenchForget(guild_id):
                body.guilds.pop(guild_id, None)  # its relays are killed by the caller
                return None
        return await self.host.handle(cmd)

    async def guild_stats(self, guild_id: int) -> dict[str, Any]:
        """Counters and memory of one bench guild, its relays included."""
        body = self.host.body
        if guild_id not in body.guilds:  # the shard alone: its memory before a guild is built
            return {"pid": os.getpid(), "rss_bytes": rss_bytes(os.getpid())}
        proc = body.guilds[guild_id]
        relay_stats = []
        if proc.relays is not None:
            refs = [self.host.relay_actors.ref(guild_id, i) for i in range(len(proc.relays))]
            relay_stats = [await ref.send(c.Stats()) for ref in refs]
        return {
            "published": body.published,
            "cpu_s": body.cpu_s,
            "guild_calls": body.batcher.calls + (body.relay_batcher.calls if body.relay_batcher else 0),
            "relay_calls": sum(r["ray_calls"] for r in relay_stats),
            "member_bytes": proc.members.memory_bytes(),
            "session_table_bytes": proc.sessions.memory_bytes(),
            "relay_bytes": sum(r["memory_bytes"] for r in relay_stats),
            "pid": os.getpid(),
            "rss_bytes": rss_bytes(os.getpid()),
            "dropped_sessions": body.outbox.dropped_sessions
            + sum(r["dropped_sessions"] for r in relay_stats),
        }


class BenchSessionShardHost:
    def __init__(self, index: int, config: Config, edge_factory: EdgeFactory | None = None) -> None:
        self.host = SessionShardHost(index, config, edge_factory)
        self.counting = CountingSink()
        self.wire = WireCounters()
        self.trace: DeliveryTrace | None = None
        self._observe = self.host.body.observe
        self.host.body.observe = self._record

    def _record(self, batch: Batch, delivered: int) -> None:
        if self._observe is not None:
            self._observe(batch, delivered)
        if self.trace is not None:
            self.trace.record(batch)

    async def handle(self, cmd: object) -> object:
        core = self.host.core
        match cmd:
            case c.AddSynthetic(n, wire):
                # real session code (seq, replay, framing), a counting sink, delivery tracing
                await self.host.forget_lost_sessions()
                if self.trace is None:
                    self.trace = DeliveryTrace()
                if (
                    wire
                ):  # "text" | "zlib" | "zstd": each session its own compression context and frame builder
                    parts = [core.add_synthetic(1, WireSink(wire, self.wire)) for _ in range(n)]
                    return np.concatenate(parts) if parts else np.zeros(0, np.int32)
                return core.add_synthetic(n, self.counting)
            case c.TakeTrace():
                return self.trace.take() if self.trace is not None else {}
            case c.Memory():
                return {
                    "bytes": core.memory_bytes(),
                    "slots": core.slot_count,
                    "frames": self.counting.frames,
                    "pid": os.getpid(),
                    "rss_bytes": rss_bytes(os.getpid()),
                    **self.wire.as_dict(),
                }
        return await self.host.handle(cmd)


class BenchSessionRef:
    """The bench session shard's client: synthetic sessions, their trace, their memory."""

    def __init__(self, ref: Endpoint) -> None:
        self.ref = ref

    async def add_synthetic(self, count: int, wire: str = "") -> Slots:
        slots: Slots = await self.ref.send(c.AddSynthetic(count, wire))
        return slots

    async def take_trace(self) -> dict[int, list[int]]:
        return dict(await self.ref.send(c.TakeTrace()))

    async def memory(self) -> dict[str, int]:
        return dict(await self.ref.send(c.Memory()))


def bench_session(directory: Directory, index: int) -> BenchSessionRef:
    return BenchSessionRef(directory.endpoint(shard_name("session", index)))
