"""A real discord.py bot against the real node: edges inside SessionShard actors, guilds on Ray."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime

BOT = Path(__file__).parents[1] / "gateway" / "discordpy_bot.py"
pytestmark = pytest.mark.ray


async def rest(
    session: aiohttp.ClientSession, method: str, url: str, token: str | None = None, **kw: object
) -> dict:
    """One REST call; a 429 is waited out and retried, as a client library does (the tests on
    this node share its rate-limit windows)."""
    headers = {"Authorization": f"Bot {token}"} if token else {}
    while True:
        async with session.request(method, url, headers=headers, **kw) as response:  # type: ignore[arg-type]
            assert response.headers["Content-Type"] == "application/json"
            body = await response.json()
            if response.status == 429:
                await asyncio.sleep(float(body["retry_after"]))
                continue
            assert response.status in (200, 201), body
            return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("compress", ["zstd-stream", "zlib-stream"])
async def test_discordpy_bot_on_the_ray_backed_node(edge_runtime: Runtime, compress: str) -> None:
    base = f"http://127.0.0.1:{edge_runtime.config.port}"
    api = f"{base}/api/v10"
    async with aiohttp.ClientSession() as http:
        bot = await rest(http, "POST", f"{api}/auth/register", json={"username": "robot", "bot": True})
        token = bot["token"]
        guild = await rest(http, "POST", f"{api}/guilds", token, json={"name": f"ray-{compress}"})
        channels = await rest(http, "GET", f"{api}/guilds/{guild['id']}/channels", token)
        channel = channels[0]
        await rest(
            http, "POST", f"{api}/channels/{channel['id']}/messages", token, json={"content": "earlier"}
        )
    env = {**os.environ, "RAYGUILD_TEST_NO_ZSTD": "1" if compress == "zlib-stream" else "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"],
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["compress"] == compress
    assert seen["user"] == "robot" and seen["guilds"] == [guild["name"]]
    assert seen["received_id"] == seen["sent_id"] and seen["received_guild"] == guild["name"]
    assert seen["history"] == ["hello from discord.py", "earlier"]
