"""A real discord.js 14 bot (Node) against the real node: GET /gateway/bot, gateway, REST, history."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime

from .test_discordpy_on_ray import rest

BOT_DIR = Path(__file__).parents[1] / "clients" / "discordjs"
pytestmark = pytest.mark.ray


async def test_discordjs_bot_on_the_ray_backed_node(edge_runtime: Runtime) -> None:
    if not (BOT_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")
    base = f"http://127.0.0.1:{edge_runtime.config.port}"
    api = f"{base}/api/v10"
    async with aiohttp.ClientSession() as http:
        bot = await rest(http, "POST", f"{api}/auth/register", json={"username": "jsbot", "bot": True})
        guild = await rest(http, "POST", f"{api}/guilds", bot["token"], json={"name": "discordjs"})
        channel = (await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", bot["token"]))[0]
        await rest(
            http, "POST", f"{api}/channels/{channel['id']}/messages", bot["token"], json={"content": "before"}
        )
    proc = await asyncio.create_subprocess_exec(
        "node", "bot.mjs", base, bot["token"], channel["id"],
        cwd=BOT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["user"] == "jsbot" and seen["guilds"] == ["discordjs"]
    assert seen["received_id"] == seen["sent_id"] and seen["received_guild"] == "discordjs"
    assert seen["history"] == ["hello from discord.js", "before"]
