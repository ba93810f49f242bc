"""How fast each storage backend inserts messages and fetches history on this machine.

Run ``python -m rayguild.benchmarks.storage --out DIR`` (``make bench-storage`` starts Cassandra
for it). Each backend inserts messages spread over channels, then fetches 50-message history pages
at random points, first one request at a time (latency) and then many at once (throughput).
Writes DIR/results.json and DIR/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from rayguild.ids import SnowflakeGenerator
from rayguild.storage import HistoryQuery, Message, ScyllaStorage, SqliteStorage, Storage

DISCORD_P99_MS = {"insert": 5.0, "history": 15.0}  # Discord's production ScyllaDB figures


@dataclass(frozen=True, slots=True)
class PhaseResult:
    backend: str
    phase: str  # "insert" or "history"
    concurrency: int
    ops: int
    ops_per_s: float
    p50_ms: float
    p99_ms: float


async def measure(
    backend: str, phase: str, ops: list[Callable[[], Awaitable[object]]], concurrency: int
) -> PhaseResult:
    """Run ``ops`` with at most ``concurrency`` in flight; latency is per op."""
    latencies: list[float] = []
    queue = iter(ops)

    async def worker() -> None:
        for op in queue:
            started = time.perf_counter()
            await op()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    result = PhaseResult(backend, phase, concurrency, len(ops), len(ops) / elapsed, cuts[49], cuts[98])
    print(
        f"  {backend:6} {phase:7} x{concurrency:<3} {result.ops_per_s:9.0f} ops/s  "
        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms",
        flush=True,
    )
    return result


async def bench_backend(name: str, storage: Storage, args: argparse.Namespace) -> list[PhaseResult]:
    ids = SnowflakeGenerator(worker_id=1, process_id=os.getpid() % 32)
    channels = [ids.next() for _ in range(args.channels)]
    rng = random.Random(7)
    made: list[int] = []

    def insert_op() -> Callable[[], Awaitable[object]]:
        message = Message(id=ids.next(), channel_id=rng.choice(channels), author_id=42,
                          content="benchmark message " * 4, guild_id=1)  # fmt: skip
        made.append(message.id)
        return lambda: storage.create_message(message)

    def history_op() -> Callable[[], Awaitable[object]]:
        query = HistoryQuery(rng.choice(channels), limit=50, before=rng.choice(made))
        return lambda: storage.history(query)

    await storage.start()
    try:
        results = []
        for concurrency in (1, args.concurrency):
            print(f"{name}: {args.inserts} inserts, concurrency {concurrency}", flush=True)
            ops = [insert_op() for _ in range(args.inserts)]
            results.append(await measure(name, "insert", ops, concurrency))
        for concurrency in (1, args.concurrency):
            print(f"{name}: {args.fetches} history fetches, concurrency {concurrency}", flush=True)
            ops = [history_op() for _ in range(args.fetches)]
            results.append(await measure(name, "history", ops, concurrency))
        return results
    finally:
        await storage.close()


def to_markdown(results: list[PhaseResult], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| backend | phase | concurrency | ops | ops/s | p50 ms | p99 ms | Discord p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.phase} | {r.concurrency} | {r.ops} | {r.ops_per_s:.0f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {DISCORD_P99_MS[r.phase]:.0f} |"
        )
    return "\n".join(lines) + "\n"


async def run_all(args: argparse.Namespace, sqlite_path: Path) -> list[PhaseResult]:
    results: list[PhaseResult] = []
    if "sqlite" in args.backends:
        results += await bench_backend("sqlite", SqliteStorage(sqlite_path), args)
    if "scylla" in args.backends:
        host, _, port = args.cassandra.rpartition(":")
        storage = ScyllaStorage(
            hosts=(host,), port=int(port), keyspace=f"rayguild_bench_{int(time.time())}",
            datacenter=args.datacenter, replication_factor=1, consistency="LOCAL_QUORUM",
        )  # fmt: skip
        results += await bench_backend("scylla", storage, args)
    return results


def write_results(out: Path, results: list[PhaseResult], command: str) -> None:
    (out / "results.json").write_text(
        json.dumps({"command": command, "results": [asdict(r) for r in results]}, indent=2)
    )
    (out / "results.md").write_text(to_markdown(results, command))
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for results.json and results.md")
    parser.add_argument("--backends", default="sqlite,scylla", help="comma-separated")
    parser.add_argument("--inserts", type=int, default=5_000, help="messages per insert phase")
    parser.add_argument("--fetches", type=int, default=2_000, help="pages per history phase")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--cassandra", default=os.environ.get("RAYGUILD_TEST_CASSANDRA", "127.0.0.1:9042"),
        help="host:port of the Cassandra/ScyllaDB node",
    )  # fmt: skip
    parser.add_argument("--datacenter", default="datacenter1")
    args = parser.parse_args(argv)
    args.backends = args.backends.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sqlite_path = out / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):  # a fresh database each run
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    results = asyncio.run(run_all(args, sqlite_path))
    given = sys.argv[1:] if argv is None else argv
    write_results(out, results, "python -m rayguild.benchmarks.storage " + " ".join(given))


if __name__ == "__main__":
    main()
