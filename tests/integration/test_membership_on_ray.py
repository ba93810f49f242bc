"""On the Ray-backed node: a join through one edge reaches the user's session on the other edge."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from rayguild.actors.runtime import Runtime

from .test_discordpy_on_ray import rest

pytestmark = pytest.mark.ray


async def next_dispatch(ws: aiohttp.ClientWebSocketResponse, t: str) -> dict:
    while True:
        frame = orjson.loads((await ws.receive(timeout=30)).data)
        if frame.get("t") == t:
            return frame  # type: ignore[no-any-return]


async def test_join_through_one_edge_reaches_a_session_on_the_other(edge_runtime: Runtime) -> None:
    ports = [s["port"] for s in edge_runtime.ensure_started() if s.get("port")]
    assert len(ports) == 2
    api = f"http://127.0.0.1:{ports[0]}/api/v10"
    async with aiohttp.ClientSession() as http:
        owner = await rest(http, "POST", f"{api}/auth/register", json={"username": "owner", "bot": True})
        joiner = await rest(http, "POST", f"{api}/auth/register", json={"username": "joiner", "bot": False})
        guild = await rest(http, "POST", f"{api}/guilds", owner["token"], json={"name": "across edges"})
        channel = (await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", owner["token"]))[0]
        async with http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as ws:  # the other edge
            await ws.receive()
            identify = {"token": joiner["token"], "intents": 1 | 1 << 9 | 1 << 15, "properties": {}}
            await ws.send_bytes(orjson.dumps({"op": 2, "d": identify}))
            assert (await next_dispatch(ws, "READY"))["d"]["guilds"] == []
            invite = await rest(
                http, "POST", f"{api}/channels/{channel['id']}/invites", owner["token"], json={}
            )
            joined = {"Authorization": joiner["token"]}
            async with http.post(f"{api}/invites/{invite['code']}", headers=joined) as response:
                assert response.status == 200
            assert (await next_dispatch(ws, "GUILD_CREATE"))["d"]["id"] == guild["id"]
            await rest(
                http,
                "POST",
                f"{api}/channels/{channel['id']}/messages",
                owner["token"],
                json={"content": "hi"},
            )
            assert (await next_dispatch(ws, "MESSAGE_CREATE"))["d"]["content"] == "hi"
