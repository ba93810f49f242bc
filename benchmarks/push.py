"""``python -m rayguild.benchmarks.push``: pushes per minute through the whole pipeline to a local sink.

Real Ray, real PresenceShard and PushShard actors: the driver hands notifications of offline
users to ``Presences.push_if_offline`` (the path a mention takes after the message is stored) in
batches; the presence shard forwards them to the push shards, which persist them in the outbox
(sqlite) before answering, then push them with at most ``push_max_in_flight`` requests in flight
per shard to a webhook sink (aiohttp, in the driver) that deduplicates by idempotency key.
The driver is closed loop on the buffer: it keeps at most ``--window`` notifications accepted
and not yet delivered, and counts what the shards shed anyway. Reported: deliveries per minute
(accepted by the sink), submits per second, shed, duplicates seen by the sink (must be 0),
p50/p99 from submit to the sink's acceptance.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import orjson
from aiohttp import web

from rayguild.actors.push import PushRequest
from rayguild.actors.refs import Presences
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.benchmarks.webhook_sink import WebhookSink
from rayguild.config import load_config
from rayguild.http_api.webhook import AiohttpTransport
from rayguild.storage import Device, SqliteStorage


@dataclass(frozen=True, slots=True)
class Record:
    push_shards: int
    max_in_flight: int
    transport: str
    notifications: int
    delivered: int
    shed: int
    duplicates_at_sink: int
    seconds: float
    pushes_per_minute: float
    submits_per_s: float
    p50_ms: float
    p99_ms: float


class TimedSink(WebhookSink):
    """The dedup sink, also noting when each notification first arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, int] = {}

    async def _receive(self, request: web.Request) -> web.Response:
        response = await super()._receive(request)
        key = request.headers.get("Idempotency-Key", "")
        if response.status == 200 and key not in self.arrived:
            self.arrived[key] = time.time_ns()
        return response


async def settle(sink: TimedSink, done: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``done`` every 5 ms (the driver's closed loop), for at most ``timeout_s``."""
    for _ in range(int(timeout_s / 0.005)):
        if done():
            return
        await asyncio.sleep(0.005)
    progress(f"    gave up waiting after {timeout_s} s: {len(sink.arrived):,} delivered")


def delivered_over(sink: TimedSink, floor: int) -> Callable[[], bool]:
    """Outstanding < window  <=>  delivered > sent - window."""
    return lambda: len(sink.arrived) > floor


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.push", description=__doc__)
    p.add_argument("--notifications", type=int, default=20_000)
    p.add_argument("--users", type=int, default=1_000, help="offline users, one webhook device each")
    p.add_argument("--push-shards", type=int, default=2)
    p.add_argument("--max-in-flight", type=int, default=100, help="per provider connection (per shard)")
    p.add_argument("--batch", type=int, default=200, help="notifications per submit")
    p.add_argument("--window", type=int, default=4_000, help="accepted, undelivered notifications at most")
    p.add_argument("--transport", choices=("aiohttp", "urllib"), default="aiohttp")
    p.add_argument("--timeout-s", type=float, default=300.0)
    p.add_argument("--out", type=Path, default=Path("bench-out/push"))
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> Record:
    sqlite_path = str(Path(tempfile.mkdtemp(prefix="rayguild-bench-")) / "bench.sqlite3")
    config = load_config(
        environ={},
        guild_shards=1,
        presence_shards=1,
        session_shards=1,
        push_shards=args.push_shards,
        push_max_in_flight=args.max_in_flight,
        namespace="rayguild-bench-push",
        push_allowed_networks=("127.0.0.0/8",),  # the webhook sink runs on loopback
        sqlite_path=sqlite_path,
        log_level="warning",
    )
    sink = TimedSink()
    url = await sink.start()
    storage = SqliteStorage(sqlite_path)
    await storage.start()
    progress(f"registering {args.users:,} webhook devices ...")
    for user in range(1, args.users + 1):
        await storage.put_device(Device(user, "webhook", url))
    runtime = Runtime(config, push_transport=AiohttpTransport if args.transport == "aiohttp" else None)
    progress("starting Ray and the shards ...")
    runtime.start(log_to_driver=False)
    presences = Presences(runtime.directory)
    submitted: dict[str, int] = {}
    shed = 0
    started = time.monotonic()
    sent = 0
    while sent < args.notifications:
        await settle(sink, delivered_over(sink, sent - args.window), args.timeout_s)
        count = min(args.batch, args.notifications - sent)
        batch = [
            PushRequest(f"b{sent + i}", 1 + (sent + i) % args.users, "mention", {"n": sent + i})
            for i in range(count)
        ]
        now = time.time_ns()
        accepted = await presences.push_if_offline(batch)
        shed += count - accepted
        for request in batch:
            submitted[request.notification_id] = now
        sent += count
        if sent % max(args.batch, args.notifications // 10) < args.batch:
            progress(
                f"    submitted {sent:,}/{args.notifications:,}, delivered {len(sink.arrived):,}, shed {shed}"
            )
    await settle(sink, lambda: len(sink.arrived) >= sent - shed, args.timeout_s)
    seconds = time.monotonic() - started
    latencies = np.array(
        [(at - submitted[orjson.loads(sink.accepted[key])["id"]]) / 1e6 for key, at in sink.arrived.items()]
        or [0.0]
    )
    runtime.shutdown()
    await sink.stop()
    await storage.close()
    return Record(
        push_shards=args.push_shards,
        max_in_flight=args.max_in_flight,
        transport=args.transport,
        notifications=sent,
        delivered=len(sink.arrived),
        shed=shed,
        duplicates_at_sink=sink.duplicates,
        seconds=round(seconds, 2),
        pushes_per_minute=round(len(sink.arrived) / seconds * 60, 0),
        submits_per_s=round(sent / seconds, 1),
        p50_ms=round(float(np.percentile(latencies, 50)), 1),
        p99_ms=round(float(np.percentile(latencies, 99)), 1),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = [asdict(asyncio.run(run(args)))]
    command = command_line("python -m rayguild.benchmarks.push", argv)
    write_results(args.out, command, args, rows, markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
