"""``python -m rayguild.benchmarks.edge_memory``: where an idle gateway connection's memory goes.

One in-process node (``LocalCluster``: the real shard bodies in this process) behind a real
aiohttp server on loopback; ``gateway_client.py`` in a subprocess opens ``--connections`` real
sessions of one bot (Hello, Identify, READY, GUILD_CREATE) and stays idle. tracemalloc snapshots
taken before and after are diffed per allocation site, so each byte is attributed to the line
that allocated it (the client's own memory is in the other process and never counted).

Shows bytes per connection in total, per source file and for the top sites. Allocations made by
C libraries that bypass Python's allocators (zstd's contexts) are not seen; zlib's are.
``--rss`` instead reads this process's RSS growth per connection (no tracemalloc, whose own
records would inflate it) after ``--idle`` seconds of silence (the wire frees an idle zlib
context after 10-20 s): what the kernel charges, fragmentation included.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.sqlite import SqliteStorage

TRACE_FRAMES = 8  # traceback depth kept per allocation with ``trace`` (1 otherwise: cheaper)
GUILD_SIDE = ("/actors/guild", "/actors/presence", "/actors/member", "/storage/", "/fanout/")


@dataclass(frozen=True, slots=True)
class Measurement:
    connections: int
    bytes_per_connection: float  # everything this process grew by, per connection
    edge_bytes_per_connection: float  # without what the in-process guild/presence shards and storage hold
    by_file: list[tuple[str, float]]  # (file, bytes per connection), largest first
    by_line: list[tuple[str, float]]  # ("file:line", bytes per connection), largest first
    callers: list[tuple[str, float]]  # for ``trace``: (traceback, bytes per connection), largest first
    rss_per_connection: float = 0.0  # ``rss`` only: RSS growth per connection


def _guild_side(filename: str) -> bool:
    return any(part in filename for part in GUILD_SIDE)


async def _register(base: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/auth/register", json={"username": "memory", "bot": True}) as r:
            token: str = (await r.json())["token"]
        headers = {"Authorization": f"Bot {token}"}
        async with http.post(f"{base}/guilds", headers=headers, json={"name": "memory"}) as r:
            assert r.status < 300, await r.text()
    return token


async def measure(
    connections: int, compress: str, top: int = 25, trace: str = "", rss: bool = False, idle_s: float = 0.5
) -> Measurement:
    """Open ``connections`` idle sessions against an in-process edge; diff tracemalloc (or, with
    ``rss``, the RSS) around them, ``idle_s`` after the last one was ready."""
    db = Path(tempfile.mkdtemp(prefix="rayguild-mem-")) / "mem.sqlite3"
    config = Config(
        sqlite_path=str(db), identify_interval_s=0.0, session_start_total=connections + 10, tick_ms=1.0
    )
    cluster = LocalCluster(config, lambda: SqliteStorage(db))
    ctx = await cluster.edge(0)
    runner = web.AppRunner(build_app(ctx, RateLimiter(limit_scale=100)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client: asyncio.subprocess.Process | None = None
    try:
        token = await _register(f"http://127.0.0.1:{port}/api/v10")
        gc.collect()
        rss_before = psutil.Process().memory_info().rss
        if not rss:
            tracemalloc.start(TRACE_FRAMES if trace else 1)
            before = tracemalloc.take_snapshot()
        argv = [str(port), token, str(connections), compress, "127.0.0.1", str(connections + 1), "1"]
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rayguild.benchmarks.gateway_client", "127.0.0.1", *argv,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert client.stdout is not None
        line = (await asyncio.wait_for(client.stdout.readline(), timeout=300)).decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"the load generator failed: {line!r}")
        await asyncio.sleep(idle_s)  # the last flushes and ticks run, idle contexts are freed
        gc.collect()
        if rss:
            grown = (psutil.Process().memory_info().rss - rss_before) / connections
            return Measurement(connections, 0.0, 0.0, [], [], [], grown)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        if client is not None and client.returncode is None:
            client.kill()
            await client.wait()
        await runner.cleanup()
        await cluster.close()
    return _attribute(before, after, connections, top, trace)


def _attribute(before: Any, after: Any, n: int, top: int, trace: str) -> Measurement:
    lines = after.compare_to(before, "lineno")
    total = sum(stat.size_diff for stat in lines)
    edge = sum(stat.size_diff for stat in lines if not _guild_side(stat.traceback[0].filename))
    files: dict[str, int] = {}
    for stat in lines:
        name = _short(stat.traceback[0].filename)
        files[name] = files.get(name, 0) + stat.size_diff
    by_file = sorted(((f, size / n) for f, size in files.items()), key=lambda item: -item[1])[:top]
    by_line = [
        (f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}", stat.size_diff / n)
        for stat in lines[:top]
    ]
    callers = [
        (
            " <- ".join(f"{_short(f.filename)}:{f.lineno}" for f in reversed(stat.traceback)),
            stat.size_diff / n,
        )
        for stat in (after.compare_to(before, "traceback") if trace else ())
        if f"{_short(stat.traceback[-1].filename)}:{stat.traceback[-1].lineno}" == trace
    ]
    return Measurement(n, total / n, edge / n, by_file, by_line, callers[:top])


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/rayguild/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.edge_memory", description=__doc__)
    p.add_argument("--connections", type=int, default=500)
    p.add_argument("--compress", choices=["", "zlib-stream", "zstd-stream"], default="")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--trace", default="", help="file:line (as printed) whose callers to show")
    p.add_argument("--rss", action="store_true", help="RSS growth per connection instead (no tracemalloc)")
    p.add_argument("--idle", type=float, default=0.5, help="seconds idle before the reading")
    args = p.parse_args(argv)
    m = asyncio.run(measure(args.connections, args.compress, args.top, args.trace, args.rss, args.idle))
    print(f"{m.connections} idle connections, compress={args.compress or 'none'}")
    if args.rss:
        print(f"  RSS growth per connection after {args.idle:g} s idle: {m.rss_per_connection:,.0f} bytes")
        return 0
    print(
        f"  traced bytes per connection: {m.bytes_per_connection:,.0f} (edge side: {m.edge_bytes_per_connection:,.0f})"
    )
    print("  per file (bytes per connection):")
    for name, size in m.by_file:
        print(f"    {size:10,.0f}  {name}")
    print("  per allocation site:")
    for site, size in m.by_line:
        print(f"    {size:10,.0f}  {site}")
    for stack, size in m.callers:
        print(f"    {size:10,.0f}  {stack}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
