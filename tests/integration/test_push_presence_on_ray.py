"""Push and presence shards as real Ray actors, killed and restarted by Ray.

A push shard killed while its deliveries were failing replays its outbox after the restart and
the webhook accepts each notification once; a presence shard killed while sessions were live
rebuilds from the edges and every watching session gets one PRESENCES_REPLACE.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from rayguild.actors.commands import Start, Stats
from rayguild.actors.push import PushRequest
from rayguild.actors.refs import Presences
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.webhook_sink import WebhookSink
from rayguild.errors import ShardUnavailable
from rayguild.fanout.events import ALL_INTENTS
from rayguild.storage import Device, SqliteStorage

pytestmark = pytest.mark.ray


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    hook = WebhookSink()
    await hook.start()
    yield hook
    await hook.stop()


async def restarted(runtime: Runtime, name: str) -> dict[str, Any]:
    """Kill ``name`` (Ray restarts it) and call its ``start`` as ``Runtime.watch`` does."""
    ref = runtime.directory.actor(name)
    before = (await ref.send(Stats()))["pid"]
    ref.kill(restart=True)
    for _ in range(300):
        try:
            if (await ref.send(Stats()))["pid"] != before:  # the new incarnation answers
                return dict(await ref.send(Start()))
        except ShardUnavailable:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{name} did not come back")


async def test_a_killed_push_shard_replays_its_outbox_and_delivers_once(
    runtime: Runtime, sink: WebhookSink
) -> None:
    storage = SqliteStorage(runtime.config.sqlite_path)
    await storage.start()
    user = 987_654_321
    await storage.put_device(Device(user, "webhook", sink.url))
    sink.down = True
    accepted = await Presences(runtime.directory).push_if_offline(
        [PushRequest("ray-1", user, "dm", {"x": 1})]
    )
    assert accepted == 1  # durable in push-0's outbox
    for _ in range(300):
        if sink.attempts:
            break
        await asyncio.sleep(0.02)
    assert sink.attempts and not sink.accepted
    sink.down = False
    started = await restarted(runtime, "push-0")
    assert started["replayed"] >= 1
    await sink.wait_accepted(1, timeout_s=30)
    await asyncio.sleep(0.5)
    assert len(sink.accepted) == 1 and sink.duplicates == 0
    await storage.close()


async def _identify(http: aiohttp.ClientSession, port: int, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/?v=10&encoding=json")
    await ws.receive()
    await ws.send_str(
        orjson.dumps({"op": 2, "d": {"token": token, "intents": ALL_INTENTS, "properties": {}}}).decode()
    )
    await _next(ws, "READY")
    return ws


async def _next(ws: aiohttp.ClientWebSocketResponse, t: str, timeout_s: float = 30.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout_s):
        async for msg in ws:
            frame: dict[str, Any] = orjson.loads(msg.data)
            if frame.get("t") == t:
                return frame
    raise ConnectionError(f"socket closed before {t}")


async def test_a_killed_presence_shard_rebuilds_and_sessions_resync(edge_runtime: Runtime) -> None:
    base = f"http://127.0.0.1:{edge_runtime.config.port}/api/v10"
    async with aiohttp.ClientSession() as http:

        async def rest(method: str, path: str, token: str | None = None, bot: bool = True, **kw: Any) -> Any:
            """One REST call; a 429 is waited out and retried, as a client library does (other
            tests on this edge register users too, within the same rate-limit window)."""
            headers = {"Authorization": ("Bot " if bot else "") + token} if token else {}
            while True:
                async with http.request(method, base + path, headers=headers, **kw) as response:
                    if response.status == 429:
                        await asyncio.sleep(float((await response.json())["retry_after"]))
                        continue
                    assert response.status < 300, await response.text()
                    return await response.json()

        bot = (await rest("POST", "/auth/register", json={"username": "presence-bot", "bot": True}))["token"]
        human = await rest("POST", "/auth/register", json={"username": "presence-human", "bot": False})
        guild = await rest("POST", "/guilds", bot, json={"name": "Presence on Ray"})
        channel = (await rest("GET", f"/guilds/{guild['id']}/channels", bot))[0]
        invite = await rest("POST", f"/channels/{channel['id']}/invites", bot, json={})
        await rest("POST", f"/invites/{invite['code']}", human["token"], bot=False)
        watcher = await _identify(http, edge_runtime.config.port, bot)
        person = await _identify(http, edge_runtime.config.port, human["token"])

        await restarted(edge_runtime, "presence-0")
        replace = await _next(watcher, "PRESENCES_REPLACE")
        shown = {p["user"]["id"]: p["status"] for p in replace["d"] if p["guild_id"] == guild["id"]}
        assert shown.get(human["user"]["id"]) == "online"

        await person.send_str(orjson.dumps({"op": 3, "d": {"status": "dnd", "activities": []}}).decode())
        while True:
            update = await _next(watcher, "PRESENCE_UPDATE")
            if update["d"]["user"]["id"] == human["user"]["id"] and update["d"]["status"] == "dnd":
                break
        await watcher.close()
        await person.close()
