"""How long until service is back after losing a guild shard, a session shard, a relay or a node.

On a three-node ``ray.cluster_utils.Cluster`` on this machine (shared SQLite file), with real edges
and websocket sessions: for each failure, ``--trials`` times, it kills the target
(``ActorRef.kill(restart=True)``, or ``remove_node``), waits until the target's process is GONE
(its pid polled; ``kill`` is asynchronous, so timing from the call would count service that the
dying process still gave), and measures from that moment

- ``reidentify_s``: until a fresh client identifies and gets READY on the public port (READY
  needs no guild call, so this alone does not show service);
- ``delivered_s``: until a message POSTed to the affected guild is acknowledged AND reaches a
  live session (the re-identified one): the time to service.

``dying_s`` is how long the process took to go after the kill call. Each failure's row gives the
trials' mean, min, max and spread.

Run: ``python -m rayguild.benchmarks.recovery --out bench-out/recovery --trials 3`` (JSON + Markdown).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil
from ray.cluster_utils import Cluster

from rayguild.actors.cluster import ActorRef, list_named_actors
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.stats import spread
from rayguild.config import load_config
from rayguild.errors import ShardUnavailable
from rayguild.http_api.server import start_edge

FAILURES = ("guild", "session", "relay", "node")
NODE_ARGS: dict[str, Any] = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
GIVE_UP_S = 120.0
SETUP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Record:
    failure: str
    target: str
    trial: int
    dying_s: float
    reidentify_s: float
    delivered_s: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """A port ``p`` with ``p .. p + count - 1`` all free now (the edges bind base + index)."""
    while True:
        base = free_port()
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


def local_cluster(workers: int) -> Cluster:
    """A head (with the dashboard: Ray's state API) and ``workers`` worker nodes on this machine."""
    head = {**NODE_ARGS, "include_dashboard": True, "dashboard_port": free_port()}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(workers):
        cluster.add_node(**NODE_ARGS)
    cluster.wait_for_nodes()
    return cluster


async def ready(
    http: aiohttp.ClientSession, port: int, token: str, timeout_s: float = 10.0
) -> aiohttp.ClientWebSocketResponse:
    """A session identified on ``port`` (READY received); each step waits at most ``timeout_s``."""
    ws = await http.ws_connect(
        f"ws://127.0.0.1:{port}/?v=10&encoding=json", timeout=aiohttp.ClientWSTimeout(timeout_s)
    )
    await ws.receive(timeout=timeout_s)
    await ws.send_str(
        orjson.dumps({"op": 2, "d": {"token": token, "intents": 33281, "properties": {}}}).decode()
    )
    while True:
        msg = await ws.receive(timeout=timeout_s)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise aiohttp.ServerDisconnectedError(f"closed before READY ({ws.close_code})")
        frame = orjson.loads(msg.data)
        if frame.get("op") == 9:  # invalid session: say so instead of waiting for a READY that never comes
            raise aiohttp.ServerDisconnectedError("op 9 Invalid Session instead of READY")
        if frame.get("t") == "READY":
            return ws


async def receives(ws: aiohttp.ClientWebSocketResponse, content: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        msg = await ws.receive(timeout=left)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return False
        frame = orjson.loads(msg.data)
        if frame.get("t") == "MESSAGE_CREATE" and frame["d"]["content"] == content:
            return True
    return False


class Scenario:
    """A bot, a guild with relays, sessions on every edge: the service a failure interrupts."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.api = f"http://127.0.0.1:{rt.config.port}/api/v10"

    async def setup(self, http: aiohttp.ClientSession, name: str) -> None:
        async with http.post(f"{self.api}/auth/register", json={"username": name, "bot": True}) as r:
            self.token = (await r.json())["token"]
        self.auth = {"Authorization": f"Bot {self.token}"}
        async with http.post(f"{self.api}/guilds", json={"name": name}, headers=self.auth) as r:
            self.guild_id = int((await r.json())["id"])
        async with http.get(f"{self.api}/guilds/{self.guild_id}/channels", headers=self.auth) as r:
            self.channel = (await r.json())[0]["id"]
        ports = [s["port"] for s in await started(self.rt) if s.get("port")]
        # before any failure: a loaded box may take long, the trial has not started (measure retries)
        self.sockets = [await ready(http, port, self.token, SETUP_TIMEOUT_S) for port in ports * 2]
        await asyncio.sleep(3.0)  # relays up before the failure

    async def measure(
        self, http: aiohttp.ClientSession, kill: Any, pids: list[int]
    ) -> tuple[float, float, float]:
        called = time.monotonic()
        kill()
        await gone(pids)
        killed = time.monotonic()  # the clock starts when the process is gone, not at the call
        reidentify = delivered = 0.0
        attempt = 0
        while time.monotonic() - killed < GIVE_UP_S and not delivered:
            attempt += 1
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, asyncio.TimeoutError):
                ws = await ready(http, self.rt.config.port, self.token)
                reidentify = reidentify or time.monotonic() - killed
                content = f"after kill {attempt}"
                url = f"{self.api}/channels/{self.channel}/messages"
                async with http.post(url, json={"content": content}, headers=self.auth) as r:
                    acked = r.status == 200
                if acked and await receives(ws, content, 2.0):
                    delivered = time.monotonic() - killed
                await ws.close()
            await asyncio.sleep(0.1)
        for ws in self.sockets:
            await ws.close()
        return killed - called, reidentify, delivered


async def started(rt: Runtime) -> list[dict[str, Any]]:
    """The edges' addresses once every shard answers (a previous trial's kill may still be
    restarting one)."""
    deadline = time.monotonic() + GIVE_UP_S
    while True:
        try:
            return rt.ensure_started()
        except ShardUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def gone(pids: list[int]) -> None:
    """Poll until none of ``pids`` runs any more (a zombie counts as gone)."""
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
        if not alive:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(f"processes {pids} still alive {GIVE_UP_S} s after the kill")


def pids_of(namespace: str, name: str = "", node_id: str = "") -> list[int]:
    """Pids of the named actor ``name``, or of every named actor on the node ``node_id``."""
    return [
        a.pid
        for a in list_named_actors(namespace)
        if a.pid and (a.name == name if name else a.node_id == node_id)
    ]


async def run(rt: Runtime, cluster: Cluster, failures: list[str], trials: int) -> list[Record]:
    records = []
    async with aiohttp.ClientSession() as http:
        watcher = asyncio.create_task(rt.watch(0.5))
        for failure, trial in ((f, t) for f in failures for t in range(trials)):
            scenario = Scenario(rt)
            await scenario.setup(http, f"recovery-{failure}-{trial}")
            ns = rt.config.namespace
            if failure == "guild":
                target = rt.directory.guild_shard(scenario.guild_id).ref.name
            elif failure == "session":
                target = "session-0"
            elif failure == "relay":
                target = f"relay-{scenario.guild_id}-0"
            else:
                nodes = {row.node_id for row in rt.status() if row.name.startswith("guild")}
                found = next((n for n in cluster.worker_nodes if n.node_id in nodes), None)
                if found is None:  # no worker node holds a guild shard any more
                    continue
                victim = found
                target = victim.node_id[:12]
            pids = pids_of(ns, node_id=victim.node_id) if failure == "node" else pids_of(ns, target)
            print(f"  {failure}: killing {target} ...", flush=True)
            kill = (
                (lambda v=victim: cluster.remove_node(v)) if failure == "node" else ActorRef(target, ns).kill
            )
            dying, reidentify, delivered = await scenario.measure(http, kill, pids)
            print(
                f"  {failure}: gone {dying:.2f} s after the kill; from then re-identify after "
                f"{reidentify:.2f} s, delivered after {delivered:.2f} s",
                flush=True,
            )
            records.append(
                Record(failure, target, trial, round(dying, 3), round(reidentify, 3), round(delivered, 3))
            )
        watcher.cancel()
    return records


def summary(records: list[Record]) -> list[dict[str, Any]]:
    """Per failure: the trials' spread of each time."""
    rows = []
    for failure in dict.fromkeys(r.failure for r in records):
        mine = [r for r in records if r.failure == failure]
        rows.append(
            {"failure": failure, "trials": len(mine)}
            | {
                key: spread([getattr(r, key) for r in mine])
                for key in ("dying_s", "reidentify_s", "delivered_s")
            }
        )
    return rows


def markdown(records: list[Record]) -> str:
    def cell(s: dict[str, float]) -> str:
        return f"{s['mean']:.2f} ({s['min']:.2f}-{s['max']:.2f})"

    lines = [
        "Times in s from the moment the process is gone: mean (min-max) over the trials.",
        "",
        "| failure | trials | process gone after kill | re-identify possible | first message delivered |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['failure']} | {r['trials']} | {cell(r['dying_s'])} | {cell(r['reidentify_s'])} | {cell(r['delivered_s'])} |"
        for r in summary(records)
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.recovery", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("bench-out/recovery"))
    p.add_argument("--failures", nargs="+", choices=FAILURES, default=list(FAILURES))
    p.add_argument("--trials", type=int, default=3, help="kills per failure kind")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print("starting a 3-node Ray cluster on this machine ...", flush=True)
    cluster = local_cluster(workers=2)
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            environ={}, namespace="rayguild-recovery", ray_address=cluster.address,
            guild_shards=2, session_shards=2, presence_shards=1,
            sqlite_path=str(Path(tmp) / "rayguild.sqlite3"), port=free_port(), edge_port_base=free_ports(2),
            relay_threshold_sessions=2, relay_size=2, log_level="warning", passive_update_interval_s=3600.0,
            identify_interval_s=0.0,  # one bot identifies every scenario session at once
        )  # fmt: skip
        rt = Runtime(config, edge_factory=start_edge)
        rt.start(log_to_driver=False)
        try:
            records = asyncio.run(run(rt, cluster, args.failures, args.trials))
        finally:
            rt.shutdown()
            cluster.shutdown()  # type: ignore[no-untyped-call]
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "command": " ".join(
                    ["python -m rayguild.benchmarks.recovery", *(sys.argv[1:] if argv is None else argv)]
                ),
                "nodes": 3,
                "python": sys.version.split()[0],
                "summary": summary(records),
                "records": [asdict(r) for r in records],
            },
            indent=2,
        )
    )
    table = markdown(records)
    (args.out / "results.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
