"""``python -m rayguild.benchmarks.presence``: presence updates fanned out in one big guild, on real shards.

A bench guild (default 100,000 members, 100,000 synthetic sessions with the GUILD_PRESENCES
intent, 10% active) is stored and its sessions identified as ``rayguild bench fanout`` does; members
then change status through the real PresenceShard (``update``, as an edge reports op 3), which
publishes PRESENCE_UPDATE through the guild's normal path (relays, passive pruning, batching per
session shard). Open loop at ``--rate`` updates/s with at most ``--concurrency`` in flight.
Reported: updates/s fanned out (every delivery landed), deliveries/s, p50/p99 from the guild's
emit to the last delivery of an update, Ray calls per update.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rayguild.actors import cluster
from rayguild.actors.presence import SessionPresence
from rayguild.actors.refs import Presences
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.fanout import open_sessions
from rayguild.benchmarks.gateway import free_port
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.benchmarks.synthetic_edge import SyntheticEdges
from rayguild.benchmarks.synthetic_guild import MODES, guild_stats, mode_config, run_shards, store_guild
from rayguild.config import Config, load_config
from rayguild.fanout.events import GUILD_PRESENCES
from rayguild.ids import SessionId

STATUSES = ("online", "idle", "dnd")


@dataclass(frozen=True, slots=True)
class Record:
    config: str
    members: int
    sessions: int
    active_sessions: int
    relays: int
    updates: int
    offered_rate_per_s: float
    updates_per_s: float
    deliveries: int
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    ray_calls_per_update: float
    dropped_sessions: int  # invalidated by the lag policy (a starved shard): they got op 9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.presence", description=__doc__)
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--sessions", type=int, default=100_000, help="synthetic sessions (capped at members)")
    p.add_argument("--active-fraction", type=float, default=0.1)
    p.add_argument("--session-shards", type=int, default=2)
    p.add_argument("--modes", nargs="+", choices=MODES, default=["relays+passive"])
    p.add_argument("--updates", type=int, default=500)
    p.add_argument("--rate", type=float, default=1000.0, help="offered presence updates per second")
    p.add_argument("--concurrency", type=int, default=64, help="updates in flight at most")
    p.add_argument("--timeout-s", type=float, default=180.0)
    p.add_argument("--out", type=Path, default=Path("bench-out/presence"))
    return p.parse_args(argv)


async def run_one(config: Config, args: argparse.Namespace, n: int, mode: str) -> Record:
    async with run_shards(mode_config(config, mode), f"{config.namespace}-{n}") as runtime:
        edges = SyntheticEdges(runtime.directory, args.session_shards)
        async with edges:
            return await measure(runtime, edges, args, 20_000 + n * 16, mode)


async def measure(
    runtime: Runtime, edges: SyntheticEdges, args: argparse.Namespace, guild_id: int, mode: str
) -> Record:
    await store_guild(runtime.config, guild_id, args.members)
    sessions, active_sessions = await open_sessions(
        edges, args, guild_id, args.members, mode, GUILD_PRESENCES
    )
    presences = Presences(runtime.directory)
    gate = asyncio.Semaphore(args.concurrency)

    async def one(i: int) -> None:
        user = 1 + (i * 7919) % args.members  # members spread over the guild
        async with gate:
            await presences.update(
                SessionPresence(user, SessionId(f"bench-{user}"), (guild_id,), STATUSES[i % 3])
            )

    async def send(count: int, first: int) -> None:
        started, pending = time.monotonic(), []
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
            pending.append(asyncio.ensure_future(one(first + i)))
            if (i + 1) % max(1, count // 5) == 0:
                progress(f"    {mode:<15} sent {i + 1}/{count} presence updates")
        await asyncio.gather(*pending)

    await edges.collect(1 << 62, 1.0)  # GUILD_CREATEs and the identify traffic land
    await send(3, 0)  # warm-up: relays come up
    await edges.collect(3 * active_sessions, args.timeout_s)
    before = await guild_stats(runtime, guild_id)
    began = time.time_ns()
    await send(args.updates, 3)
    trace = await edges.collect(args.updates * active_sessions, args.timeout_s)
    after = await guild_stats(runtime, guild_id)
    deliveries = sum(count for _, count in trace.values())
    span_s = (max(done for done, _ in trace.values()) - began) / 1e9 if trace else 1.0
    latencies = np.array([(done - emitted) / 1e6 for emitted, (done, _) in trace.items()] or [0.0])
    calls = (after["ray_calls"] - before["ray_calls"]) + (after["relay_calls"] - before["relay_calls"])
    return Record(
        config=mode,
        members=args.members,
        sessions=sessions,
        active_sessions=active_sessions,
        relays=after["relays"],
        updates=len(trace),
        offered_rate_per_s=args.rate,
        updates_per_s=round(len(trace) / span_s, 1),
        deliveries=deliveries,
        deliveries_per_s=round(deliveries / span_s, 1),
        p50_ms=round(float(np.percentile(latencies, 50)), 2),
        p99_ms=round(float(np.percentile(latencies, 99)), 2),
        ray_calls_per_update=round(calls / max(1, args.updates), 2),
        dropped_sessions=after["dropped_sessions"],
    )


async def run(args: argparse.Namespace) -> list[Record]:
    config = load_config(
        environ={},
        guild_shards=1,
        presence_shards=1,
        push_shards=1,
        session_shards=args.session_shards,
        passive_update_interval_s=3600,
        namespace="rayguild-bench-presence",
        dashboard_port=free_port(),
        sqlite_path=str(Path(tempfile.mkdtemp(prefix="rayguild-bench-")) / "bench.sqlite3"),
    )
    progress("starting Ray; each mode gets shards of its own ...")
    records = []
    for n, mode in enumerate(args.modes, start=1):
        progress(f"[{n}/{len(args.modes)}] {mode}: {args.members:,} members, {args.updates} presence updates")
        record = await run_one(config, args, n, mode)
        progress(
            f"    -> {record.updates_per_s:,.0f} updates/s fanned out, {record.deliveries_per_s:,.0f} "
            f"deliveries/s, p50 {record.p50_ms} ms, p99 {record.p99_ms} ms"
        )
        records.append(record)
    cluster.shutdown()
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = [asdict(r) for r in asyncio.run(run(args))]
    command = command_line("python -m rayguild.benchmarks.presence", argv)
    write_results(args.out, command, args, rows, markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
