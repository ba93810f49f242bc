"""Gateway tests: a real edge on a loopback port, raw websocket clients, the in-process cluster."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from rayguild.config import Config
from rayguild.fanout.events import ALL_INTENTS
from rayguild.http_api.app import build_app
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.sqlite import SqliteStorage

API = "/api/v10"
LOCAL_SINK = ("127.0.0.0/8",)  # webhook devices here point at a sink on loopback
# Bots here identify again at once (Discord: one identify per 5 s); test_identify_limits keeps the default.
NO_IDENTIFY_WAIT = {"identify_interval_s": 0.0}
RECEIVE_TIMEOUT_S = 5.0


async def until(check: Callable[[], bool], timeout_s: float = RECEIVE_TIMEOUT_S) -> None:
    """Poll ``check`` every 10 ms; TimeoutError after ``timeout_s`` (for state another task changes)."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110  (a condition on another component's state)
            await asyncio.sleep(0.01)


class Gateway:
    """A raw gateway client: JSON frames in, decompressed JSON frames out."""

    def __init__(self, ws: Any, compress: str, window_bits: int | None = None) -> None:
        """``window_bits``: decode with a history window this small (default: the libraries' own)."""
        self.ws, self.compress = ws, compress
        self._zlib = zlib.decompressobj(window_bits or zlib.MAX_WBITS)
        self._zstd = zstandard.ZstdDecompressor(
            max_window_size=1 << window_bits if window_bits else 0
        ).decompressobj()
        self.seq = 0

    async def send(self, payload: Any) -> None:
        await self.ws.send_bytes(orjson.dumps(payload)) if not isinstance(
            payload, str
        ) else await self.ws.send_str(payload)

    async def recv(self) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=RECEIVE_TIMEOUT_S)
        if msg.type is WSMsgType.CLOSE:  # the code the server's close frame carries
            raise ConnectionClosed(msg.data)
        if msg.type in (WSMsgType.CLOSED, WSMsgType.CLOSING):
            raise ConnectionClosed(self.ws.close_code)
        data = msg.data
        if self.compress == "zlib-stream":
            assert data.endswith(b"\x00\x00\xff\xff")
            data = self._zlib.decompress(data)
        elif self.compress == "zstd-stream":
            data = self._zstd.decompress(data)
        frame: dict[str, Any] = orjson.loads(data)
        if frame.get("s") is not None:
            self.seq = frame["s"]
        return frame

    async def dispatch(self, t: str) -> dict[str, Any]:
        """The next dispatch named ``t`` (heartbeat ACKs and other dispatches are skipped)."""
        while True:
            frame = await self.recv()
            if frame["op"] == 0 and frame["t"] == t:
                return frame

    async def closed_with(self) -> int:
        """Read until the server closes; the close code."""
        while True:
            try:
                await self.recv()
            except ConnectionClosed as closed:
                return closed.code or 0

    async def identify(self, token: str, intents: int = ALL_INTENTS, **extra: Any) -> dict[str, Any]:
        await self.send({"op": 2, "d": {"token": token, "intents": intents, "properties": {}, **extra}})
        return await self.dispatch("READY")


class ConnectionClosed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Posting:
    """Messages posted in the background (``Edge.post_in_background``): their ids in order."""

    posted: list[str] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def until(self, count: int) -> None:
        """Until at least ``count`` messages were posted."""
        while len(self.posted) < count:
            self.progress.clear()
            await self.progress.wait()

    async def finished(self) -> None:
        assert self.task is not None
        await self.task


@dataclass
class Edge:
    client: TestClient[Any, Any]
    ctx: EdgeContext
    cluster: LocalCluster

    async def connect(
        self, query: str = "v=10&encoding=json", compress: str = "", window_bits: int | None = None
    ) -> Gateway:
        full = query + (f"&compress={compress}" if compress else "")
        ws = await self.client.ws_connect(f"/?{full}")
        gateway = Gateway(ws, compress, window_bits)
        hello = await gateway.recv()
        assert hello["op"] == 10
        return gateway

    async def register(self, name: str, bot: bool = True) -> tuple[str, dict[str, Any], dict[str, str]]:
        response = await self.client.post(f"{API}/auth/register", json={"username": name, "bot": bot})
        body = await response.json()
        headers = {"Authorization": ("Bot " if bot else "") + body["token"]}
        return body["token"], body["user"], headers

    async def rest(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        response = await self.client.request(method, f"{API}{path}", headers=headers, **kw)
        assert response.status < 300, await response.text()
        return None if response.status == 204 else await response.json()

    async def live_session(self, token: str) -> tuple[Gateway, str]:
        """A bot's identified session past its GUILD_CREATE: (its gateway, its session id)."""
        gateway = await self.connect()
        session_id = (await gateway.identify(token))["d"]["session_id"]
        await gateway.dispatch("GUILD_CREATE")
        return gateway, session_id

    def post_in_background(self, headers: dict[str, str], channel_id: str, count: int) -> Posting:
        """Messages "0".."count-1" posted one after another in the channel, in the background."""
        posting = Posting()

        async def post_all() -> None:
            for i in range(count):
                path = f"/channels/{channel_id}/messages"
                posting.posted.append(
                    (await self.rest("POST", path, headers, json={"content": str(i)}))["id"]
                )
                posting.progress.set()
                await asyncio.sleep(0.005)

        posting.task = asyncio.create_task(post_all())
        return posting

    def for_libraries(self) -> str:
        """Tell clients this test server (GET /gateway/bot, READY's resume_gateway_url), as a
        library needs; its base URL (http://host:port), what a library is given."""
        base = str(self.client.make_url("")).rstrip("/")
        self.ctx.resume_gateway_url = base.replace("http", "ws", 1)
        self.ctx.config = replace(self.ctx.config, public_url=base)
        return base

    async def guild_with_bot(self) -> tuple[str, dict[str, str], dict[str, Any], dict[str, Any]]:
        """A bot that owns a guild: (token, headers, guild, general channel)."""
        token, _, headers = await self.register("robot")
        guild = await self.rest("POST", "/guilds", headers, json={"name": "Gateway Guild"})
        channel = (await self.rest("GET", f"/guilds/{guild['id']}/channels", headers))[0]
        return token, headers, guild, channel


EdgeFactory = Callable[..., Awaitable[Edge]]


@pytest.fixture
async def make_edge(tmp_path: Path) -> AsyncIterator[EdgeFactory]:
    started: list[tuple[TestClient[Any, Any], LocalCluster]] = []

    async def make(allowed_intents: int = ALL_INTENTS, **config: Any) -> Edge:
        db = tmp_path / "rayguild.sqlite3"
        settings = {
            "sqlite_path": str(db),
            "tick_ms": 1.0,
            "push_allowed_networks": LOCAL_SINK,
            **NO_IDENTIFY_WAIT,
            **config,
        }
        cluster = LocalCluster(Config(**settings), lambda: SqliteStorage(db))
        ctx = await cluster.edge(0, allowed_intents=allowed_intents)
        # The bots here post faster than Discord's 5 messages / 5 s; rate limits have their own tests.
        app = build_app(ctx, RateLimiter(limit_scale=100))
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        started.append((client, cluster))
        return Edge(client, ctx, cluster)

    yield make
    for client, cluster in started:
        await client.close()
        await cluster.close()
    await asyncio.sleep(0)


@pytest.fixture
async def edge(make_edge: EdgeFactory) -> Edge:
    return await make_edge()


@pytest.fixture
async def two_edges(tmp_path: Path) -> AsyncIterator[tuple[Edge, Edge]]:
    """Edges 0 and 1 of ONE in-process cluster (one guild shard, two session shards)."""
    db = tmp_path / "rayguild.sqlite3"
    cluster = LocalCluster(
        Config(sqlite_path=str(db), tick_ms=1.0, **NO_IDENTIFY_WAIT), lambda: SqliteStorage(db)
    )
    edges: list[Edge] = []
    for index in range(2):
        ctx = await cluster.edge(index)
        client: TestClient[Any, Any] = TestClient(TestServer(build_app(ctx, RateLimiter(limit_scale=100))))
        await client.start_server()
        edges.append(Edge(client, ctx, cluster))
    yield edges[0], edges[1]
    for edge in edges:
        await edge.client.close()
    await cluster.close()
