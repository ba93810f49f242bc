"""``rayguild bench fanout``: one guild's message fan-out on real shards, three techniques side by side.

For each member count of the sweep and each mode (direct; relays; relays + passive pruning) it
starts shards configured for that mode, stores a guild, and identifies its sessions through the
synthetic edges (``benchmarks.synthetic_edge``: the session lifecycle and delivery path a
gateway's sessions use; only the socket write is a counter). The guild shard loads the guild
from storage when the first session joins. It then sends M messages through the guild shard's
``publish`` at a fixed rate (open loop), and records deliveries/s, p50/p99/max latency from the
publish call (the moment after the POST's storage write) to the last delivery, Ray calls and
guild CPU per message, bytes per member and session.
With ``--wire zlib|zstd|text`` each synthetic session also compresses and frames every frame as
the edge does (benchmarks/wire.py); RSS and CPU of the shard processes come from /proc
(benchmarks/memory.py), and each record carries its latency sample count and histogram.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from rayguild.actors import cluster
from rayguild.actors.commands import Publish
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.gateway import free_port
from rayguild.benchmarks.memory import CpuMeter, measure_idle, per_unit, ray_processes, rss_bytes
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.benchmarks.stats import LogHistogram, summarize
from rayguild.benchmarks.synthetic_edge import SyntheticEdges
from rayguild.benchmarks.synthetic_guild import (
    MODES,
    bench_message,
    channel_of,
    guild_stats,
    mode_config,
    run_shards,
    store_guild,
)
from rayguild.benchmarks.wire import WIRES
from rayguild.config import Config, load_config
from rayguild.fanout.events import GUILD_MESSAGES, MESSAGE_CONTENT

INTENTS = GUILD_MESSAGES | MESSAGE_CONTENT  # of every synthetic session


@dataclass(frozen=True, slots=True)
class Record:
    config: str
    members: int
    sessions: int
    active_sessions: int
    session_shards: int
    relays: int
    messages: int
    rate_per_s: float
    deliveries: int
    deliveries_per_s: float
    burst_deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    ray_calls_per_message: float
    guild_cpu_ms_per_message: float
    bytes_per_member: float
    bytes_per_session: float
    dropped_sessions: int
    # issue 16: the wire, measured memory, sample counts and histograms (benchmarks/research.py)
    wire: str = "none"
    repeat: int = 0
    latency: dict[str, float | int] = field(default_factory=dict)  # count, p50 ... p999, max
    histogram: dict[str, object] = field(default_factory=dict)  # LogHistogram.as_json (ms)
    wire_bytes_in: int = 0
    wire_bytes_out: int = 0
    wire_frames: int = 0
    guild_rss_bytes_per_member: float = 0.0
    session_rss_bytes_per_session: float = 0.0
    session_cpu_ms_per_message: float = 0.0  # /proc CPU of the session shards, idle rate subtracted
    guild_process_cpu_ms_per_message: float = 0.0  # /proc: the whole guild-shard process, idem
    relay_cpu_ms_per_message: float = 0.0  # /proc: every relay process of the guild, idem
    # Whether the run delivered what it sent: a run that did not is no measurement (its
    # percentiles cover only the messages that arrived, ``messages`` of them), and says why.
    expected_deliveries: int = 0  # messages x active sessions
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    sessions_invalidated: int = 0  # sessions told op 9 (re-identify) since they identified
    guild_deletes: int = 0  # GUILD_DELETE (unavailable) deliveries since they identified
    relay_failures: int = 0  # guild -> relay batches that failed (the relay was then retired)
    relays_lost: int = 0
    relay_waiting_batches: int = 0  # held back by a relay for a missing earlier batch, at the end
    relay_peak_waiting_batches: int = 0  # the most one relay ever held back (arrival reordering)
    relay_peak_before_first_batches: int = 0  # ... while its batch 0 had not arrived
    relay_orphaned_batches: int = 0  # forgotten by a relay (a stream that never saw its batch 0)
    shard_broken_streams: int = 0  # session shards: streams broken by a lost batch
    shard_waiting_batches: int = 0  # session shards: held back for a missing earlier batch, at the end
    shard_peak_waiting_batches: int = 0
    shard_orphaned_batches: int = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rayguild bench fanout", description=__doc__)
    p.add_argument("--members", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--sessions", type=int, default=100_000, help="connected sessions (capped at members)")
    p.add_argument("--active-fraction", type=float, default=0.1, help="share of sessions viewing the guild")
    p.add_argument("--session-shards", type=int, default=2)
    p.add_argument("--relay-size", type=int, default=15_000)
    p.add_argument("--messages", type=int, default=50)
    p.add_argument("--rate", type=float, default=10.0, help="messages per second, open loop")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--tick-ms", type=float, default=2.0)
    p.add_argument("--timeout-s", type=float, default=120.0, help="wait for deliveries at most this long")
    p.add_argument("--wire", choices=list(WIRES), default="none", help="per-session compression + framing")
    p.add_argument("--repeats", type=int, default=1, help="measure each configuration this many times")
    p.add_argument("--idle-s", type=float, default=1.0, help="idle CPU measured this long before each run")
    p.add_argument("--out", type=Path, default=Path("bench-out/fanout"))
    return p.parse_args(argv)


async def run_one(config: Config, args: argparse.Namespace, n: int, members: int, mode: str) -> Record:
    """One configuration on shards of its own: the guild stored, its sessions identified through
    the synthetic edges, M messages published, the shards killed."""
    async with run_shards(mode_config(config, mode), f"{config.namespace}-{n}") as runtime:
        edges = SyntheticEdges(runtime.directory, args.session_shards)
        async with edges:
            return await measure(runtime, edges, args, 10_000 + n * 16, members, mode)


async def open_sessions(
    edges: SyntheticEdges,
    args: argparse.Namespace,
    guild_id: int,
    members: int,
    mode: str,
    intents: int,
    wire: str = "",
) -> tuple[int, int]:
    """Identify the sessions (members spread evenly over the guild, spread over the shards); in
    the passive mode ``--active-fraction`` of them subscribe. Returns (sessions, active ones).

    They identify invisible: a user coming online is a PRESENCE_UPDATE to the guild, which would
    make opening N sessions cost N guild events (N * N deliveries with GUILD_PRESENCES)."""
    sessions = min(args.sessions, members)
    users = np.linspace(1, members, num=sessions, dtype=np.int64)
    active = users[np.random.default_rng(7).random(sessions) < args.active_fraction]
    opened = await asyncio.gather(*(
        edges.open(i, users[i :: edges.shards].tolist(), [guild_id], intents, wire=wire,
                   active=active.tolist() if mode == "relays+passive" else (), status="invisible")
        for i in range(edges.shards)
    ))  # fmt: skip
    total = sum(o["opened"] for o in opened)
    return total, sum(o["subscribed"] for o in opened) if mode == "relays+passive" else total


async def measure(
    runtime: Runtime, edges: SyntheticEdges, args: argparse.Namespace, guild_id: int, members: int, mode: str
) -> Record:
    config = runtime.config
    shards = range(args.session_shards)
    session_rss_start = sum([rss_bytes((await edges.memory(i))["pid"]) for i in shards])
    guild = runtime.directory.guild_shard(guild_id)
    guild_rss_before = rss_bytes((await guild.stats())["pid"])  # the guild not loaded yet
    await store_guild(config, guild_id, members)
    sessions, active_sessions = await open_sessions(
        edges, args, guild_id, members, mode, INTENTS, "" if args.wire == "none" else args.wire
    )
    progress(f"    {sessions:,} sessions identified, {active_sessions:,} active")
    channel = channel_of(guild_id)

    async def send(count: int, first: int) -> None:
        started = time.monotonic()
        pending = []
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
            cmd = Publish(
                guild_id,
                "MESSAGE_CREATE",
                bench_message(guild_id, first + i),
                channel,
                GUILD_MESSAGES,
                accepted_ns=time.time_ns(),
            )
            pending.append(asyncio.ensure_future(guild.publish(cmd)))  # submitted now, not at gather
            if (i + 1) % max(1, count // 10) == 0:
                progress(f"    {mode:<15} members={members:>9,} sent {i + 1}/{count}")
        await asyncio.gather(*pending)

    await edges.collect(1 << 62, 1.0)  # GUILD_CREATEs and the identify traffic land
    await send(3, 1)  # warm-up: relays and caches come up
    await edges.collect(3 * active_sessions, args.timeout_s)
    before = await guild_stats(runtime, guild_id)
    memory_before = [await edges.memory(i) for i in shards]
    meters = (
        CpuMeter([before["pid"]]),
        CpuMeter(ray_processes("RelayHost")),
        CpuMeter(m["pid"] for m in memory_before),
    )
    await measure_idle(meters, args.idle_s)  # guild, relays, session shards: idle CPU subtracted
    for meter in meters:
        meter.start()
    await send(args.messages, 100)
    trace = await edges.collect(args.messages * active_sessions, args.timeout_s)
    after = await guild_stats(runtime, guild_id)
    shard_memory = [await edges.memory(i) for i in shards]
    guild_process_cpu_s, relay_cpu_s, session_cpu_s = (meter.busy_s() for meter in meters)

    latencies = (
        np.array([(done - emitted) / 1e6 for emitted, (done, _) in trace.items()]) if trace else np.zeros(1)
    )
    deliveries = sum(count for _, count in trace.values())
    # One message's recipients over the time that message took: the fan-out rate of a burst,
    # independent of the offered message rate (deliveries_per_s is the sustained one).
    bursts = [count / max(1e-9, (done - emitted) / 1e9) for emitted, (done, count) in trace.items()]
    span_s = (max(d for d, _ in trace.values()) - min(trace)) / 1e9 if trace else 1.0
    session_bytes = sum(m["bytes"] for m in shard_memory)
    histogram = LogHistogram()
    histogram.add(latencies)
    total_slots = sum(m["slots"] for m in shard_memory)
    bytes_per_session = session_bytes / max(1, total_slots) + (
        after["session_table_bytes"] + after["relay_bytes"]
    ) / max(1, sessions)
    calls = (after["ray_calls"] - before["ray_calls"]) + (after["relay_calls"] - before["relay_calls"])
    expected = args.messages * active_sessions
    shard_stats = [await runtime.directory.session_shard(i).stats() for i in shards]
    after |= {
        "shard_broken_streams": sum(s.get("broken_streams", 0) for s in shard_stats),
        "shard_waiting_batches": sum(s.get("waiting_batches", 0) for s in shard_stats),
        "shard_orphaned_batches": sum(s.get("orphaned_batches", 0) for s in shard_stats),
    }
    invalidated = sum(m["invalidated"] for m in shard_memory)
    guild_deletes = sum(m["guild_deletes"] for m in shard_memory)
    problems = delivery_problems(
        args.messages, len(trace), expected, deliveries, invalidated, guild_deletes, after
    )
    return Record(
        config=mode,
        members=members,
        sessions=sessions,
        active_sessions=active_sessions,
        session_shards=args.session_shards,
        relays=after["relays"],
        messages=len(trace),
        rate_per_s=args.rate,
        deliveries=deliveries,
        deliveries_per_s=round(deliveries / span_s, 1),
        burst_deliveries_per_s=round(float(np.median(bursts)) if bursts else 0.0, 1),
        p50_ms=round(float(np.percentile(latencies, 50)), 2),
        p99_ms=round(float(np.percentile(latencies, 99)), 2),
        max_ms=round(float(latencies.max()), 2),
        ray_calls_per_message=round(calls / args.messages, 2),
        guild_cpu_ms_per_message=round((after["cpu_s"] - before["cpu_s"]) * 1000 / args.messages, 3),
        bytes_per_member=round(after["member_bytes"] / members, 1),
        bytes_per_session=round(bytes_per_session, 1),
        dropped_sessions=after["dropped_sessions"],
        wire=args.wire,
        latency=summarize(latencies),
        histogram=histogram.as_json(),
        wire_bytes_in=sum(m["wire_bytes_in"] for m in shard_memory)
        - sum(m["wire_bytes_in"] for m in memory_before),
        wire_bytes_out=sum(m["wire_bytes_out"] for m in shard_memory)
        - sum(m["wire_bytes_out"] for m in memory_before),
        wire_frames=sum(m["wire_frames"] for m in shard_memory)
        - sum(m["wire_frames"] for m in memory_before),
        guild_rss_bytes_per_member=round(per_unit(guild_rss_before, after["rss_bytes"], members), 1),
        session_rss_bytes_per_session=round(
            per_unit(session_rss_start, sum(m["rss_bytes"] for m in shard_memory), max(1, total_slots)), 1
        ),
        session_cpu_ms_per_message=round(session_cpu_s * 1000 / args.messages, 3),
        guild_process_cpu_ms_per_message=round(guild_process_cpu_s * 1000 / args.messages, 3),
        relay_cpu_ms_per_message=round(relay_cpu_s * 1000 / args.messages, 3),
        expected_deliveries=expected,
        complete=not problems,
        problems=problems,
        sessions_invalidated=invalidated,
        guild_deletes=guild_deletes,
        relay_failures=after["relay_failures"],
        relays_lost=after["relays_lost"],
        relay_waiting_batches=after["relay_waiting_batches"],
        relay_peak_waiting_batches=after["relay_peak_waiting_batches"],
        relay_peak_before_first_batches=after["relay_peak_before_first_batches"],
        relay_orphaned_batches=after["relay_orphaned_batches"],
        shard_broken_streams=after["shard_broken_streams"],
        shard_waiting_batches=after["shard_waiting_batches"],
        shard_peak_waiting_batches=max(s.get("peak_waiting_batches", 0) for s in shard_stats),
        shard_orphaned_batches=after["shard_orphaned_batches"],
    )


def delivery_problems(
    sent: int,
    arrived: int,
    expected: int,
    deliveries: int,
    invalidated: int,
    guild_deletes: int,
    stats: dict[str, int],
) -> list[str]:
    """Why a run's numbers are not a measurement of what it sent (empty: they are)."""
    problems = []
    if arrived < sent or deliveries < expected:
        problems.append(f"delivered {deliveries:,} of {expected:,} ({arrived} of {sent} messages arrived)")
    if invalidated:
        problems.append(f"{invalidated:,} sessions told op 9")
    if guild_deletes:
        problems.append(f"{guild_deletes:,} GUILD_DELETE deliveries")
    for key, what in (
        ("relay_failures", "guild->relay batches failed"),
        ("relays_lost", "relays lost"),
        ("relay_waiting_batches", "batches stuck in a relay"),
        ("relay_orphaned_batches", "batches forgotten by a relay"),
        ("shard_broken_streams", "session-shard streams broken"),
        ("shard_waiting_batches", "batches stuck in a session shard"),
        ("shard_orphaned_batches", "batches forgotten by a session shard"),
    ):
        if stats.get(key):
            problems.append(f"{stats[key]:,} {what}")
    return problems


async def run(args: argparse.Namespace) -> list[Record]:
    config = load_config(
        environ={},
        guild_shards=1,
        presence_shards=1,
        session_shards=args.session_shards,
        relay_size=args.relay_size,
        tick_ms=args.tick_ms,
        passive_update_interval_s=3600,
        namespace="rayguild-bench",
        dashboard_port=free_port(),  # another Ray on the machine may hold the default port
        sqlite_path=str(Path(tempfile.mkdtemp(prefix="rayguild-bench-")) / "bench.sqlite3"),
    )
    progress("starting Ray; each configuration gets shards of its own ...")
    records = []
    runs = [(m, mode, r) for r in range(args.repeats) for m in args.members for mode in args.modes]
    total = len(runs)
    for n, (members, mode, repeat) in enumerate(runs, start=1):
        progress(f"[{n}/{total}] {mode} with {members:,} members, {min(args.sessions, members):,} sessions")
        record = replace(await run_one(config, args, n, members, mode), repeat=repeat)
        progress(
            f"    -> {record.deliveries_per_s:,.0f} deliveries/s (burst {record.burst_deliveries_per_s:,.0f}/s), p50 {record.p50_ms} ms, p99 {record.p99_ms} ms, "
            f"{record.ray_calls_per_message} Ray calls/message"
            + ("" if record.complete else f"  INCOMPLETE: {'; '.join(record.problems)}")
        )
        records.append(record)
    cluster.shutdown()
    return records


COLUMNS = (
    ("config", "config"),
    ("members", "members"),
    ("sessions", "sessions"),
    ("active", "active_sessions"),
    ("relays", "relays"),
    ("deliveries/s", "deliveries_per_s"),
    ("burst deliveries/s", "burst_deliveries_per_s"),
    ("p50 ms", "p50_ms"),
    ("p99 ms", "p99_ms"),
    ("max ms", "max_ms"),
    ("Ray calls/msg", "ray_calls_per_message"),
    ("guild CPU ms/msg", "guild_cpu_ms_per_message"),
    ("B/member", "bytes_per_member"),
    ("B/session", "bytes_per_session"),
    ("wire", "wire"),
    ("repeat", "repeat"),
    ("msgs behind pct", "messages"),
    ("session CPU ms/msg", "session_cpu_ms_per_message"),
    ("RSS B/member", "guild_rss_bytes_per_member"),
    ("RSS B/session", "session_rss_bytes_per_session"),
    ("wire B in", "wire_bytes_in"),
    ("wire B out", "wire_bytes_out"),
    ("complete", "complete"),
    ("deliveries", "deliveries"),
    ("expected", "expected_deliveries"),
    ("op 9s", "sessions_invalidated"),
    ("relay peak waiting", "relay_peak_waiting_batches"),
    ("relay waiting before batch 0", "relay_peak_before_first_batches"),
)


def plot(records: list[Record], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode in dict.fromkeys(r.config for r in records):
        rows = sorted((r for r in records if r.config == mode), key=lambda r: r.members)
        ax.plot([r.members for r in rows], [r.p99_ms for r in rows], marker="o", label=f"{mode} p99")
        ax.plot(
            [r.members for r in rows],
            [r.p50_ms for r in rows],
            marker=".",
            linestyle="--",
            label=f"{mode} p50",
        )
    ax.set_xscale("log")
    ax.set_xlabel("guild members")
    ax.set_ylabel("publish -> last delivery (ms)")
    ax.set_title("Fan-out latency")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "latency_vs_members.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = [f"{r.config}\n{r.members:,}" for r in records]
    ax.bar(range(len(records)), [r.deliveries_per_s for r in records])
    ax.set_xticks(range(len(records)), labels, fontsize=7)
    ax.set_ylabel("deliveries / s")
    ax.set_title("Deliveries per second by configuration")
    fig.tight_layout()
    fig.savefig(out / "deliveries_per_s.png", dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    records = asyncio.run(run(args))
    rows = [asdict(r) for r in records]
    program = "python -m rayguild.benchmarks.fanout" if argv is None else "rayguild bench fanout"
    command = command_line(program, argv)
    write_results(args.out, command, args, rows, markdown_table(rows, COLUMNS))
    plot(records, args.out)
    progress(f"plots: {args.out}/latency_vs_members.png, deliveries_per_s.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
