"""On the Ray-backed node: threads created through one edge reach sessions on the other. A
public thread's message goes through the guild shard (gated by its parent); a private thread's
through the user path to its members only, so a guild member outside it receives nothing."""

from __future__ import annotations

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime

from .test_discordpy_on_ray import rest
from .test_membership_on_ray import next_dispatch
from .test_users_on_ray import identify

pytestmark = pytest.mark.ray
INTENTS = 1 | 1 << 9 | 1 << 15  # GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT


async def test_thread_messages_cross_edges_to_who_may_see_them(edge_runtime: Runtime) -> None:
    ports = [s["port"] for s in edge_runtime.ensure_started() if s.get("port")]
    api = f"http://127.0.0.1:{ports[0]}/api/v10"
    # Registered through the second edge: each edge limits /auth/register per address on its own,
    # and the other tests register through the first.
    register = f"http://127.0.0.1:{ports[1]}/api/v10/auth/register"
    async with aiohttp.ClientSession() as http:
        owner = await rest(http, "POST", register, json={"username": "t-owner", "bot": True})
        users = [
            await rest(http, "POST", register, json={"username": name, "bot": True})
            for name in ("t-member", "t-outsider")
        ]
        guild = await rest(http, "POST", f"{api}/guilds", owner["token"], json={"name": "ray-threads"})
        channel = (await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", owner["token"]))[0]
        c = channel["id"]
        for user in users:
            invite = await rest(http, "POST", f"{api}/channels/{c}/invites", owner["token"], json={})
            await rest(http, "POST", f"{api}/invites/{invite['code']}", user["token"])
        member, outsider = users
        async with (
            http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as member_ws,
            http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as outsider_ws,
        ):
            await identify(member_ws, f"Bot {member['token']}", INTENTS)
            await identify(outsider_ws, f"Bot {outsider['token']}", INTENTS)
            for ws in (member_ws, outsider_ws):
                await next_dispatch(ws, "GUILD_CREATE")
            public = await rest(http, "POST", f"{api}/channels/{c}/threads", owner["token"],
                                json={"name": "open", "type": 11})  # fmt: skip
            private = await rest(http, "POST", f"{api}/channels/{c}/threads", owner["token"],
                                 json={"name": "closed", "type": 12})  # fmt: skip
            async with http.put(f"{api}/channels/{private['id']}/thread-members/{member['user']['id']}",
                                headers={"Authorization": f"Bot {owner['token']}"}) as response:  # fmt: skip
                assert response.status == 204
            invited = (await next_dispatch(member_ws, "THREAD_CREATE"))["d"]
            while invited["id"] != private["id"]:  # the public thread's THREAD_CREATE may come first
                invited = (await next_dispatch(member_ws, "THREAD_CREATE"))["d"]
            secret = await rest(http, "POST", f"{api}/channels/{private['id']}/messages", owner["token"],
                                json={"content": "members only"})  # fmt: skip
            got = (await next_dispatch(member_ws, "MESSAGE_CREATE"))["d"]
            assert got["id"] == secret["id"] and got["channel_id"] == private["id"]
            said = await rest(http, "POST", f"{api}/channels/{public['id']}/messages", owner["token"],
                              json={"content": "everyone"})  # fmt: skip
            for ws in (member_ws, outsider_ws):
                got = (await next_dispatch(ws, "MESSAGE_CREATE"))["d"]
                assert got["id"] == said["id"] and got["channel_id"] == public["id"]
