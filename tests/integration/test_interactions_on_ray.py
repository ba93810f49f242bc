"""On the Ray-backed node: a user invokes a command through one edge, the bot's session on the
other edge receives INTERACTION_CREATE through the user path, and the bot's callback and the
@original read go to whichever edge; the interaction's state is in storage, not in an edge."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from rayguild.actors.runtime import Runtime
from rayguild.fanout.events import GUILD_MESSAGES, GUILDS

from .test_discordpy_on_ray import rest
from .test_membership_on_ray import next_dispatch
from .test_users_on_ray import identify

pytestmark = pytest.mark.ray


async def settled(ws: aiohttp.ClientWebSocketResponse) -> None:
    """A heartbeat sent after READY is acknowledged once the edge finished the Identify."""
    await ws.send_bytes(orjson.dumps({"op": 1, "d": None}))
    while orjson.loads((await ws.receive(timeout=30)).data)["op"] != 11:
        pass


async def test_interaction_across_edges(edge_runtime: Runtime) -> None:
    ports = [s["port"] for s in edge_runtime.ensure_started() if s.get("port")]
    assert len(ports) == 2
    apis = [f"http://127.0.0.1:{p}/api/v10" for p in ports]
    async with aiohttp.ClientSession() as http:
        bot = await rest(
            http, "POST", f"{apis[0]}/auth/register", json={"username": "ray-slash", "bot": True}
        )
        guild = await rest(http, "POST", f"{apis[0]}/guilds", bot["token"], json={"name": "ray-slash"})
        channel = (await rest(http, "GET", f"{apis[0]}/guilds/{guild['id']}/channels", bot["token"]))[0]
        app_id = bot["user"]["id"]
        user = await rest(http, "POST", f"{apis[1]}/auth/register", json={"username": "ray-user"})
        as_user = {"Authorization": user["token"]}
        invite = await rest(
            http, "POST", f"{apis[0]}/channels/{channel['id']}/invites", bot["token"], json={}
        )
        async with http.post(f"{apis[1]}/invites/{invite['code']}", headers=as_user) as joined:
            assert joined.status == 200, await joined.text()
        (command,) = await rest(
            http, "PUT", f"{apis[1]}/applications/{app_id}/guilds/{guild['id']}/commands", bot["token"],
            json=[{"name": "ping", "description": "Ping"}],
        )  # fmt: skip
        async with http.ws_connect(f"ws://127.0.0.1:{ports[0]}/?v=10&encoding=json") as ws:
            await identify(ws, bot["token"], GUILDS | GUILD_MESSAGES)
            await settled(ws)
            body = {"type": 2, "application_id": app_id, "channel_id": channel["id"], "nonce": "n",
                    "data": {"id": command["id"], "name": "ping", "type": 1}}  # fmt: skip
            async with http.post(f"{apis[1]}/interactions", json=body, headers=as_user) as response:
                assert response.status == 204, await response.text()
            got = (await next_dispatch(ws, "INTERACTION_CREATE"))["d"]
            assert got["data"]["name"] == "ping" and got["member"]["user"]["username"] == "ray-user"
            answer = {"type": 4, "data": {"content": "pong"}}
            path = f"/interactions/{got['id']}/{got['token']}/callback?with_response=true"
            callback = await rest(http, "POST", f"{apis[1]}{path}", json=answer)
            assert callback["resource"]["message"]["content"] == "pong"
            created = (await next_dispatch(ws, "MESSAGE_CREATE"))["d"]
            assert created["interaction_metadata"]["name"] == "ping"
        original = await rest(http, "GET", f"{apis[0]}/webhooks/{app_id}/{got['token']}/messages/@original")
        assert original["id"] == created["id"]
        again = f"{apis[0]}/interactions/{got['id']}/{got['token']}/callback"
        async with http.post(again, json=answer) as second:
            assert second.status == 400 and (await second.json())["code"] == 40060
