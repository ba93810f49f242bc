"""A real discord.js 14 bot (Node) against the real node: GET /gateway/bot, gateway, REST, history."""

from __future__ import annotations

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime
from tests.clients import discordjs_bots

from .test_discordpy_on_ray import rest

pytestmark = pytest.mark.ray


async def test_discordjs_bot_on_the_ray_backed_node(edge_runtime: Runtime) -> None:
    base = f"http://127.0.0.1:{edge_runtime.config.port}"
    api = f"{base}/api/v10"
    async with aiohttp.ClientSession() as http:
        bot = await rest(http, "POST", f"{api}/auth/register", json={"username": "jsbot", "bot": True})
        guild = await rest(http, "POST", f"{api}/guilds", bot["token"], json={"name": "discordjs"})
        channel = (await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", bot["token"]))[0]
        await rest(
            http, "POST", f"{api}/channels/{channel['id']}/messages", bot["token"], json={"content": "before"}
        )
    seen = await discordjs_bots.run("bot.mjs", base, bot["token"], channel["id"])
    assert seen["user"] == "jsbot" and seen["guilds"] == ["discordjs"]
    assert seen["received_id"] == seen["sent_id"] and seen["received_guild"] == "discordjs"
    assert seen["history"] == ["hello from discord.js", "before"]
