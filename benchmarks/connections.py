"""``python -m rayguild.benchmarks.connections``: N concurrent real gateway sessions of N accounts
on one box, one message to all of them.

The scale run of the gateway benchmark (``benchmarks/gateway.py``, whose measurement it reuses):

- checks the limits an operator raises for it (docs/operations.md, "Many gateway connections"):
  open files per process against sockets per edge and per load generator, ephemeral ports per
  source address; raises its own soft ``nofile`` to the hard limit (the node's processes and the
  load generators inherit it) and stops before starting anything if a limit cannot hold;
- seeds a guild of N bot accounts with tokens straight into storage (``benchmarks/crowd.py``): N
  sessions are N accounts, as on Discord, where one bot could not start N sessions;
- starts a fresh node with ``--session-shards`` edges sharing the gateway port, and
  ``--client-procs`` load generators (gateway_client.py: raw sockets, each from its own 127.0.0.x)
  identify every account once; progress (sessions per edge, load average) is printed every
  ``--progress-s`` while they set up;
- then gateway.py's measurement: edge RSS per connection, ``--messages`` posts (default ONE) by
  the guild's owner bot, POST to the last socket and POST to each socket (with the number of
  deliveries behind each percentile), edge CPU per delivered frame.

The whole run is bounded by ``--deadline-s``: past it the load generators are killed and the
report says how far set-up got (sessions on the edges, load average) instead of a result.
The node announces ``--heartbeat-interval-ms`` (default 10 minutes, Discord's is 41.25 s) in
Hello: the load generators count frames and so heartbeat only once a connection has its
GUILD_CREATE (an ACK before it would be miscounted), and on a loaded box a connection can wait
longer than 1.5 of Discord's intervals between Hello and GUILD_CREATE; the server would close it
(4009) and the run would wait for it forever. Once set up, every connection heartbeats every 20 s.

The node's SQLite file lives on tmpfs (/dev/shm) when there is one: this measures the wire and
the fan-out, not the disk (the seeding's 100,000 commits and each bot's session-start count
would otherwise wait on fsync). The bare compress baseline of gateway.py needs two messages or
more; with one it is reported as null. Writes results.json and results.md under ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.crowd import seed
from rayguild.benchmarks.gateway import MODES, free_port, run_one
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.config import Config, load_config

FDS_PER_PROCESS_BESIDES_SOCKETS = 1000  # Ray's own sockets, pipes, logs, SQLite
RAY_START_ATTEMPTS = 3
SCRATCH = "/dev/shm"  # the node's SQLite file and the token files: tmpfs, commits cost no fsync
COLUMNS = [
    ("compress", "compress"), ("connections", "connections"), ("edges / load generators", "procs"),
    ("seed s", "seed_s"), ("set-up s", "setup_s"), ("edge KiB/conn", "edge_rss_kib_per_connection"),
    ("delivered/expected", "delivered_of"), ("POST->last socket p50/p99 ms", "to_all_ms"),
    ("per socket p50/p99 ms", "each_ms"), ("deliveries behind each", "each_count"),
    ("edge us/frame (idle-corrected)", "edge_us"), ("load-gen us/frame", "client_us_per_frame"),
    ("load average 1/5/15 min", "load_average"),
]  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.connections", description=__doc__)
    p.add_argument("--connections", type=int, default=5000)
    p.add_argument("--members", type=int, default=0, help="guild size (default: --connections)")
    p.add_argument("--compress", choices=list(MODES), default="zlib-stream")
    p.add_argument("--session-shards", type=int, default=4, help="edges")
    p.add_argument("--client-procs", type=int, default=5)
    p.add_argument("--messages", type=int, default=1)
    p.add_argument("--rate", type=float, default=1.0, help="messages per second")
    p.add_argument("--sample-every", type=int, default=50, help="every n-th connection decodes and checks")
    p.add_argument("--progress-s", type=float, default=10.0)
    p.add_argument(
        "--heartbeat-interval-ms", type=int, default=600_000,
        help="what Hello announces; the load generators heartbeat only once set up (see the module doc)",
    )  # fmt: skip
    p.add_argument("--deadline-s", type=float, default=900.0, help="the whole run, seeding included")
    p.add_argument("--out", type=Path, default=Path("bench-out/connections"))
    return p.parse_args(argv)


def limits(args: argparse.Namespace) -> dict[str, Any]:
    """Raise the soft open-files limit to the hard one; the limits as read, and what the run needs
    of them. Raises SystemExit naming the limit that cannot hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    low, high = map(int, _sysctl("net/ipv4/ip_local_port_range").split())
    per_edge = -(-args.connections // args.session_shards)
    per_generator = -(-args.connections // args.client_procs)
    found = {
        "nofile_soft_before": soft, "nofile": hard, "somaxconn": int(_sysctl("net/core/somaxconn")),
        "tcp_max_syn_backlog": int(_sysctl("net/ipv4/tcp_max_syn_backlog")),
        "ip_local_port_range": f"{low}-{high}", "tcp_mem_pages": _sysctl("net/ipv4/tcp_mem"),
        "fs_file_max": int(_sysctl("fs/file-max")), "sockets_per_edge": per_edge,
        "sockets_per_generator": per_generator,
    }  # fmt: skip
    # SO_REUSEPORT balances by hash, not exactly: leave each edge 10 % over its share.
    if per_edge * 1.1 + FDS_PER_PROCESS_BESIDES_SOCKETS > hard:
        raise SystemExit(
            f"open files: {per_edge:,} sockets per edge need more than nofile={hard:,}: more edges"
        )
    if per_generator + FDS_PER_PROCESS_BESIDES_SOCKETS > hard:
        raise SystemExit(f"open files: {per_generator:,} sockets per load generator: more --client-procs")
    if per_generator > high - low:
        raise SystemExit(f"ephemeral ports: {per_generator:,} per source address > {high - low:,}")
    if 2 * args.connections > found["fs_file_max"]:  # both ends of every socket are on this box
        raise SystemExit(f"fs.file-max={found['fs_file_max']:,} is below two files per connection")
    return found


def _sysctl(name: str) -> str:
    return Path("/proc/sys", name).read_text().strip().replace("\t", " ")


def _load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _token_files(tokens: tuple[str, ...], procs: int, directory: Path) -> list[str]:
    """One file per load generator, split as gateway.run_one splits the connections."""
    n, out, start = len(tokens), [], 0
    for i in range(procs):
        count = n // procs + (1 if i < n % procs else 0)
        path = directory / f"tokens-{i}.txt"
        path.write_text("\n".join(tokens[start : start + count]) + "\n")
        out.append(f"@{path}")
        start += count
    return out


def _edge_sessions(runtime: Runtime) -> list[int | None]:
    """Sessions per edge; None where the edge did not answer within the status timeout (5 s)."""
    return [row.stats.get("sessions") for row in runtime.status() if row.name.startswith("session-")]


def _known(per_edge: list[int | None]) -> int:
    return sum(n for n in per_edge if n is not None)


async def _report_progress(runtime: Runtime, n: int, every_s: float, seen: dict[str, Any]) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        per_edge = await asyncio.to_thread(_edge_sessions, runtime)
        seen.update(
            sessions_per_edge=per_edge, sessions=_known(per_edge), at_s=round(time.monotonic() - started)
        )
        seen["max_sessions"] = max(seen.get("max_sessions", 0), _known(per_edge))
        progress(
            f"    {time.monotonic() - started:5.0f} s: {_known(per_edge):,} / {n:,} sessions on the edges "
            f"{per_edge} (None: no answer in 5 s); load average {_load_average()}"
        )


def _kill_load_generators() -> int:
    """Kill this process's gateway_client children (only those: they are ours)."""
    mine = [
        child for child in psutil.Process().children()
        if "rayguild.benchmarks.gateway_client" in " ".join(child.cmdline())
    ]  # fmt: skip
    for child in mine:
        child.kill()
    return len(mine)


async def run(args: argparse.Namespace, found: dict[str, Any], work: Path) -> dict[str, Any]:
    from rayguild.http_api.server import start_edge

    config: Config = load_config(
        environ={}, port=free_port(), dashboard_port=free_port(), session_shards=args.session_shards,
        namespace="rayguild-bench-connections", sqlite_path=str(work / "conns.sqlite3"), log_level="warning",
        heartbeat_interval_ms=args.heartbeat_interval_ms,
    )  # fmt: skip
    deadline = time.monotonic() + args.deadline_s
    base = {"compress": args.compress, "connections": args.connections,
            "procs": f"{args.session_shards} / {args.client_procs}", "limits": found}  # fmt: skip
    progress(f"seeding a guild of {args.connections:,} bots ...")
    seeded = time.monotonic()
    crowd = await seed(config, max(args.members, args.connections))
    base["members"] = len(crowd.tokens) + 1  # and its owner
    base["seed_s"] = round(time.monotonic() - seeded, 1)
    identify_as = _token_files(crowd.tokens[: args.connections], args.client_procs, work)
    progress(f"    seeded in {base['seed_s']} s; starting Ray, shards and {args.session_shards} edges ...")
    runtime = Runtime(config, edge_factory=start_edge)
    for attempt in range(1, RAY_START_ATTEMPTS + 1):
        try:
            runtime.start(log_to_driver=False)  # a Ray of its own (cluster.init starts it "local")
            break
        except Exception as failed:  # Ray waits 30 s for its raylet, too short on a loaded box
            runtime.shutdown()
            if attempt == RAY_START_ATTEMPTS:
                raise
            progress(f"    Ray did not start ({failed}); again, load average {_load_average()}")
    seen: dict[str, Any] = {}
    watcher = asyncio.create_task(_report_progress(runtime, args.connections, args.progress_s, seen))
    base["load_average_start"] = _load_average()
    try:
        measured = run_one(
            runtime, args, crowd.owner_token, str(crowd.channel_id), MODES[args.compress], args.connections,
            identify_as,
        )  # fmt: skip
        record = await asyncio.wait_for(measured, timeout=max(1.0, deadline - time.monotonic()))
        record = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()}
        return {**base, **record, "completed": True, "load_average": _load_average()}
    except (TimeoutError, RuntimeError) as stopped:
        reason = "deadline" if isinstance(stopped, TimeoutError) else str(stopped)
        killed = _kill_load_generators()
        per_edge = await asyncio.to_thread(_edge_sessions, runtime)
        progress(
            f"    stopped ({reason}): {_known(per_edge):,} sessions on the edges; {killed} generators killed"
        )
        return {
            **base, "completed": False, "stopped_by": reason, "sessions_at_stop": _known(per_edge),
            "sessions_per_edge_at_stop": per_edge, "max_sessions_seen": seen.get("max_sessions", 0),
            "load_average": _load_average(),
        }  # fmt: skip
    finally:
        watcher.cancel()
        runtime.shutdown()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = limits(args)
    progress(f"limits: {json.dumps(found)}")
    work = Path(tempfile.mkdtemp(prefix="rayguild-conns-", dir=SCRATCH if Path(SCRATCH).is_dir() else None))
    try:
        record = asyncio.run(run(args, found, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"    -> {json.dumps(record)}")
    command = command_line("python -m rayguild.benchmarks.connections", argv)
    columns = COLUMNS if record["completed"] else [(k, k) for k in record if k != "limits"]
    write_results(args.out, command, args, [record], markdown_table([record], columns))
    return 0 if record["completed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
