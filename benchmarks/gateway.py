"""``python -m rayguild.benchmarks.gateway``: real websocket sessions on one box, and one message to all.

Starts a rayguild node (Ray, shards, edges on a free port), makes a bot and a guild, then for each
connection count opens that many REAL gateway sessions (Hello, Identify, READY, GUILD_CREATE,
heartbeats) from ``--client-procs`` load-generator processes, posts ``--messages`` messages
through REST and records, per message, the time from the POST to its arrival on every session.
Also reports the edges' memory per connection (RSS growth of the session shard processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import psutil

from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.config import load_config


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.gateway", description=__doc__)
    p.add_argument("--connections", type=int, nargs="+", default=[1000, 10_000])
    p.add_argument("--client-procs", type=int, default=2)
    p.add_argument("--messages", type=int, default=20)
    p.add_argument(
        "--rate", type=float, default=1.0, help="messages per second (the channel allows 5 per 5 s)"
    )
    p.add_argument("--session-shards", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("bench-out/gateway"))
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def call(http: aiohttp.ClientSession, method: str, url: str, token: str = "", **kw: Any) -> Any:
    """One REST call; a 429 is honoured (wait ``retry_after``, retry) as a well-behaved client does."""
    headers = {"Authorization": f"Bot {token}"} if token else {}
    while True:
        async with http.request(method, url, headers=headers, **kw) as response:
            body = await response.json()
            if response.status == 429:
                await asyncio.sleep(float(body["retry_after"]))
                continue
            if response.status >= 300:
                raise RuntimeError(f"{method} {url}: {response.status} {body}")
            return body


def edge_rss(runtime: Runtime) -> int:
    pids = [row.pid for row in runtime.status() if row.name.startswith("session-") and row.pid]
    return sum(psutil.Process(pid).memory_info().rss for pid in pids)


async def run_one(
    runtime: Runtime, args: argparse.Namespace, token: str, channel: str, n: int
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{runtime.config.port}"
    rss_before = edge_rss(runtime)
    per_proc = [
        n // args.client_procs + (1 if i < n % args.client_procs else 0) for i in range(args.client_procs)
    ]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "rayguild.benchmarks.gateway_client",
            base.replace("http", "ws", 1),
            token,
            str(k),
            stdin=subprocess.PIPE,
            limit=1 << 28,  # the arrival report is one long JSON line
            stdout=subprocess.PIPE,
        )
        for k in per_proc
    ]
    started = time.monotonic()
    for proc in procs:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=600)).decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"a load generator failed: {line!r}")
    setup_s = time.monotonic() - started
    rss_after = edge_rss(runtime)
    progress(
        f"    {n:,} sessions ready in {setup_s:.1f} s; edge RSS +{(rss_after - rss_before) / n / 1024:.1f} KiB each"
    )
    sent: dict[str, int] = {}
    async with aiohttp.ClientSession() as http:
        t0 = time.monotonic()
        for i in range(args.messages):
            await asyncio.sleep(max(0.0, t0 + i / args.rate - time.monotonic()))
            content = f"bench-{n}-{i}"
            sent[content] = time.time_ns()
            await call(
                http, "POST", f"{base}/api/v10/channels/{channel}/messages", token, json={"content": content}
            )
    await asyncio.sleep(3)
    arrivals: dict[str, list[int]] = {c: [] for c in sent}
    for proc in procs:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        seen = json.loads((await proc.stdout.readline()).decode())
        for content, times in seen.items():
            arrivals.setdefault(content, []).extend(times)
        await proc.wait()
    to_all = [(max(times) - sent[c]) / 1e6 for c, times in arrivals.items() if c in sent and len(times) == n]
    each = np.array([(t - sent[c]) / 1e6 for c, times in arrivals.items() if c in sent for t in times])
    delivered = sum(len(arrivals.get(c, [])) for c in sent)
    return {
        "connections": n,
        "setup_s": round(setup_s, 1),
        "edge_rss_bytes_per_connection": round((rss_after - rss_before) / n),
        "messages": args.messages,
        "delivered": delivered,
        "expected": args.messages * n,
        "to_all_p50_ms": round(float(np.percentile(to_all, 50)), 1) if to_all else None,
        "to_all_p99_ms": round(float(np.percentile(to_all, 99)), 1) if to_all else None,
        "each_p50_ms": round(float(np.percentile(each, 50)), 1) if each.size else None,
        "each_p99_ms": round(float(np.percentile(each, 99)), 1) if each.size else None,
    }


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rayguild.http_api.server import start_edge

    config = load_config(
        environ={},
        port=free_port(),
        session_shards=args.session_shards,
        namespace="rayguild-bench-gateway",
        sqlite_path=str(Path(tempfile.mkdtemp(prefix="rayguild-gw-")) / "gw.sqlite3"),
        log_level="warning",
    )
    runtime = Runtime(config, edge_factory=start_edge)
    progress("starting Ray, shards and edges ...")
    runtime.start(log_to_driver=False)
    api = f"http://127.0.0.1:{config.port}/api/v10"
    async with aiohttp.ClientSession() as http:
        bot = await call(http, "POST", f"{api}/auth/register", json={"username": "bench", "bot": True})
        token = bot["token"]
        guild = await call(http, "POST", f"{api}/guilds", token, json={"name": "gateway-bench"})
        channel = (await call(http, "GET", f"{api}/guilds/{guild['id']}/channels", token))[0]["id"]
    records = []
    for n in args.connections:
        progress(f"[{n:,} connections]")
        record = await run_one(runtime, args, token, channel, n)
        progress(f"    -> {record}")
        records.append(record)
        await asyncio.sleep(2)  # let the closed sessions detach
    runtime.shutdown()
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    records = asyncio.run(run(args))
    command = command_line("python -m rayguild.benchmarks.gateway", argv)
    write_results(args.out, command, args, records, markdown_table(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
