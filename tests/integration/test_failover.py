"""Killing one shard or relay under a steady stream of acknowledged messages, as clients see it.

A guild shard (kill -9 of its process), a relay or the presence shard (``ray.kill``; Ray restarts
each): no session is told to re-identify. The sessions of the lost guild get GUILD_DELETE
``{id, unavailable: true}`` then GUILD_CREATE, on the same session with seq growing by one; they
fetch what they missed by history (as discord.py / discord.js do after GUILD_CREATE) and then
receive every message live; their other guild, a bystander on the other guild shard, sees every
message live and nothing else. A session shard: its sessions die with it (op 9 or a dropped
socket) and identify again; the other edge's sessions keep going.

Real edges in SessionShard actors, real websocket clients, messages posted through REST while the
target goes down; ``Runtime.watch`` runs as in ``rayguild run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import orjson
import pytest

from rayguild.actors import cluster
from rayguild.actors.commands import Stats
from rayguild.actors.runtime import Runtime
from rayguild.config import Config
from rayguild.http_api.server import free_listen_ports, start_edge
from tests.integration.test_discordpy_on_ray import rest

pytestmark = pytest.mark.ray

MESSAGES = 40  # per guild
KILL_AFTER = 12
MIN_ACKED = MESSAGES - 4  # per guild: fewer acknowledged would prove nothing
MIN_ACKED_AFTER_KILL = MESSAGES - KILL_AFTER - 4
SESSIONS = 4
CHANNELS = 8  # per guild: message creates are limited to 5 per 5 s per channel
RELAY_START_S = 3.0
SETTLE_S = 60.0
FINAL = "zzz"  # the content suffix of the message posted per guild once everything settled


@dataclass
class Client:
    """One gateway session: its dispatches (with when they arrived), and how it ended."""

    ws: aiohttp.ClientWebSocketResponse
    session_id: str
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)  # contents read from history after a GUILD_CREATE
    invalidated: bool = False
    dropped: bool = False  # the socket ended without op 9 and not by us (its edge died)
    closing: bool = False
    close_code: int | None = None

    @property
    def seqs(self) -> list[int]:
        return [f["s"] for _, f in self.frames]

    def contents(self, prefix: str) -> list[str]:
        """Contents of the MESSAGE_CREATEs received live starting with ``prefix`` (one guild's)."""
        return [
            f["d"]["content"]
            for _, f in self.frames
            if f["t"] == "MESSAGE_CREATE" and f["d"]["content"].startswith(prefix)
        ]

    def losses(self, guild_id: str) -> list[tuple[float, float | None, dict[str, Any] | None]]:
        """Per outage of the guild (from a GUILD_DELETE unavailable; one more while it is still
        unavailable changes nothing, as for a library): when, when its GUILD_CREATE came, and that."""
        out: list[tuple[float, float | None, dict[str, Any] | None]] = []
        for at, f in self.frames:
            if f["t"] == "GUILD_DELETE" and f["d"]["id"] == guild_id:
                assert f["d"] == {"id": guild_id, "unavailable": True}
                if not out or out[-1][1] is not None:
                    out.append((at, None, None))
            elif f["t"] == "GUILD_CREATE" and f["d"]["id"] == guild_id and out and out[-1][1] is None:
                out[-1] = (out[-1][0], at, f["d"])
        return out

    def last_seen_before(self, at: float, prefix: str) -> str | None:
        """Where a history fetch starts: a millisecond before the last message of ``prefix``
        received live before ``at`` (ids minted on different edges in one millisecond interleave)."""
        seen = [
            int(f["d"]["id"])
            for t, f in self.frames
            if t < at and f["t"] == "MESSAGE_CREATE" and f["d"]["content"].startswith(prefix)
        ]
        return str(seen[-1] - (1 << 22)) if seen else None

    async def read(self) -> None:
        beat = asyncio.create_task(self.heartbeat())
        try:
            async for msg in self.ws:
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                frame = orjson.loads(msg.data)
                if frame["op"] == 9:
                    self.invalidated = True
                elif frame["op"] == 0:
                    self.frames.append((time.monotonic(), frame))
        finally:
            beat.cancel()
        self.close_code = self.ws.close_code
        self.dropped = not self.invalidated and not self.closing

    async def heartbeat(self) -> None:
        while True:  # a client that stops heartbeating is closed with 4009, as Discord does
            await asyncio.sleep(10)
            await self.ws.send_str(
                orjson.dumps({"op": 1, "d": self.seqs[-1] if self.seqs else None}).decode()
            )


async def identify(http: aiohttp.ClientSession, port: int, token: str) -> Client:
    """A session, returned once every guild of READY arrived (its events come after it)."""
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/?v=10&encoding=json")
    assert orjson.loads((await ws.receive()).data)["op"] == 10
    await ws.send_str(
        orjson.dumps({"op": 2, "d": {"token": token, "intents": 33281, "properties": {}}}).decode()
    )
    client, waiting = None, set()
    while client is None or waiting:
        msg = await ws.receive(timeout=30)
        assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), f"closed: {ws.close_code}"
        frame = orjson.loads(msg.data)
        if frame.get("t") == "READY":
            client = Client(ws, frame["d"]["session_id"], [(time.monotonic(), frame)])
            waiting = {g["id"] for g in frame["d"]["guilds"]}
        elif frame.get("t") == "GUILD_CREATE" and client is not None:
            client.frames.append((time.monotonic(), frame))
            waiting.discard(frame["d"]["id"])
    return client


@pytest.fixture(scope="module")
def failover(runtime: Runtime, ray_config: Config) -> Iterator[Runtime]:
    """Edges and shards of their own (killed here), relays for any guild with 2+ sessions."""

    config = replace(
        ray_config,
        namespace="rayguild-test-failover",
        port=free_listen_ports(1),
        edge_port_base=free_listen_ports(2),  # a restarted edge binds its own port again
        relay_threshold_sessions=2,
        relay_size=2,
    )
    rt = Runtime(config, edge_factory=start_edge)
    rt.start()
    yield rt


@dataclass
class Run:
    clients: list[Client]
    guilds: dict[str, str]  # "t" (the target) / "b" (the bystander) -> guild id
    acked: dict[str, list[str]]  # per guild prefix: acknowledged contents, in posting order
    acked_after_kill: dict[str, int]
    stored: set[str]
    killed_at: float
    token: str
    ports: list[int]


class Node:
    """The REST side of one run: a bot owning the target guild and a bystander guild."""

    def __init__(self, rt: Runtime, http: aiohttp.ClientSession) -> None:
        self.rt, self.http = rt, http
        self.api = f"http://127.0.0.1:{rt.config.port}/api/v10"
        self.token = ""
        self.channels: dict[str, list[str]] = {}

    async def call(self, method: str, path: str, body: object = None) -> Any:
        return await rest(self.http, method, f"{self.api}{path}", self.token, json=body)

    async def guild(self, name: str) -> str:
        guild = await self.call("POST", "/guilds", {"name": name})
        channels = [(await self.call("GET", f"/guilds/{guild['id']}/channels"))[0]["id"]]
        for i in range(CHANNELS - 1):
            channels.append(
                (await self.call("POST", f"/guilds/{guild['id']}/channels", {"name": f"c{i}"}))["id"]
            )
        self.channels[guild["id"]] = channels
        return str(guild["id"])

    async def post(self, guild_id: str, n: int, content: str) -> str | None:
        """The message's id if acknowledged (200), else None."""
        channel = self.channels[guild_id][n % CHANNELS]
        with contextlib.suppress(aiohttp.ClientError):
            async with self.http.post(
                f"{self.api}/channels/{channel}/messages",
                json={"content": content},
                headers={"Authorization": f"Bot {self.token}"},
            ) as r:
                if r.status == 200:
                    return str((await r.json())["id"])
        return None

    async def history(self, guild_id: str, after: str | None) -> set[str]:
        """What a library fetches after GUILD_CREATE: each channel's messages after the last seen."""
        query = f"&after={after}" if after else ""
        contents: set[str] = set()
        for channel in self.channels[guild_id]:
            page = await self.call("GET", f"/channels/{channel}/messages?limit=100{query}")
            contents |= {m["content"] for m in page}
        return contents


def kill(rt: Runtime, target: str, guild_id: int) -> None:
    if target == "guild":  # kill -9 of the guild shard's process; Ray restarts it
        name = rt.directory.guild_shard(guild_id).ref.name
        os.kill(int(rt.directory.actor(name).send_sync(Stats())["pid"]), signal.SIGKILL)
    elif target == "relay":
        cluster.ActorRef(f"relay-{guild_id}-0", rt.config.namespace).kill(restart=True)
    elif target == "presence":
        cluster.ActorRef("presence-0", rt.config.namespace).kill(restart=True)
    elif target == "session":
        rt.directory.session_shard(0).ref.kill(restart=True)


async def until(check: Any, timeout_s: float = SETTLE_S) -> None:
    for _ in range(int(timeout_s / 0.2)):
        if check():
            return
        await asyncio.sleep(0.2)


async def run_under_kill(rt: Runtime, target: str) -> Run:
    """Post MESSAGES per guild, killing ``target`` after KILL_AFTER; then one final message each."""
    ports = [s["port"] for s in rt.ensure_started() if s.get("port")]
    watcher = asyncio.create_task(rt.watch(0.5))
    async with aiohttp.ClientSession() as http:
        node = Node(rt, http)
        node.token = (await rest(http, "POST", f"{node.api}/auth/register", json={"username": f"kill-{target}", "bot": True}))["token"]  # fmt: skip
        guilds = {"t": await node.guild(f"kill {target}")}
        owner = rt.directory.guild_ring.owner
        while True:  # the bystander guild lives on the other guild shard
            guilds["b"] = await node.guild(f"bystander {target}")
            if owner(int(guilds["b"])) != owner(int(guilds["t"])):
                break
        clients = [await identify(http, ports[i % len(ports)], node.token) for i in range(SESSIONS)]
        readers = [asyncio.create_task(c.read()) for c in clients]
        await asyncio.sleep(RELAY_START_S if target != "none" else 0)  # the relay to kill is up
        acked: dict[str, list[str]] = {"t": [], "b": []}
        after_kill, killed_at = {"t": 0, "b": 0}, 0.0
        for i in range(MESSAGES):
            if i == KILL_AFTER:
                killed_at = time.monotonic()
                kill(rt, target, int(guilds["t"]))
            for prefix, guild_id in guilds.items():
                if await node.post(guild_id, i, f"{prefix}{i:03}"):
                    acked[prefix].append(f"{prefix}{i:03}")
                    after_kill[prefix] += i >= KILL_AFTER
            await asyncio.sleep(0.05)

        def alive() -> list[Client]:
            return [c for c in clients if not (c.invalidated or c.dropped)]

        await until(lambda: all(loss[1] for c in alive() for loss in c.losses(guilds["t"])))
        for prefix, guild_id in guilds.items():  # posted once every guild is back
            if await node.post(guild_id, 0, f"{prefix}{FINAL}"):
                acked[prefix].append(f"{prefix}{FINAL}")
        await until(lambda: all(f"{p}{FINAL}" in c.contents(p) for c in alive() for p in guilds))
        for c in alive():
            for lost_at, _, _ in c.losses(guilds["t"]):
                c.fetched |= await node.history(guilds["t"], c.last_seen_before(lost_at, "t"))
        stored = set()
        for guild_id in guilds.values():
            stored |= await node.history(guild_id, None)
        for c in clients:
            c.closing = True
            await c.ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
    watcher.cancel()
    return Run(clients, guilds, acked, after_kill, stored, killed_at, node.token, ports)


def assert_no_silent_gap(run: Run) -> None:
    for c in run.clients:
        assert c.seqs == list(range(c.seqs[0], c.seqs[0] + len(c.seqs))), "seq must grow by one"
        for prefix in run.guilds:
            live = c.contents(prefix)
            assert live == sorted(live), "events in the order the guild emitted them"
            assert len(set(live)) == len(live), "no event twice"
            missing = set(run.acked[prefix]) - set(live) - c.fetched
            assert not missing or c.invalidated or c.dropped, f"silent gap: {sorted(missing)}"
        if c.invalidated:
            assert c.close_code == 4000


def assert_work_done(run: Run) -> None:
    for prefix in run.guilds:
        assert len(run.acked[prefix]) >= MIN_ACKED, f"too few acknowledged in {prefix}: {run.acked}"
        assert run.acked_after_kill[prefix] >= MIN_ACKED_AFTER_KILL, "too few acknowledged after the kill"
        assert set(run.acked[prefix]) <= run.stored, "an acknowledged message is missing from storage"


@pytest.mark.parametrize("target", ["guild", "relay", "presence"])
async def test_losing_a_guild_shard_relay_or_presence_shard_costs_no_reidentify(
    failover: Runtime, target: str
) -> None:
    run = await run_under_kill(failover, target)
    assert_work_done(run)
    assert_no_silent_gap(run)
    target_guild, bystander = run.guilds["t"], run.guilds["b"]
    for c in run.clients:
        assert not c.invalidated and not c.dropped, "no op 9, no dropped socket: the session lives on"
        assert [f["t"] for _, f in c.frames].count("READY") == 1, "never identified again"
        assert not c.losses(bystander), "the bystander guild was never unavailable"
        assert set(run.acked["b"]) <= set(c.contents("b")), "the bystander guild got everything live"
        assert f"t{FINAL}" in c.contents("t"), "the target guild is live again"
    lost = [c for c in run.clients if c.losses(target_guild)]
    if target == "guild":
        assert len(lost) == SESSIONS, "every session of the lost shard's guild is told"
    elif target == "relay":
        assert lost, "the killed relay's sessions are told"
    else:
        assert not lost, "a presence shard holds no guild"
    recovered = []
    for c in lost:
        for lost_at, back_at, guild in c.losses(target_guild):
            kinds = [(f["t"], f["s"]) for _, f in c.frames if f["t"] in ("GUILD_DELETE", "GUILD_CREATE")]
            assert back_at is not None and guild is not None, f"GUILD_CREATE after GUILD_DELETE: {kinds}"
            assert any(ch.get("last_message_id") for ch in guild["channels"]), "history can be fetched"
            recovered.append((lost_at - run.killed_at, back_at - run.killed_at))
    if recovered:
        print(  # the measured recovery, read with -s
            f"{target}: kill -> GUILD_DELETE {max(r[0] for r in recovered):.2f} s, "
            f"-> GUILD_CREATE {max(r[1] for r in recovered):.2f} s (slowest of {len(recovered)})"
        )


async def test_killing_a_session_shard_under_load(failover: Runtime) -> None:
    run = await run_under_kill(failover, "session")
    assert_work_done(run)
    assert_no_silent_gap(run)
    lost, kept = run.clients[0::2], run.clients[1::2]  # identified on session-0's and session-1's edge
    assert all(c.dropped or c.invalidated for c in lost)
    assert not any(c.dropped or c.invalidated for c in kept), "the surviving edge keeps its sessions"
    # A client of the lost edge resumes (its session died with the edge: op 9) and identifies again.
    assert failover.ensure_started()  # the restarted shard's edge is listening on its port again
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"ws://127.0.0.1:{run.ports[0]}/?v=10&encoding=json")
        await ws.receive()
        await ws.send_str(
            orjson.dumps(
                {"op": 6, "d": {"token": run.token, "session_id": lost[0].session_id, "seq": 1}}
            ).decode()
        )
        assert orjson.loads((await ws.receive(timeout=30)).data) == {
            "op": 9,
            "d": False,
            "s": None,
            "t": None,
        }
        await ws.close()
        client = await identify(http, run.ports[0], run.token)
        await client.ws.close()


async def test_relays_being_created_keep_order(failover: Runtime) -> None:
    run = await run_under_kill(failover, "none")
    assert_work_done(run)
    assert_no_silent_gap(run)
    for c in run.clients:
        assert set(run.acked["t"]) | set(run.acked["b"]) <= set(c.contents("t")) | set(c.contents("b"))
