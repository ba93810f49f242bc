"""On the Ray-backed node: a bot uploads a file into a DM through one edge; the human, connected
to the other edge, receives MESSAGE_CREATE through the user path and downloads the file from
either edge (the bytes live in the blob store beside the storage, not in an edge)."""

from __future__ import annotations

import json
import os

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime
from rayguild.fanout.events import DIRECT_MESSAGES

from .test_discordpy_on_ray import rest
from .test_membership_on_ray import next_dispatch
from .test_users_on_ray import identify

pytestmark = pytest.mark.ray


async def test_a_dm_with_a_file_crosses_edges(edge_runtime: Runtime) -> None:
    ports = [s["port"] for s in edge_runtime.ensure_started() if s.get("port")]
    first, second = (f"http://127.0.0.1:{p}" for p in ports[:2])
    async with aiohttp.ClientSession() as http:
        bot = await rest(
            http, "POST", f"{first}/api/v10/auth/register", json={"username": "filebot", "bot": True}
        )
        human = await rest(http, "POST", f"{first}/api/v10/auth/register", json={"username": "filehuman"})
        guild = await rest(http, "POST", f"{first}/api/v10/guilds", bot["token"], json={"name": "ray-files"})
        channel = (await rest(http, "GET", f"{first}/api/v10/guilds/{guild['id']}/channels", bot["token"]))[0]
        invite = await rest(
            http, "POST", f"{first}/api/v10/channels/{channel['id']}/invites", bot["token"], json={}
        )
        async with http.post(
            f"{first}/api/v10/invites/{invite['code']}", headers={"Authorization": human["token"]}
        ) as r:
            assert r.status == 200, await r.text()
        async with http.ws_connect(f"ws://127.0.0.1:{ports[1]}/?v=10&encoding=json") as ws:
            await identify(ws, human["token"], DIRECT_MESSAGES)
            dm = await rest(http, "POST", f"{first}/api/v10/users/@me/channels", bot["token"],
                            json={"recipient_id": human["user"]["id"]})  # fmt: skip
            data = os.urandom(700 * 1024)
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("payload_json", json.dumps({"content": "for you"}))
            form.add_field("files[0]", data, filename="gift.bin", content_type="application/octet-stream")
            sent = await rest(
                http, "POST", f"{first}/api/v10/channels/{dm['id']}/messages", bot["token"], data=form
            )
            got = (await next_dispatch(ws, "MESSAGE_CREATE"))["d"]
            assert got["id"] == sent["id"] and got["channel_id"] == dm["id"] and got["content"] == "for you"
            (attachment,) = got["attachments"]
            path = attachment["url"].split("/", 3)[3]
            for base in (first, second):
                async with http.get(f"{base}/{path}") as response:
                    assert response.status == 200 and await response.read() == data
