"""Resume on another edge on real Ray: edges in two SessionShard actors, the guild behind relays."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import orjson
import pytest

from rayguild.actors.commands import Stats
from rayguild.actors.runtime import Runtime
from rayguild.config import Config
from rayguild.fanout.events import ALL_INTENTS
from rayguild.http_api.server import free_listen_ports

pytestmark = pytest.mark.ray

CHANNELS = 4  # messages round-robin over channels: 5 per channel fit in the rate limit's burst
MESSAGES = 20
SEEN_ON_A, MISSED = 5, 5  # messages read before the drop; posted at least while detached
RECEIVE_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def resume_node(runtime: Runtime, ray_config: Config) -> Iterator[tuple[Runtime, int, int, int]]:
    """Shards with edges on the shared Ray cluster, in their own namespace, and the public, edge 0
    and edge 1 ports. Guilds switch to relays at their second session: moves go through a relay."""
    from rayguild.http_api.server import start_edge

    config = replace(
        ray_config,
        namespace="rayguild-test-resume",
        port=free_listen_ports(1),
        guild_shards=1,
        session_shards=2,
        relay_threshold_sessions=1,
    )
    rt = Runtime(config, edge_factory=start_edge)
    started = rt.start()  # Ray is already up: this only creates and starts the shards
    ports = [info["port"] for info in started if str(info.get("shard", "")).startswith("session-")]
    yield rt, config.port, ports[0], ports[1]


async def _rest(http: aiohttp.ClientSession, method: str, url: str, token: str = "", **kw: Any) -> Any:
    """One REST call; a 429 is waited out and retried, as a client library does."""
    headers = {"Authorization": f"Bot {token}"} if token else {}
    while True:
        async with http.request(method, url, headers=headers, **kw) as response:
            body = await response.json()
            if response.status != 429:
                assert response.status in (200, 201), body
                return body
        await asyncio.sleep(body["retry_after"])


async def _frames(
    ws: aiohttp.ClientWebSocketResponse, until_messages: int, resumed: bool = False
) -> list[dict[str, Any]]:
    """MESSAGE_CREATE and RESUMED dispatches until ``until_messages`` messages arrived (and, with
    ``resumed``, RESUMED too: it follows the replay, which may already hold every message)."""
    out: list[dict[str, Any]] = []

    def done() -> bool:
        got = sum(f["t"] == "MESSAGE_CREATE" for f in out)
        return got >= until_messages and (not resumed or any(f["t"] == "RESUMED" for f in out))

    while not done():
        frame = orjson.loads((await ws.receive(timeout=RECEIVE_TIMEOUT_S)).data)
        if frame["op"] == 0 and frame["t"] in ("MESSAGE_CREATE", "RESUMED"):
            out.append(frame)
    return out


async def _dispatch(ws: aiohttp.ClientWebSocketResponse, t: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = orjson.loads((await ws.receive(timeout=RECEIVE_TIMEOUT_S)).data)
        if frame["op"] == 0 and frame["t"] == t:
            return frame


async def _identify(http: aiohttp.ClientSession, port: int, token: str) -> Any:
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/?v=10&encoding=json")
    await ws.receive(timeout=RECEIVE_TIMEOUT_S)  # Hello
    identify = {"op": 2, "d": {"token": token, "intents": ALL_INTENTS, "properties": {}}}
    await ws.send_bytes(orjson.dumps(identify))
    ready = await _dispatch(ws, "READY")
    await _dispatch(ws, "GUILD_CREATE")
    return ws, ready["d"]["session_id"]


async def test_resume_on_the_other_edge_through_a_relay(
    resume_node: tuple[Runtime, int, int, int],
) -> None:
    rt, public, port_a, port_b = resume_node
    api = f"http://127.0.0.1:{public}/api/v10"
    async with aiohttp.ClientSession() as http:
        bot = await _rest(http, "POST", f"{api}/auth/register", json={"username": "mover", "bot": True})
        token = bot["token"]
        guild = await _rest(http, "POST", f"{api}/guilds", token, json={"name": "moving"})
        channels = [(await _rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", token))[0]]
        for i in range(1, CHANNELS):
            create = {"name": f"c{i}", "type": 0}
            channels.append(
                await _rest(http, "POST", f"{api}/guilds/{guild['id']}/channels", token, json=create)
            )
        watcher, _ = await _identify(http, port_b, token)
        first, session_id = await _identify(http, port_a, token)  # the second session: relays now
        posted: list[str] = []
        missed = asyncio.Event()

        async def post_all() -> None:
            for i in range(MESSAGES):
                url = f"http://127.0.0.1:{port_b}/api/v10/channels/{channels[i % CHANNELS]['id']}/messages"
                posted.append((await _rest(http, "POST", url, token, json={"content": str(i)}))["id"])
                if len(posted) >= SEEN_ON_A + MISSED:
                    missed.set()

        poster = asyncio.create_task(post_all())
        before = await _frames(first, SEEN_ON_A)
        await first.close(code=4000)
        await missed.wait()
        second = await http.ws_connect(f"ws://127.0.0.1:{port_b}/?v=10&encoding=json")
        await second.receive(timeout=RECEIVE_TIMEOUT_S)  # Hello
        resume = {"op": 6, "d": {"token": token, "session_id": session_id, "seq": before[-1]["s"]}}
        await second.send_bytes(orjson.dumps(resume))
        after = await _frames(second, MESSAGES - SEEN_ON_A, resumed=True)
        await poster
        watched = await _frames(watcher, MESSAGES)
        for ws in (second, watcher):
            await ws.close()
    frames = before + after
    assert [f["t"] for f in frames].count("RESUMED") == 1 and [f["t"] for f in before].count("RESUMED") == 0
    assert [f["d"]["id"] for f in frames if f["t"] == "MESSAGE_CREATE"] == posted
    seqs = [f["s"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert [f["d"]["id"] for f in watched] == posted  # the other session never noticed
    assert (await rt.directory.actor("guild-0").send(Stats()))["relays"] >= 1
    assert (await rt.directory.session_shard(0).stats())["sessions"] == 0  # it moved to edge 1
