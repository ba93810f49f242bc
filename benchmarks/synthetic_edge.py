"""The benchmarks' edge: synthetic sessions opened and fed exactly as a gateway edge's sessions are.

A ``Runtime`` started with ``edge_factory=start_synthetic_edge`` runs this in each session shard
process, in the place of the gateway (http_api/server.py's ``start_edge``), with the same
arguments. It opens its sessions through the session lifecycle (``OpenSession``: presence record,
READY, one ``SessionJoin`` per guild, GUILD_CREATE through the ordered delivery path), marks some
active through the guild clients the gateway's op 14 uses, and closes them with
``EndConnection``. Its sessions' sink counts instead of writing to a socket (with ``wire`` each
session also compresses and frames, ``benchmarks.wire``), and a delivery observer registered on
the shard (as the host's metrics are) keeps the trace: per dispatch, when its last batch landed
and how many sessions it reached.

The benchmark driver reaches each edge over HTTP on the edge's port, as clients reach a gateway:
``SyntheticEdges`` is its client. Nothing here is known to the shards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

from rayguild.actors.refs import Directory
from rayguild.actors.session import FrameSink, Session, SessionShardCore
from rayguild.actors.session_lifecycle import OpenSession, SessionLifecycle, SessionLifecycleRef
from rayguild.benchmarks.memory import rss_bytes
from rayguild.benchmarks.wire import CountingSink, WireCounters, WireSink
from rayguild.config import Config
from rayguild.fanout.events import Dispatch
from rayguild.fanout.partition import Slots

OPEN_AT_ONCE = 256  # identifies in flight per edge while opening
LARGE_THRESHOLD = 250  # identify's largest: above it GUILD_CREATE carries only the session's member


class DeliveryTrace:
    """Per dispatch (keyed by its emit time): when its last batch landed on this shard, and how many."""

    def __init__(self) -> None:
        self.records: dict[int, list[int]] = {}
        self.guild_deletes = 0

    def record(self, batch: Sequence[tuple[Dispatch, Slots]], delivered: int) -> None:
        now = time.time_ns()
        for dispatch, slots in batch:
            if dispatch.t == "GUILD_DELETE":
                self.guild_deletes += int(slots.size)
            record = self.records.get(dispatch.emitted_ns)
            if record is None:
                self.records[dispatch.emitted_ns] = [now, int(slots.size)]
            else:
                record[0] = now
                record[1] += int(slots.size)

    def take(self) -> dict[int, list[int]]:
        records, self.records = self.records, {}
        return records


class SyntheticEdge:
    """One session shard's synthetic sessions; served to the driver over HTTP."""

    def __init__(
        self, config: Config, sessions: SessionShardCore, guilds: Directory, lifecycle: SessionLifecycle
    ) -> None:
        self.config = config
        self.core = sessions
        self.guilds = guilds
        self.lifecycle = SessionLifecycleRef(lifecycle)
        self.counting = CountingSink()
        self.wire = WireCounters()
        self.trace = DeliveryTrace()
        sessions.observers.append(self.trace.record)
        self.open: list[tuple[Session, FrameSink]] = []
        self.port = 0
        self.adopted: list[int] = []
        self._runner: web.AppRunner | None = None

    def sink(self, wire: str) -> FrameSink:
        return WireSink(wire, self.wire) if wire else self.counting

    async def open_sessions(self, body: dict[str, Any]) -> dict[str, int]:
        """Identify one session per user in ``guild_ids``; ``active`` users then subscribe (op 14)."""
        guild_ids = tuple(int(g) for g in body["guild_ids"])
        active = set(body.get("active", ()))
        user_guilds = body.get("user_guilds")  # per user its own guilds (else ``guild_ids``)
        gate = asyncio.Semaphore(OPEN_AT_ONCE)
        opened = subscribed = 0

        async def one(i: int, user_id: int) -> None:
            nonlocal opened, subscribed
            sink = self.sink(body.get("wire", ""))
            guilds = tuple(user_guilds[i]) if user_guilds is not None else guild_ids
            command = OpenSession(
                user_id, int(body["intents"]), False, guilds, LARGE_THRESHOLD, {"v": 10}, sink,
                status=body.get("status", "online"),
            )  # fmt: skip
            async with gate:
                session = await self.lifecycle.open(command)
                if session is None:
                    return
                self.open.append((session, sink))
                opened += 1
                if user_id in active:
                    for guild_id in guilds:
                        ok = await self.guilds.subscribe(guild_id, session.session_id, True)
                        subscribed += ok  # (not ``+= await``: that reads the total before the await)

        await asyncio.gather(*(one(i, int(u)) for i, u in enumerate(body["users"])))
        return {"opened": opened, "subscribed": subscribed}

    async def flip_session(self, body: dict[str, Any]) -> dict[str, bool]:
        """The session of ``user`` goes active or passive in ``guild_id`` (op 14), as a client's does."""
        user, guild_id, active = int(body["user"]), int(body["guild_id"]), bool(body["active"])
        for session, _ in self.open:
            if session.user_id == user:
                return {"changed": bool(await self.guilds.subscribe(guild_id, session.session_id, active))}
        return {"changed": False}

    async def close_sessions(self) -> int:
        """Every open session ends for good (its guilds and its presence shard are told)."""
        sessions, self.open = self.open, []
        for session, sink in sessions:
            await self.lifecycle.end(session, sink, final=True)
        return len(sessions)

    def memory(self) -> dict[str, int]:
        return {
            "bytes": self.core.memory_bytes(),
            "slots": self.core.slot_count,
            "frames": self.counting.frames,
            "invalidated": int(self.core.invalidated),  # sessions told op 9 (re-identify)
            "guild_deletes": self.trace.guild_deletes,  # GUILD_DELETE deliveries (guild unavailable)
            "pid": os.getpid(),
            "rss_bytes": rss_bytes(os.getpid()),
            **self.wire.as_dict(),
        }

    # -- the driver's HTTP face ---------------------------------------------------------------
    async def serve(self) -> None:
        app = web.Application(client_max_size=1 << 28)
        app.router.add_post("/sessions", self._open)
        app.router.add_delete("/sessions", self._close)
        app.router.add_get("/trace", self._trace)
        app.router.add_get("/memory", self._memory)
        app.router.add_post("/subscribe", self._subscribe)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind((self.config.host, 0))
        await web.SockSite(self._runner, sock).start()
        self.port = int(sock.getsockname()[1])

    async def _open(self, request: web.Request) -> web.Response:
        return web.json_response(await self.open_sessions(await request.json()))

    async def _close(self, request: web.Request) -> web.Response:
        return web.json_response({"closed": await self.close_sessions()})

    async def _trace(self, request: web.Request) -> web.Response:
        return web.json_response({str(k): v for k, v in self.trace.take().items()})

    async def _memory(self, request: web.Request) -> web.Response:
        return web.json_response(self.memory())

    async def _subscribe(self, request: web.Request) -> web.Response:
        return web.json_response(await self.flip_session(await request.json()))

    # -- what a session shard asks of its edge (``rayguild.actors.hosts.EdgeServer``) ---------
    async def stop_accepting(self) -> None:
        pass

    async def adopt(self, port: int) -> None:
        pass

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def start_synthetic_edge(
    *, config: Config, sessions: SessionShardCore, guilds: Directory, presence: Any, peers: Any, **_: Any
) -> SyntheticEdge:
    """The ``EdgeFactory`` a benchmark's ``Runtime`` runs in each session shard."""
    lifecycle = SessionLifecycle(sessions, guilds, presence, peers, config)
    edge = SyntheticEdge(config, sessions, guilds, lifecycle)
    await edge.serve()
    return edge


class SyntheticEdges:
    """The driver's client of every session shard's synthetic edge."""

    def __init__(self, directory: Directory, shards: int) -> None:
        self.directory = directory
        self.shards = shards
        self.urls: list[str] = []
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SyntheticEdges:
        host = self.directory.config.host
        ports = [(await self.directory.session_shard(i).stats())["port"] for i in range(self.shards)]
        self.urls = [f"http://{host}:{port}" for port in ports]
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.http is not None:
            await self.http.close()

    async def _call(self, method: str, shard: int, path: str, body: Any = None) -> Any:
        assert self.http is not None
        async with self.http.request(method, self.urls[shard] + path, json=body) as response:
            response.raise_for_status()
            return await response.json()

    async def open(self, shard: int, users: Sequence[int], guild_ids: Sequence[int], intents: int, *,
                   active: Sequence[int] = (), wire: str = "", status: str = "online",
                   user_guilds: Sequence[Sequence[int]] | None = None) -> dict[str, int]:  # fmt: skip
        body = {
            "users": [int(u) for u in users], "guild_ids": [int(g) for g in guild_ids], "intents": intents,
            "active": [int(u) for u in active], "wire": wire, "status": status,
            "user_guilds": [list(g) for g in user_guilds] if user_guilds is not None else None,
        }  # fmt: skip
        return dict(await self._call("POST", shard, "/sessions", body))

    async def close(self) -> int:
        return sum([(await self._call("DELETE", i, "/sessions"))["closed"] for i in range(self.shards)])

    async def subscribe(self, shard: int, user: int, guild_id: int, active: bool) -> bool:
        """The session of ``user`` (on edge ``shard``) goes active or passive in ``guild_id``."""
        body = {"user": user, "guild_id": guild_id, "active": active}
        return bool((await self._call("POST", shard, "/subscribe", body))["changed"])

    async def take_trace(self, shard: int) -> dict[int, list[int]]:
        return {int(k): v for k, v in (await self._call("GET", shard, "/trace")).items()}

    async def memory(self, shard: int) -> dict[str, int]:
        return dict(await self._call("GET", shard, "/memory"))

    async def collect(self, expected: int, timeout_s: float) -> dict[int, list[int]]:
        """Merge every shard's delivery trace until ``expected`` deliveries arrived (or time out)."""
        merged: dict[int, list[int]] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            for i in range(self.shards):
                for key, (done_ns, count) in (await self.take_trace(i)).items():
                    record = merged.setdefault(key, [0, 0])
                    record[0], record[1] = max(record[0], done_ns), record[1] + count
            if sum(r[1] for r in merged.values()) >= expected or time.monotonic() > deadline:
                return merged
            await asyncio.sleep(0.05)
