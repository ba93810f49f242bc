"""On the Ray-backed node: an event addressed to a user reaches the user's sessions on both edges."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from rayguild.actors.refs import Users
from rayguild.actors.runtime import Runtime
from rayguild.fanout.events import DIRECT_MESSAGES, GUILDS

from .test_discordpy_on_ray import rest
from .test_membership_on_ray import next_dispatch

pytestmark = pytest.mark.ray


async def identify(ws: aiohttp.ClientWebSocketResponse, token: str, intents: int) -> None:
    await ws.receive()  # HELLO
    await ws.send_bytes(orjson.dumps({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}}))
    await next_dispatch(ws, "READY")


async def test_deliver_reaches_every_session_of_the_user_in_order_on_both_edges(
    edge_runtime: Runtime,
) -> None:
    ports = [s["port"] for s in edge_runtime.ensure_started() if s.get("port")]
    assert len(ports) == 2
    api = f"http://127.0.0.1:{ports[0]}/api/v10"
    users = Users(edge_runtime.directory)
    async with aiohttp.ClientSession() as http:
        alice = await rest(http, "POST", f"{api}/auth/register", json={"username": "alice-u", "bot": True})
        async with (
            http.ws_connect(f"ws://127.0.0.1:{ports[0]}/?v=10&encoding=json") as first,
            http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as second,
            http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as gated,
        ):
            await identify(first, alice["token"], GUILDS | DIRECT_MESSAGES)
            await identify(second, alice["token"], GUILDS | DIRECT_MESSAGES)
            await identify(gated, alice["token"], GUILDS)  # no DIRECT_MESSAGES: skips gated events
            for n in range(3):
                await users.deliver(
                    [int(alice["user"]["id"])], "NOTE_CREATE", {"n": n}, intent=DIRECT_MESSAGES
                )
            await users.deliver([int(alice["user"]["id"])], "NOTE_DONE", {})
            for ws in (first, second):
                got = [(await next_dispatch(ws, "NOTE_CREATE"))["d"]["n"] for _ in range(3)]
                assert got == [0, 1, 2]
                assert (await next_dispatch(ws, "NOTE_DONE"))["d"] == {}
            frame = orjson.loads((await gated.receive(timeout=30)).data)
            assert frame["t"] == "NOTE_DONE"  # the gated events never reached it
