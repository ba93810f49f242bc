"""How long until service is back after losing a guild shard, a session shard, a relay or a node.

On a three-node ``ray.cluster_utils.Cluster`` on this machine (shared SQLite file), with real edges
and websocket sessions: for each failure it kills the target (``ActorRef.kill(restart=True)``, or
``remove_node``) and measures, from the kill,

- ``reidentify_s``: until a fresh client identifies and gets READY on the public port;
- ``delivered_s``: until a message POSTed to the affected guild is acknowledged AND reaches a
  live session (the re-identified one).

Run: ``python -m rayguild.benchmarks.recovery --out bench-out/recovery`` (JSON + Markdown).
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
from ray.cluster_utils import Cluster

from rayguild.actors.cluster import ActorRef
from rayguild.actors.runtime import Runtime
from rayguild.config import load_config
from rayguild.http_api.server import start_edge

FAILURES = ("guild", "session", "relay", "node")
NODE_ARGS: dict[str, Any] = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
GIVE_UP_S = 120.0


@dataclass(frozen=True, slots=True)
class Record:
    failure: str
    target: str
    reidentify_s: float
    delivered_s: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ready(http: aiohttp.ClientSession, port: int, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(
        f"ws://127.0.0.1:{port}/?v=10&encoding=json", timeout=aiohttp.ClientWSTimeout(5)
    )
    await ws.receive(timeout=5)
    await ws.send_str(
        orjson.dumps({"op": 2, "d": {"token": token, "intents": 33281, "properties": {}}}).decode()
    )
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise aiohttp.ServerDisconnectedError(f"closed before READY ({ws.close_code})")
        if orjson.loads(msg.data).get("t") == "READY":
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
        ports = [s["port"] for s in self.rt.ensure_started() if s.get("port")]
        self.sockets = [await ready(http, port, self.token) for port in ports * 2]  # enough for relays
        await asyncio.sleep(3.0)  # relays up before the failure

    async def measure(self, http: aiohttp.ClientSession, kill: Any) -> tuple[float, float]:
        killed = time.monotonic()
        kill()
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
        return reidentify, delivered


async def run(rt: Runtime, cluster: Cluster, failures: list[str]) -> list[Record]:
    records = []
    async with aiohttp.ClientSession() as http:
        watcher = asyncio.create_task(rt.watch(0.5))
        for failure in failures:
            scenario = Scenario(rt)
            await scenario.setup(http, f"recovery-{failure}")
            ns = rt.config.namespace
            if failure == "guild":
                target = rt.directory.guild_shard(scenario.guild_id).ref.name
            elif failure == "session":
                target = "session-0"
            elif failure == "relay":
                target = f"relay-{scenario.guild_id}-0"
            else:
                nodes = {row.node_id for row in rt.status() if row.name.startswith("guild")}
                victim = next(n for n in cluster.worker_nodes if n.node_id in nodes)
                target = victim.node_id[:12]
            print(f"  {failure}: killing {target} ...", flush=True)
            kill = (
                (lambda v=victim: cluster.remove_node(v)) if failure == "node" else ActorRef(target, ns).kill
            )
            reidentify, delivered = await scenario.measure(http, kill)
            print(
                f"  {failure}: re-identify after {reidentify:.2f} s, delivered after {delivered:.2f} s",
                flush=True,
            )
            records.append(Record(failure, target, round(reidentify, 3), round(delivered, 3)))
        watcher.cancel()
    return records


def markdown(records: list[Record]) -> str:
    lines = [
        "| failure | target | re-identify possible (s) | first message delivered (s) |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {r.failure} | {r.target} | {r.reidentify_s:.2f} | {r.delivered_s:.2f} |" for r in records]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.recovery", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("bench-out/recovery"))
    p.add_argument("--failures", nargs="+", choices=FAILURES, default=list(FAILURES))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print("starting a 3-node Ray cluster on this machine ...", flush=True)
    head = {**NODE_ARGS, "include_dashboard": True, "dashboard_port": free_port()}  # the state API
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(2):
        cluster.add_node(**NODE_ARGS)
    cluster.wait_for_nodes()
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            environ={}, namespace="rayguild-recovery", ray_address=cluster.address,
            guild_shards=2, session_shards=2, presence_shards=1,
            sqlite_path=str(Path(tmp) / "rayguild.sqlite3"), port=free_port(), edge_port_base=free_port(),
            relay_threshold_sessions=2, relay_size=2, log_level="warning", passive_update_interval_s=3600.0,
        )  # fmt: skip
        rt = Runtime(config, edge_factory=start_edge)
        rt.start(log_to_driver=False)
        try:
            records = asyncio.run(run(rt, cluster, args.failures))
        finally:
            rt.shutdown()
            cluster.shutdown()  # type: ignore[no-untyped-call]
    (args.out / "results.json").write_text(
        json.dumps(
            {"nodes": 3, "python": sys.version.split()[0], "records": [asdict(r) for r in records]}, indent=2
        )
    )
    table = markdown(records)
    (args.out / "results.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
