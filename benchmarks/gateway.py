"""``python -m rayguild.benchmarks.gateway``: real gateway sockets on one box, one message to all,
and what the wire costs the edge, read from the edge processes' own accounting.

For each compression mode (none / zlib-stream / zstd-stream) a fresh rayguild node is started
(Ray, shards, edges); for each connection count ``--client-procs`` load generators
(gateway_client.py: raw sockets, frames counted, not parsed; a sample decoded and checked) open
that many REAL gateway sessions (Hello, Identify, READY, GUILD_CREATE, heartbeats). Then:

- edge RSS per idle connection: the session shard processes' RSS growth over the set-up, read
  right after it and again after ``IDLE_WAIT_S`` of silence (the wire frees an idle zlib
  context after 10-20 s);
- the generators go quiet (heartbeats ACKed, none sent), the edges' idle CPU rate is read, then
  ``--messages`` messages are posted through REST at ``--rate`` per second;
- per message: time from the POST to its arrival on every socket (``to_all``: the last socket,
  ``each``: every socket), with the number of deliveries behind each percentile;
- edge CPU per delivered frame: the session shard processes' CPU seconds over the posting window
  divided by frames delivered (raw, and minus their idle rate over the same time; and the raw
  system time alone, the kernel's part: sending on loopback, waking the readers), beside the
  generators' own CPU per frame (so it is visible that they did not bound the result) and the
  bare compress+flush of the delivered frames over up to 2,000 contexts, measured in this run
  with the libraries' default contexts and with the edge's sized ones, and the bare cost of one
  loopback ``send()`` per frame (the kernel's floor for one write per delivered frame).

Writes results.json, results.md and wire.png under ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from rayguild.actors.hosts import snowflakes_for
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.benchmarks.wire_cost import ProcessMeter, bare_compress_us, bare_send_us, plot
from rayguild.config import Config, load_config
from rayguild.http_api.auth import create_user
from rayguild.http_api.wire import IDLE_RELEASE_S
from rayguild.storage import open_storage

MODES = {"none": "", "zlib-stream": "zlib-stream", "zstd-stream": "zstd-stream"}
IDLE_SAMPLE_S = 3.0
IDLE_WAIT_S = 2 * IDLE_RELEASE_S + 2.0  # after set-up, before the idle RSS reading
# Sessions are spread over bots (``SESSIONS_PER_BOT`` each, all in the one guild): every identify
# of one bot updates that bot's session-start record by compare-and-set, and 2,000 concurrent
# identifies of ONE bot spent most of the set-up losing it (op 9, retry; ~45,000 retries and
# minutes of set-up). Discord's limits (1,000 starts a day, one identify per 5 s) would refuse
# all but the first sessions of a bot: the wire is measured here, the limits have their own tests.
# The generators stop heartbeating at ``quiet`` (every frame after it is then a posted message):
# a 10-minute interval keeps a slow run's sessions from the 4009 timeout (1.5 intervals), which
# is what ended the first zstd-stream run on a box at load 40-78.
BENCH_LIMITS: dict[str, Any] = {
    "identify_interval_s": 0.0, "session_start_total": 10**9, "heartbeat_interval_ms": 600_000,
}  # fmt: skip
BASELINE_CONTEXTS = 2000
SESSIONS_PER_BOT = 50
COLUMNS = [
    ("compress", "compress"), ("connections", "connections"), ("set-up s", "setup_s"),
    ("edge KiB/conn after set-up / idle", "edge_rss_kib"), ("delivered/expected", "delivered_of"),
    ("POST->last socket p50/p99 ms", "to_all_ms"), ("per socket p50/p99 ms", "each_ms"),
    ("deliveries behind each", "each_count"), ("edge us/frame (idle-corrected)", "edge_us"),
    ("of it in the kernel", "edge_system_us_per_frame"),
    ("bare compress us/frame default/edge ctx", "bare_us"), ("bare send() us/frame", "bare_send_us"), ("load-gen us/frame", "client_us_per_frame"),
    ("sample checks failed", "check_failures"),
]  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.gateway", description=__doc__)
    p.add_argument("--connections", type=int, nargs="+", default=[2000])
    p.add_argument("--compress", nargs="+", choices=list(MODES), default=list(MODES))
    p.add_argument("--client-procs", type=int, default=2)
    p.add_argument("--messages", type=int, default=10)
    p.add_argument("--rate", type=float, default=1.0, help="messages per second (a channel allows 5 per 5 s)")
    p.add_argument("--session-shards", type=int, default=2)
    p.add_argument("--sample-every", type=int, default=50, help="every n-th connection decodes and checks")
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


async def _line(proc: asyncio.subprocess.Process, timeout_s: float) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), timeout=timeout_s)).decode()


async def _tell(procs: list[asyncio.subprocess.Process], command: str) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(command.encode() + b"\n")
        await proc.stdin.drain()


def _percentiles(values: np.ndarray) -> tuple[float | None, float | None]:
    if not values.size:
        return None, None
    return round(float(np.percentile(values, 50)), 1), round(float(np.percentile(values, 99)), 1)


async def run_one(runtime: Runtime, args: argparse.Namespace, token: str, channel: str, compress: str,
                  n: int, identify_as: Sequence[str] = ()) -> dict[str, Any]:  # fmt: skip
    """``token`` posts; the generators identify with it too, or generator i with ``identify_as[i]``
    (a token or ``@file`` of tokens, see gateway_client.py)."""
    port, edges = runtime.config.port, ProcessMeter(_edge_pids(runtime))
    rss_before = edges.rss_bytes()
    per_proc = [
        n // args.client_procs + (1 if i < n % args.client_procs else 0) for i in range(args.client_procs)
    ]
    procs = []
    for i, k in enumerate(per_proc):  # each from its own 127.0.0.x: ephemeral ports per source address
        argv = [
            str(port),
            identify_as[i] if identify_as else token,
            str(k),
            compress,
            f"127.0.0.{2 + i}",
            str(args.sample_every),
            str(args.messages),
        ]
        generator = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rayguild.benchmarks.gateway_client", "127.0.0.1", *argv,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 30,
        )  # fmt: skip
        procs.append(generator)
    started = time.monotonic()
    for proc in procs:
        line = await _line(proc, 900)
        if not line.startswith("ready"):
            raise RuntimeError(f"a load generator failed: {line!r}")
    setup_s = time.monotonic() - started
    rss_per_conn = (edges.rss_bytes() - rss_before) / n
    progress(f"    {n:,} sessions ready in {setup_s:.1f} s; edge RSS +{rss_per_conn / 1024:.1f} KiB each")
    await _tell(procs, "quiet")
    for proc in procs:
        assert (await _line(proc, 300)).startswith("quiet")
    await asyncio.sleep(IDLE_WAIT_S)
    rss_idle_per_conn = (edges.rss_bytes() - rss_before) / n
    progress(f"    after {IDLE_WAIT_S:g} s idle: edge RSS +{rss_idle_per_conn / 1024:.1f} KiB each")
    idle_start = edges.cpu_s()
    await asyncio.sleep(IDLE_SAMPLE_S)
    idle_rate = (edges.cpu_s() - idle_start) / IDLE_SAMPLE_S
    cpu_start, system_start, window_start = edges.cpu_s(), edges.system_s(), time.monotonic()
    sent: list[int] = []
    async with aiohttp.ClientSession() as http:
        for i in range(args.messages):
            await asyncio.sleep(max(0.0, window_start + i / args.rate - time.monotonic()))
            sent.append(time.time_ns())
            url = f"http://127.0.0.1:{port}/api/v10/channels/{channel}/messages"
            await call(http, "POST", url, token, json={"content": f"bench-{compress or 'none'}-{n}-{i}"})
    await _tell(procs, "collect")
    reports = [json.loads(await _line(proc, 300)) for proc in procs]
    cpu_s, window_s = edges.cpu_s() - cpu_start, time.monotonic() - window_start
    system_s = edges.system_s() - system_start
    for proc in procs:
        await proc.wait()
    arrivals = np.concatenate(
        [np.asarray(r["arrivals"], dtype=np.int64).reshape(args.messages, -1) for r in reports], axis=1
    )
    arrivals = arrivals[:, arrivals[0] >= 0]  # without the connections left out (closed before)
    got = arrivals > 0
    delivered, live = int(got.sum()), arrivals.shape[1]
    lag_ms = (arrivals - np.asarray(sent, dtype=np.int64)[:, None]) / 1e6
    complete = got.all(axis=1)
    to_all = lag_ms.max(axis=1)[complete]
    each = lag_ms[got]
    sample = [f.encode() for f in next((r["sample_frames"] for r in reports if r["sample_frames"]), [])]
    contexts = min(n, BASELINE_CONTEXTS)
    client_cpu = sum(r["cpu_s"] for r in reports)
    edge_us = cpu_s / max(delivered, 1) * 1e6
    edge_us_corrected = (cpu_s - idle_rate * window_s) / max(delivered, 1) * 1e6
    bare_default = bare_compress_us(compress, sample, contexts, sized=False)
    bare_sized = bare_compress_us(compress, sample, contexts, sized=True)
    bare_send = bare_send_us(sample, contexts)
    closes: dict[str, int] = {}
    for r in reports:
        for code, count in r["closes"].items():
            closes[code] = closes.get(code, 0) + count
    (to_all_p50, to_all_p99), (each_p50, each_p99) = _percentiles(to_all), _percentiles(each)
    return {
        "compress": compress or "none",
        "connections": n,
        "setup_s": round(setup_s, 1),
        "edge_rss_kib_per_connection": round(rss_per_conn / 1024, 1),
        "edge_rss_kib_per_connection_idle": round(rss_idle_per_conn / 1024, 1),
        "edge_rss_kib": f"{rss_per_conn / 1024:.1f} / {rss_idle_per_conn / 1024:.1f}",
        "messages": args.messages,
        "delivered": delivered,
        "expected": args.messages * live,
        "delivered_of": f"{delivered:,} / {args.messages * live:,}",
        "to_all_p50_ms": to_all_p50, "to_all_p99_ms": to_all_p99, "to_all_count": int(to_all.size),
        "each_p50_ms": each_p50, "each_p99_ms": each_p99, "each_count": int(each.size),
        "to_all_ms": f"{to_all_p50} / {to_all_p99} ({to_all.size} msgs)", "each_ms": f"{each_p50} / {each_p99}",
        "edge_cpu_s": round(cpu_s, 3), "edge_idle_cpu_per_s": round(idle_rate, 4), "window_s": round(window_s, 2),
        "edge_us_per_frame": round(edge_us, 2), "edge_us_per_frame_idle_corrected": round(edge_us_corrected, 2),
        "edge_us": f"{edge_us:.1f} ({edge_us_corrected:.1f})",
        "edge_system_us_per_frame": round(system_s / max(delivered, 1) * 1e6, 2),
        "bare_default_us": round(bare_default, 2), "bare_sized_us": round(bare_sized, 2),
        "bare_us": f"{bare_default:.1f} / {bare_sized:.1f}", "baseline_contexts": contexts,
        "bare_send_us": round(bare_send, 2),
        "client_cpu_s": round(client_cpu, 3), "client_us_per_frame": round(client_cpu / max(delivered, 1) * 1e6, 2),
        "checked_frames": sum(r["checked_frames"] for r in reports),
        "check_failures": sum(len(r["check_failures"]) for r in reports) + sum(r["unexpected_frames"] for r in reports),
        "failure_examples": [f for r in reports for f in r["check_failures"]][:5],
        "closes_seen": closes,
        "excluded_not_quiet": sum(r["excluded"] for r in reports),
        "set_up_retries": sum(r["set_up_retries"] for r in reports),
    }  # fmt: skip


async def _bots(config: Config, count: int) -> list[str]:
    """``count`` more bot accounts, made as ``rayguild user create`` makes them; their tokens."""
    storage = open_storage(config)
    await storage.start()
    try:
        snowflakes = snowflakes_for(3, 2)  # the CLI's kind, an index no shard uses
        return [(await create_user(storage, snowflakes, f"bench-{i}", bot=True))[1] for i in range(count)]
    finally:
        await storage.close()


def _edge_pids(runtime: Runtime) -> list[int]:
    return [row.pid for row in runtime.status() if row.name.startswith("session-") and row.pid]


async def run_mode(args: argparse.Namespace, mode: str) -> list[dict[str, Any]]:
    from rayguild.http_api.server import start_edge

    config = load_config(
        environ={}, port=free_port(), dashboard_port=free_port(), session_shards=args.session_shards,
        namespace=f"rayguild-bench-gateway-{mode}",
        sqlite_path=str(Path(tempfile.mkdtemp(prefix="rayguild-gw-")) / "gw.sqlite3"), log_level="warning",
        **BENCH_LIMITS,
    )  # fmt: skip
    runtime = Runtime(config, edge_factory=start_edge)
    progress(f"[{mode}] starting Ray, shards and edges ...")
    runtime.start(log_to_driver=False)  # a Ray of its own (cluster.init: address "local")
    api = f"http://127.0.0.1:{config.port}/api/v10"
    try:
        async with aiohttp.ClientSession() as http:
            bot = await call(http, "POST", f"{api}/auth/register", json={"username": "bench", "bot": True})
            token = bot["token"]
            guild = await call(http, "POST", f"{api}/guilds", token, json={"name": "gateway-bench"})
            channel = (await call(http, "GET", f"{api}/guilds/{guild['id']}/channels", token))[0]["id"]
            code = (await call(http, "POST", f"{api}/channels/{channel}/invites", token, json={}))["code"]
            tokens = [token]
            for bot_token in await _bots(config, math.ceil(max(args.connections) / SESSIONS_PER_BOT) - 1):
                await call(http, "POST", f"{api}/invites/{code}", bot_token)
                tokens.append(bot_token)
            token_file = Path(config.sqlite_path).with_name("tokens.txt")
            token_file.write_text("\n".join(tokens))
        records = []
        for n in args.connections:
            progress(f"[{mode}: {n:,} connections]")
            identify_as = [f"@{token_file}"] * args.client_procs
            record = await run_one(runtime, args, token, channel, MODES[mode], n, identify_as)
            progress(f"    -> {json.dumps(record)}")
            records.append(record)
            await asyncio.sleep(3)  # let the closed sessions detach
        return records
    finally:
        runtime.shutdown()


def _mode_in_subprocess(args: argparse.Namespace, mode: str) -> list[dict[str, Any]]:
    """One mode on a fresh node in a fresh process (Ray does not start twice in one driver)."""
    out = args.out / mode
    argv = [
        "--connections", *map(str, args.connections), "--client-procs", str(args.client_procs),
        "--messages", str(args.messages), "--rate", str(args.rate), "--session-shards", str(args.session_shards),
        "--sample-every", str(args.sample_every), "--compress", mode, "--out", str(out),
    ]  # fmt: skip
    subprocess.run([sys.executable, "-m", "rayguild.benchmarks.gateway", *argv], check=True)
    records: list[dict[str, Any]] = json.loads((out / "results.json").read_text())["records"]
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if len(args.compress) == 1:
        records = asyncio.run(run_mode(args, args.compress[0]))
    else:
        records = [record for mode in args.compress for record in _mode_in_subprocess(args, mode)]
    command = command_line("python -m rayguild.benchmarks.gateway", argv)
    write_results(args.out, command, args, records, markdown_table(records, COLUMNS))
    plot(records, args.out / "wire.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
