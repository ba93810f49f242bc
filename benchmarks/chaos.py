"""Chaos: kill -9 the parts of a live node under load and count what each failure cost clients.

A Ray-backed node as ``rayguild run`` starts it (edges in the session shards, ``Runtime.watch``
restarting shards) on a real Cassandra 5.0 node (``scripts/cassandra.sh``, its own ports and
state dir), library-like gateway clients (``library_client.py``: resume, identify again, fetch
history after GUILD_CREATE) in several guilds, each client its own bot, posters at a steady total
rate, and a schedule of kill -9s: a live relay of the largest guild, that guild's guild shard, a
session shard, the presence shard, a rolling restart of every edge (each drained, its clients
resuming elsewhere, then killed and restarted), a worker node of the multi-node Ray cluster (a
head and two workers on this machine, ``ray.cluster_utils.Cluster``; the head and the other
worker take over its shards) and the Cassandra process (then started again on its data directory). A bystander guild is placed
on the other guild shard, and the node kill spares the node that holds it (and prefers one that
holds no edge: losing an edge is the session shard's window). ``chaos_ledger.py`` says
what is counted per failure. Every actor kill is a SIGKILL of the actor's process; Ray restarts
it. A failure with nothing to kill at its turn (the relays died with their guild shard and none is
back yet, or no worker node can be lost without the bystander's shard) is reported as skipped.

Run: ``python -m rayguild.benchmarks.chaos --out bench-out/chaos`` (JSON + Markdown).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from ray.cluster_utils import Cluster as RayNodes

from rayguild.actors import cluster
from rayguild.actors.hosts import snowflakes_for
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.chaos_ledger import Failure, Member, Post, summarize
from rayguild.benchmarks.library_client import LibraryClient
from rayguild.benchmarks.recovery import local_cluster
from rayguild.benchmarks.report import command_line, markdown_table, progress, write_results
from rayguild.config import Config, load_config
from rayguild.errors import ShardUnavailable
from rayguild.http_api.auth import create_user
from rayguild.http_api.server import free_listen_ports, start_edge
from rayguild.storage import ScyllaStorage, open_storage

# The relay before its guild shard (relays die with it, and come back only with its sessions);
# Cassandra last: its JVM takes minutes to come back on a loaded box, which would spill over.
FAILURES = ("relay", "guild", "session", "presence", "rolling", "node", "cassandra")
CASSANDRA_SH = Path(__file__).resolve().parent.parent / "scripts" / "cassandra.sh"
CHANNELS_PER_GUILD = 3
RETRY_S = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CassandraNode:
    """The node scripts/cassandra.sh runs on the benchmark's own ports and state directory."""

    def __init__(self, cql_port: int, storage_port: int, state_dir: Path) -> None:
        self.cql_port, self.state_dir = cql_port, state_dir
        self.env = {
            **os.environ, "CASSANDRA_PORT": str(cql_port), "CASSANDRA_STORAGE_PORT": str(storage_port),
            "CASSANDRA_STATE_DIR": str(state_dir),
        }  # fmt: skip

    def _sh(self, *args: str) -> None:
        subprocess.run(["bash", str(CASSANDRA_SH), *args], env=self.env, check=True)

    def start(self, data_dir: str = "") -> None:
        self._sh("start", *([data_dir] if data_dir else []))

    def stop(self) -> None:
        self._sh("stop")

    def kill9_and_restart(self) -> None:
        pid = int((self.state_dir / "pid").read_text())
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.waitpid(pid, 0)
        while _alive(pid):
            time.sleep(0.05)
        self.start((self.state_dir / "datadir").read_text().strip())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill9_actor(namespace: str, name: str) -> None:
    """SIGKILL the process of the named actor (Ray restarts it: max_restarts)."""
    (info,) = [a for a in cluster.list_named_actors(namespace) if a.name == name]
    os.kill(info.pid, signal.SIGKILL)


def live_relay(namespace: str, guild_id: int) -> str | None:
    """The lowest-numbered relay of the guild that is alive now (relays die with their guild
    shard, and the new incarnation creates them again once its sessions are back)."""
    prefix = f"relay-{guild_id}-"
    alive = [a.name for a in cluster.list_named_actors(namespace) if a.name.startswith(prefix)]
    alive = [a for a in alive if a.removeprefix(prefix).isdigit()]
    return min(alive, key=lambda name: int(name.removeprefix(prefix)), default=None)


def victim_node(rt: Runtime, nodes: RayNodes, spare: str) -> Any | None:
    """The worker node to lose, never the one holding shard ``spare``: one holding no edge (session
    shard) if there is one, so that its loss must cost no client a re-identify (an edge's loss is
    the session window's), and of those the one holding the most actors (shards and relays)."""
    held: dict[str, int] = {}
    edges: set[str] = set()
    keep = ""
    for info in cluster.list_named_actors(rt.config.namespace):
        held[info.node_id] = held.get(info.node_id, 0) + 1
        keep = info.node_id if info.name == spare else keep
        if info.name.startswith("session-"):
            edges.add(info.node_id)
    workers = [n for n in nodes.worker_nodes if n.node_id != keep]
    return max(workers, key=lambda n: (n.node_id not in edges, held.get(n.node_id, 0)), default=None)


class Scene:
    """The users, guilds and clients of one run, set up through the public REST API."""

    def __init__(self, rt: Runtime, http: aiohttp.ClientSession, args: argparse.Namespace) -> None:
        self.rt, self.http, self.args = rt, http, args
        self.api = f"http://127.0.0.1:{rt.config.port}/api/v10"
        self.gateway = f"ws://127.0.0.1:{rt.config.port}"
        self.channels: dict[int, list[int]] = {}
        self.members: list[Member] = []
        self.posters: list[tuple[str, int]] = []  # (token, guild)
        self.owner = ""
        self.rng = random.Random(args.seed)
        self.accounts = open_storage(rt.config)
        self.snowflakes = snowflakes_for(3, 1)  # the CLI's kind; index 0 is its own

    async def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """The answer's body; waits out 429 and 503 (storage coming back) for up to ``RETRY_S``."""
        deadline = time.monotonic() + RETRY_S
        while time.monotonic() < deadline:
            headers = {"Authorization": f"Bot {token}"} if token else {}
            async with self.http.request(method, f"{self.api}{path}", json=body, headers=headers) as r:
                if r.status in (429, 503):
                    await asyncio.sleep(float((await r.json()).get("retry_after", 1.0)))
                    continue
                assert r.status < 300, f"{method} {path}: {r.status} {await r.text()}"
                return None if r.status == 204 else await r.json()
        raise RuntimeError(f"{method} {path}: still 429/503 after {RETRY_S} s")

    async def register(self, name: str) -> str:
        """A bot account, made as ``rayguild user create`` makes it (``/auth/register`` allows a
        client 5 a minute)."""
        _, token = await create_user(self.accounts, self.snowflakes, name, bot=True)
        return token

    async def guild(self, owner: str, name: str) -> tuple[int, str]:
        guild_id = int((await self.call("POST", "/guilds", owner, {"name": name}))["id"])
        channels = [int((await self.call("GET", f"/guilds/{guild_id}/channels", owner))[0]["id"])]
        for i in range(CHANNELS_PER_GUILD - 1):
            made = await self.call("POST", f"/guilds/{guild_id}/channels", owner, {"name": f"c{i}"})
            channels.append(int(made["id"]))
        self.channels[guild_id] = channels
        code = (await self.call("POST", f"/channels/{channels[0]}/invites", owner, {"max_age": 0}))["code"]
        return guild_id, str(code)

    async def build(self) -> tuple[int, int]:
        """Guilds (the first is the largest: the guild and relay kills target it; the last is the
        bystander on another guild shard), their clients and posters. Returns (target, bystander)."""
        a = self.args
        await self.accounts.start()
        owner = self.owner = await self.register("chaos-owner")
        guilds = [await self.guild(owner, f"chaos {i}") for i in range(a.guilds - 1)]
        target_shard = self.rt.directory.guild_shard(guilds[0][0]).ref.name
        while True:  # the bystander lives on a guild shard no kill touches
            bystander = await self.guild(owner, "bystander")
            if self.rt.directory.guild_shard(bystander[0]).ref.name != target_shard:
                break
        guilds.append(bystander)
        sizes = [a.clients // 2] + [max(1, (a.clients - a.clients // 2) // (a.guilds - 1))] * (a.guilds - 1)
        progress(f"registering {sum(sizes)} clients and {a.posters} posters in {a.guilds} guilds ...")
        for (guild_id, code), size in zip(guilds, sizes, strict=True):
            for i in range(size):
                token = await self.register(f"c{guild_id % 10000}-{i}")
                await self.call("POST", f"/invites/{code}", token)
                client = LibraryClient(
                    self.http, self.api, self.gateway, token, random.Random(self.rng.random())
                )
                self.members.append(Member(client, frozenset({guild_id}), guild_id == bystander[0]))
        for i in range(a.posters):
            guild_id, code = guilds[i % len(guilds)]
            token = await self.register(f"poster-{i}")
            await self.call("POST", f"/invites/{code}", token)
            self.posters.append((token, guild_id))
        await self.accounts.close()
        return guilds[0][0], bystander[0]

    async def post_forever(self, token: str, guild_id: int, interval_s: float, posts: list[Post]) -> None:
        channels = itertools.cycle(self.channels[guild_id])
        headers = {"Authorization": f"Bot {token}"}
        next_at = time.monotonic()
        for n in itertools.count():
            channel = next(channels)
            post = Post(guild_id, channel, time.monotonic())
            posts.append(post)
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with self.http.post(
                    f"{self.api}/channels/{channel}/messages", json={"content": f"m{n}"}, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as r:  # fmt: skip
                    post.status = r.status
                    if r.status == 200:
                        post.message_id = int((await r.json())["id"])
            post.answered = time.monotonic()
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def stored(self) -> set[int]:
        """Every message id storage holds in the run's channels (read through REST, paged)."""
        ids: set[int] = set()
        token = self.owner
        for channels in self.channels.values():
            for channel in channels:
                after = 0
                while page := await self.call(
                    "GET", f"/channels/{channel}/messages?limit=100&after={after}", token
                ):
                    ids |= {int(m["id"]) for m in page}
                    after = max(int(m["id"]) for m in page)
        return ids


async def restart_edge(rt: Runtime, index: int, timeout_s: float = RETRY_S) -> None:
    """One step of a rolling restart: drain edge ``index`` (op 7; a peer edge adopts its port),
    again until every session has moved off it (or, detached and never resumed, expired), kill -9
    its process, and wait until Ray restarted it and its edge listens again (the watch loop)."""
    edge, deadline = rt.directory.session_shard(index), time.monotonic() + timeout_s
    await _edge_up(rt, index, deadline)  # an earlier failure may still be restarting it
    while await edge.drain() or (await edge.stats())["sessions"]:  # detached ones: until resumed
        if time.monotonic() > deadline:
            raise TimeoutError(f"session-{index} still holds sessions {timeout_s} s after its drain")
        await asyncio.sleep(0.2)
    kill9_actor(rt.config.namespace, f"session-{index}")
    await _edge_up(rt, index, deadline)


async def _edge_up(rt: Runtime, index: int, deadline: float) -> None:
    """Until edge ``index`` answers, listening and not draining."""
    while True:
        with contextlib.suppress(ShardUnavailable):
            stats = await rt.directory.session_shard(index).stats()
            if stats.get("port") and not stats.get("draining"):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"session-{index} is not up")
        await asyncio.sleep(0.2)


async def kill(
    kind: str, rt: Runtime, nodes: RayNodes, cassandra: CassandraNode, target: int, bystander: int
) -> Failure | None:
    """Kill -9 the piece ``kind`` now; what was killed and when (None: nothing to kill)."""
    ns, at = rt.config.namespace, time.monotonic()
    if kind == "cassandra":
        progress(f"kill -9 the Cassandra process on {cassandra.cql_port}")
        await asyncio.to_thread(cassandra.kill9_and_restart)
        return Failure(kind, f"cassandra:{cassandra.cql_port}", at, round(time.monotonic() - at, 2))
    if kind == "rolling":
        progress(f"rolling restart of {rt.config.session_shards} edges (drain, kill -9, back)")
        for index in range(rt.config.session_shards):
            await restart_edge(rt, index)
        return Failure(kind, "every edge in turn", at, round(time.monotonic() - at, 2))
    if kind == "node":
        victim = victim_node(rt, nodes, rt.directory.guild_shard(bystander).ref.name)
        if victim is None:
            return None
        held = sorted(a.name for a in cluster.list_named_actors(ns) if a.node_id == victim.node_id)
        progress(f"kill -9 worker node {victim.node_id[:12]} (holding {', '.join(held) or 'nothing'})")
        at = time.monotonic()
        await asyncio.to_thread(nodes.remove_node, victim, False)
        what = f"node {victim.node_id[:8]}: {' '.join(held) or 'no shard'}"
        return Failure(kind, what, at, round(time.monotonic() - at, 2))
    names: dict[str, str | None] = {
        "guild": rt.directory.guild_shard(target).ref.name, "session": "session-0",
        "presence": "presence-0", "relay": live_relay(ns, target),
    }  # fmt: skip
    name = names[kind]
    if name is None:
        return None
    progress(f"kill -9 {name} ({kind})")
    kill9_actor(ns, name)
    return Failure(kind, name, at, round(time.monotonic() - at, 2))


async def drive(
    rt: Runtime, nodes: RayNodes, cassandra: CassandraNode, args: argparse.Namespace
) -> dict[str, Any]:
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    watcher = asyncio.create_task(rt.watch(0.5))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        scene = Scene(rt, http, args)
        target, bystander = await scene.build()
        progress(f"connecting {len(scene.members)} clients ...")
        runners = []
        for member in scene.members:
            runners.append(asyncio.create_task(member.client.run()))
            await asyncio.sleep(args.ramp_s / max(1, len(scene.members)))
        await asyncio.wait_for(asyncio.gather(*(m.client.ready.wait() for m in scene.members)), 120)
        await asyncio.sleep(3.0)  # the largest guild's relays are up
        posts: list[Post] = []
        interval_s = len(scene.posters) / args.rate
        posting = [asyncio.create_task(scene.post_forever(t, g, interval_s, posts)) for t, g in scene.posters]
        failures: list[Failure] = []
        skipped: list[str] = []
        await asyncio.sleep(args.gap_s)
        for kind in args.failures:
            killed = await kill(kind, rt, nodes, cassandra, target, bystander)
            if killed is None:
                progress(f"{kind}: nothing to kill now; skipped")
                skipped.append(kind)
                continue
            failures.append(killed)
            await asyncio.sleep(args.gap_s)
        for task in posting:
            task.cancel()
        end = time.monotonic()
        progress(f"settling {args.settle_s:.0f} s ...")
        await asyncio.sleep(args.settle_s)
        try:
            stored = await scene.stored()
        finally:
            for member in scene.members:
                await member.client.stop()
            await asyncio.gather(*runners, return_exceptions=True)
    watcher.cancel()
    rows = summarize(failures, posts, scene.members, stored, end)
    for row, failure in zip(rows, failures, strict=True):
        row["restart_s"] = failure.restored_s
    totals = {
        "clients": len(scene.members), "bystander_guild": str(bystander), "posts": len(posts),
        "acked": sum(1 for p in posts if p.status == 200),
        "fatal_closes": sum(1 for m in scene.members if m.client.counters.fatal_close),
        "skipped": " ".join(skipped) or "none",
        "load average before": load_before, "after": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    }  # fmt: skip
    return {"rows": rows, "totals": totals}


async def create_schema(config: Config) -> None:
    """Keyspace and tables once, with a patient timeout (a loaded box makes DDL slow); the shards'
    own idempotent start then finds them."""
    storage = ScyllaStorage(
        hosts=config.scylla_hosts, port=config.scylla_port, keyspace=config.scylla_keyspace,
        datacenter=config.scylla_datacenter, replication_factor=1, consistency=config.scylla_consistency,
        request_timeout_s=120.0,
    )  # fmt: skip
    await storage.start()
    await storage.close()


def node_config(args: argparse.Namespace, data_dir: str, ray_address: str) -> Config:
    return load_config(
        environ={}, namespace="rayguild-chaos", ray_address=ray_address,
        storage="scylla", scylla_hosts=("127.0.0.1",),
        scylla_port=args.cql_port, scylla_keyspace="rayguild_chaos",
        guild_shards=2, session_shards=2, presence_shards=1, push_shards=1,
        relay_threshold_sessions=args.relay_threshold, relay_size=args.relay_threshold,
        port=free_listen_ports(1), edge_port_base=free_listen_ports(2), log_level="warning",
        dashboard_port=free_port(),
        passive_update_interval_s=3600.0, sqlite_path=str(Path(data_dir) / "unused.sqlite3"),
    )  # fmt: skip


COLUMNS = [
    ("failure", "failure"), ("target", "target"), ("acked", "acked"), ("acked lost", "acked_lost"),
    ("silent-gap clients", "silent_gap_clients"), ("never recovered", "never_recovered"),
    ("duplicates", "duplicates"), ("seq gaps", "seq_gaps"), ("5xx", "http_5xx"), ("of which 503", "http_503"),
    ("op 9", "op9"), ("resumes", "resumes"), ("re-identifies", "reidentifies"),
    ("bystanders disrupted", "bystander_disrupted"), ("kill+restart s", "restart_s"), ("recover s", "recover_s"),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rayguild.benchmarks.chaos", description=__doc__)
    p.add_argument("--clients", type=int, default=40, help="gateway clients, each its own bot")
    p.add_argument("--guilds", type=int, default=4, help="guilds, the last one the bystander")
    p.add_argument("--posters", type=int, default=8)
    p.add_argument("--rate", type=float, default=8.0, help="messages per second, all posters together")
    p.add_argument("--failures", nargs="+", choices=FAILURES, default=list(FAILURES))
    p.add_argument("--gap-s", type=float, default=20.0, help="seconds between kills (and before the first)")
    p.add_argument("--settle-s", type=float, default=20.0, help="after the last window, before counting")
    p.add_argument("--ramp-s", type=float, default=10.0, help="spread the clients' first connects over this")
    p.add_argument("--relay-threshold", type=int, default=8, help="sessions above which a guild uses relays")
    p.add_argument("--cql-port", type=int, default=int(os.environ.get("CASSANDRA_PORT", 19942)))
    p.add_argument("--storage-port", type=int, default=int(os.environ.get("CASSANDRA_STORAGE_PORT", 17900)))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("bench-out/chaos"))
    args = p.parse_args(argv)
    assert args.guilds >= 2, "at least one guild and the bystander"
    state = Path(tempfile.mkdtemp(prefix="rayguild-chaos-cassandra-"))
    cassandra = CassandraNode(args.cql_port, args.storage_port, state)
    progress(f"starting Cassandra on {args.cql_port} (state {state}) ...")
    cassandra.start()
    try:
        progress("starting a Ray cluster of a head and two worker nodes on this machine ...")
        nodes = local_cluster(workers=2)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                config = node_config(args, tmp, nodes.address)
                asyncio.run(create_schema(config))
                rt = Runtime(config, edge_factory=start_edge)
                rt.start(log_to_driver=False)
                try:
                    result = asyncio.run(drive(rt, nodes, cassandra, args))
                finally:
                    rt.shutdown()
        finally:
            nodes.shutdown()  # type: ignore[no-untyped-call]
    finally:
        cassandra.stop()
        shutil.rmtree(state, ignore_errors=True)
    table = markdown_table(result["rows"], COLUMNS)
    table += "\n\n" + ", ".join(f"{k}: {v}" for k, v in result["totals"].items())
    write_results(
        args.out, command_line("python -m rayguild.benchmarks.chaos", argv), args, result["rows"], table
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
