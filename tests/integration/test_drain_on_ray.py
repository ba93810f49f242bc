"""Drains on real Ray: ``Drain`` on an edge's session shard sends its clients op 7, a peer edge on
the machine adopts its own port, and the clients (raw, and real discord.py and discord.js bots)
resume there with every message once, in order, and no re-identify."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import WSMsgType

from rayguild.actors.runtime import Runtime
from rayguild.config import Config
from rayguild.fanout.events import ALL_INTENTS
from rayguild.http_api.server import free_listen_ports
from tests.clients import discordjs_bots

from .test_discordpy_on_ray import rest

BOT = Path(__file__).parent / "discordpy_drain_bot.py"
MESSAGES, BEFORE = 12, 4
RECEIVE_TIMEOUT_S = 20.0
pytestmark = pytest.mark.ray


@pytest.fixture
def node(runtime: Runtime, ray_config: Config, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A node of two edges on the shared Ray cluster, in a namespace of its own (a drained edge
    stays drained)."""
    from rayguild.http_api.server import start_edge

    namespace = "rayguild-test-drain-" + re.sub(r"\W", "-", request.node.name.split("_")[-1])
    config = replace(
        ray_config, namespace=namespace, port=free_listen_ports(1), guild_shards=1, session_shards=2
    )
    rt = Runtime(config, edge_factory=start_edge)
    rt.start()  # Ray is already up: this only creates and starts the shards
    yield rt


async def _guild(http: aiohttp.ClientSession, api: str, name: str) -> tuple[str, str]:
    bot = await rest(http, "POST", f"{api}/auth/register", json={"username": name, "bot": True})
    guild = await rest(http, "POST", f"{api}/guilds", bot["token"], json={"name": name})
    channel = (await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", bot["token"]))[0]
    return bot["token"], channel["id"]


async def _holding_edge(rt: Runtime) -> int:
    """The session shard holding the only session."""
    counts = [(await rt.directory.session_shard(i).stats())["sessions"] for i in range(2)]
    assert sorted(counts) == [0, 1], counts
    return counts.index(1)


async def _post(http: aiohttp.ClientSession, api: str, token: str, channel: str, texts: list[str]) -> None:
    for text in texts:
        await rest(http, "POST", f"{api}/channels/{channel}/messages", token, json={"content": text})


async def test_a_raw_client_rides_through_a_drain(node: Runtime) -> None:
    public = f"http://127.0.0.1:{node.config.port}"
    texts = [str(i) for i in range(MESSAGES)]
    async with aiohttp.ClientSession() as http:
        token, channel = await _guild(http, f"{public}/api/v10", "raw-drain")
        ws = await http.ws_connect(f"{public.replace('http', 'ws')}/?v=10&encoding=json")
        await ws.receive(timeout=RECEIVE_TIMEOUT_S)  # Hello
        await ws.send_bytes(
            orjson.dumps({"op": 2, "d": {"token": token, "intents": ALL_INTENTS, "properties": {}}})
        )
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1].get("t") != "GUILD_CREATE":
            frames.append(orjson.loads((await ws.receive(timeout=RECEIVE_TIMEOUT_S)).data))
        ready = next(f for f in frames if f.get("t") == "READY")["d"]
        edge = await _holding_edge(node)
        await _post(http, f"{public}/api/v10", token, channel, texts[:BEFORE])
        poster = asyncio.create_task(_post(http, f"{public}/api/v10", token, channel, texts[BEFORE:]))
        assert await node.directory.session_shard(edge).drain() == 1
        seq, got, reconnect = 0, [], False
        while (msg := await ws.receive(timeout=RECEIVE_TIMEOUT_S)).type in (WSMsgType.BINARY, WSMsgType.TEXT):
            frame = orjson.loads(msg.data)
            reconnect = reconnect or frame["op"] == 7
            seq = frame["s"] or seq
            if frame.get("t") == "MESSAGE_CREATE":
                got.append(frame)
        assert reconnect, "no op 7"
        assert (msg.type, msg.data) == (WSMsgType.CLOSE, 4000), msg  # resumable
        # READY's resume_gateway_url: the drained edge's own port, adopted by the other edge
        again = await http.ws_connect(f"{ready['resume_gateway_url']}/?v=10&encoding=json")
        await again.receive(timeout=RECEIVE_TIMEOUT_S)  # Hello
        await again.send_bytes(
            orjson.dumps({"op": 6, "d": {"token": token, "session_id": ready["session_id"], "seq": seq}})
        )
        resumed = False
        while len(got) < MESSAGES:
            frame = orjson.loads((await again.receive(timeout=RECEIVE_TIMEOUT_S)).data)
            assert frame["op"] != 9, "the session was not resumed"
            resumed = resumed or frame.get("t") == "RESUMED"
            if frame.get("t") == "MESSAGE_CREATE":
                got.append(frame)
        await poster
        assert (await node.directory.session_shard(edge).stats())["sessions"] == 0  # it moved
        assert (await node.directory.session_shard(1 - edge).stats())["sessions"] == 1
        await again.close()
    assert resumed
    assert [f["d"]["content"] for f in got] == texts  # every message once, in order
    seqs = [f["s"] for f in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
async def test_a_real_bot_rides_through_a_drain(node: Runtime, library: str) -> None:
    public = f"http://127.0.0.1:{node.config.port}"
    texts = [f"drain {i}" for i in range(MESSAGES)]
    async with aiohttp.ClientSession() as http:
        token, channel = await _guild(http, f"{public}/api/v10", f"{library}-drain".replace(".", ""))
        if library == "discord.js":
            proc = await discordjs_bots.start("drain.mjs", public, token, str(MESSAGES))
        else:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BOT), public, token, str(MESSAGES),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        assert line.strip() == b"ready", line
        edge = await _holding_edge(node)
        await _post(http, f"{public}/api/v10", token, channel, texts[:BEFORE])
        poster = asyncio.create_task(_post(http, f"{public}/api/v10", token, channel, texts[BEFORE:]))
        assert await node.directory.session_shard(edge).drain() == 1
        await poster
        seen = await discordjs_bots.seen(proc, timeout_s=90)
    assert seen["messages"] == texts  # every message once, in order
    assert seen["ready"] == 1 and seen["resumed"] >= 1  # resumed, never identified again
    assert (await node.directory.session_shard(edge).stats())["sessions"] == 0
