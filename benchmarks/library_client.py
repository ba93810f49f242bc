"""A gateway client that behaves as Discord's libraries do, and writes down what it lived through.

Like discord.py / discord.js: Hello, heartbeats at the interval, Identify; on a dropped socket or
op 7, or after ``receive_timeout_s`` with nothing received (discord.py's ``heartbeat_timeout``,
60 s), it closes with 4000 and resumes on READY's ``resume_gateway_url`` (falling back to a fresh
identify on the public URL when that edge stays unreachable). It never closes a socket it means to
resume with 1000: the server would end that session and answer the resume with op 9. On op 9
``d: false`` it waits 1-5 s (Discord's advice) and identifies again; closes 4004 and 4010-4014 are
fatal. Like a bot that cares about history, after every GUILD_CREATE it fetches each text
channel's recent messages back to one it already has.

The record, read by ``rayguild.benchmarks.chaos`` and the failure tests: every MESSAGE_CREATE
delivered (message id -> (incarnation, time)), every id fetched through history, each
incarnation (one per READY) with its GUILD_CREATE / GUILD_DELETE times, and counters (identifies,
resumes, op 9s, disconnects, seq gaps, duplicates). Times are ``time.monotonic()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

FATAL_CLOSES = frozenset({4004, 4010, 4011, 4012, 4013, 4014})
NEW_SESSION_CLOSES = frozenset({4007, 4009})  # the session is gone: identify, do not resume
RESUME_ATTEMPTS = 3  # connection failures on the resume URL before identifying on the public URL
INTENTS = (1 << 0) | (1 << 9) | (1 << 15)  # GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT
HISTORY_PAGES = 20
RECEIVE_TIMEOUT_S = 60.0  # discord.py's default heartbeat_timeout: silence this long means reconnect
COUNTED = {
    "identify": "identifies", "resumed": "resumes", "op9": "invalid_sessions",
    "disconnect": "disconnects", "seq_gap": "seq_gaps", "duplicate": "duplicates",
}  # fmt: skip


@dataclass
class Incarnation:
    """One session (from READY to its end): when each guild became available or unavailable."""

    started: float
    ended: float | None = None
    created: dict[int, float] = field(default_factory=dict)  # guild id -> first GUILD_CREATE
    # guild id -> [gone, back]: GUILD_DELETE unavailable until the next GUILD_CREATE (inf: not back)
    unavailable: dict[int, list[list[float]]] = field(default_factory=dict)


@dataclass
class Counters:
    identifies: int = 0
    resumes: int = 0
    invalid_sessions: int = 0
    disconnects: int = 0
    seq_gaps: int = 0
    duplicates: int = 0
    fatal_close: int | None = None


class LibraryClient:
    """One user's gateway connection over its lifetime; ``run`` until ``stop``."""

    def __init__(
        self, http: aiohttp.ClientSession, api: str, gateway_url: str, token: str,
        rng: random.Random | None = None, reidentify_wait_s: tuple[float, float] = (1.0, 5.0),
        receive_timeout_s: float = RECEIVE_TIMEOUT_S,
    ) -> None:  # fmt: skip
        self.http, self.api, self.gateway_url, self.token = http, api, gateway_url, token
        self.auth = {"Authorization": f"Bot {token}"}
        self.rng = rng or random.Random()
        self.reidentify_wait_s = reidentify_wait_s
        self.receive_timeout_s = receive_timeout_s
        self.counters = Counters()
        self.log: list[tuple[float, str]] = []  # (time, "op9" | "resumed" | "disconnect" | ...)
        self.incarnations: list[Incarnation] = []
        self.delivered: dict[int, list[tuple[int, float]]] = defaultdict(list)  # id -> [(inc, t)]
        self.fetched: set[int] = set()
        self.ready = asyncio.Event()  # set once the first incarnation has every guild
        self.session_id: str | None = None
        self.first_session_id: str | None = None
        self.seq: int | None = None
        self.resume_url: str | None = None
        self._stopping = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: set[int] = set()  # guilds of the first READY without their GUILD_CREATE yet

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        failures = 0
        while not self._stopping and self.counters.fatal_close is None:
            resume = self.session_id is not None
            url = (self.resume_url or self.gateway_url) if resume else self.gateway_url
            try:
                await self._connection(url, resume)
                failures = 0
            except (aiohttp.ClientError, OSError, TimeoutError):
                failures += 1
                if failures >= RESUME_ATTEMPTS:
                    self._end_session()
                await asyncio.sleep(min(5.0, 0.25 * 2**failures) * self.rng.uniform(0.5, 1.0))

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        for task in list(self._tasks):
            task.cancel()

    def _end_session(self) -> None:
        if self.incarnations and self.incarnations[-1].ended is None:
            self.incarnations[-1].ended = time.monotonic()
        self.session_id = self.seq = None

    # -- one connection ----------------------------------------------------------------------

    async def _connection(self, url: str, resume: bool) -> None:
        timeout = aiohttp.ClientWSTimeout(ws_receive=self.receive_timeout_s, ws_close=10.0)
        async with self.http.ws_connect(
            f"{url}/?v=10&encoding=json", heartbeat=None, max_msg_size=0, timeout=timeout
        ) as ws:
            self._ws = ws
            first = await ws.receive(timeout=10)
            if first.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise OSError(f"closed before Hello ({ws.close_code})")
            hello = orjson.loads(first.data)
            beat = asyncio.create_task(self._heartbeat(ws, hello["d"]["heartbeat_interval"] / 1000))
            try:
                if resume:
                    d = {"token": self.token, "session_id": self.session_id, "seq": self.seq}
                    await ws.send_bytes(orjson.dumps({"op": 6, "d": d}))
                else:
                    ident = {"token": self.token, "intents": INTENTS, "properties": {"os": "linux"}}
                    await ws.send_bytes(orjson.dumps({"op": 2, "d": ident}))
                await self._frames(ws)
            except TimeoutError:  # silent for receive_timeout_s: reconnect and resume (as discord.py)
                pass
            finally:
                beat.cancel()
                self._ws = None
                if not self._stopping:  # 4000, not aiohttp's default 1000, which ends the session
                    await ws.close(code=4000)
            if not self._stopping:
                self._note("disconnect")
                self._after_close(ws.close_code)

    def _after_close(self, code: int | None) -> None:
        if code in FATAL_CLOSES:
            self.counters.fatal_close = code
            self._end_session()
        elif code in NEW_SESSION_CLOSES:
            self._end_session()

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, interval_s: float) -> None:
        await asyncio.sleep(interval_s * self.rng.random())
        while not ws.closed:
            await ws.send_bytes(orjson.dumps({"op": 1, "d": self.seq}))
            await asyncio.sleep(interval_s)

    async def _frames(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return
            frame = orjson.loads(msg.data)
            op = frame["op"]
            if op == 0:
                self._dispatch(frame)
            elif op == 7:  # Reconnect: resume elsewhere
                await ws.close(code=4000)
                return
            elif op == 9:
                self._note("op9")
                if not frame["d"]:
                    self._end_session()
                    await ws.close(code=4000)
                    await asyncio.sleep(self.rng.uniform(*self.reidentify_wait_s))
                else:
                    await ws.close(code=4000)
                return

    def _dispatch(self, frame: dict[str, Any]) -> None:
        now, s, t, d = time.monotonic(), frame["s"], frame["t"], frame["d"]
        if t == "READY":
            self._note("identify")
            self.incarnations.append(Incarnation(now))
            self.session_id, self.resume_url = d["session_id"], d["resume_gateway_url"]
            self.first_session_id = self.first_session_id or self.session_id
            self.seq = s
            if not self.ready.is_set():
                self._pending = {int(g["id"]) for g in d["guilds"]}
                if not self._pending:
                    self.ready.set()
            return
        if self.seq is not None and s != self.seq + 1:
            self._note("seq_gap")
        self.seq = s
        incarnation = len(self.incarnations) - 1
        current = self.incarnations[incarnation]
        if t == "RESUMED":
            self._note("resumed")
        elif t == "GUILD_CREATE":
            guild_id = int(d["id"])
            current.created.setdefault(guild_id, now)
            for outage in current.unavailable.get(guild_id, []):
                outage[1] = min(outage[1], now)
            self._pending.discard(guild_id)
            if not self._pending:
                self.ready.set()
            for channel in d.get("channels", []):
                if channel.get("type") == 0:
                    self._spawn(self._fetch_history(int(channel["id"])))
        elif t == "GUILD_DELETE" and d.get("unavailable"):
            current.unavailable.setdefault(int(d["id"]), []).append([now, float("inf")])
        elif t == "MESSAGE_CREATE":
            message_id = int(d["id"])
            if any(inc == incarnation for inc, _ in self.delivered[message_id]):
                self._note("duplicate")
            self.delivered[message_id].append((incarnation, now))

    def _note(self, kind: str) -> None:
        self.log.append((time.monotonic(), kind))
        setattr(self.counters, COUNTED[kind], getattr(self.counters, COUNTED[kind]) + 1)

    # -- history -----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch_history(self, channel_id: int) -> None:
        """The channel's recent messages, newest page first, back to one this client already
        knows (ids from different edges interleave, so "after the newest known" could skip one)."""
        known = set(self.delivered) | self.fetched
        before = ""
        for _ in range(HISTORY_PAGES):
            page = await self._get(f"/channels/{channel_id}/messages?limit=100{before}")
            ids = [int(m["id"]) for m in page]
            self.fetched.update(ids)
            if len(page) < 100 or known & set(ids):
                return
            before = f"&before={min(ids)}"

    async def _get(self, path: str) -> list[dict[str, Any]]:
        for _ in range(10):
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with self.http.get(f"{self.api}{path}", headers=self.auth) as r:
                    if r.status == 200:
                        page: list[dict[str, Any]] = await r.json()
                        return page
                    if r.status == 429:
                        await asyncio.sleep(float((await r.json()).get("retry_after", 1.0)))
                        continue
            await asyncio.sleep(1.0)  # storage down or edge restarting: try again
        return []
