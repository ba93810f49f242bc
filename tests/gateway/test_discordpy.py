"""A real discord.py 2.x bot logs in, reaches on_ready with its guild, sends a message over REST,
receives it as on_message and reads history: once over zstd-stream, once over zlib-stream (there
with the wire's idle sweep shortened, so the bot's zlib context is freed while discord.py waits
for its guilds, and the stream it reads after that continues from a fresh raw context)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from rayguild.http_api.keys import REGISTRY, WIRE

BOT = Path(__file__).with_name("discordpy_bot.py")
Edge = Any


@pytest.mark.parametrize("compress", ["zstd-stream", "zlib-stream"])
async def test_discordpy_bot_round_trip(edge: Edge, compress: str) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    wire = edge.client.app[WIRE]
    wire.idle_s = 0.3  # 10 s in service
    token, headers, guild, channel = await edge.guild_with_bot()
    await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "earlier"})
    env = {**os.environ, "RAYGUILD_TEST_NO_ZSTD": "1" if compress == "zlib-stream" else "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"],
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["compress"] == compress  # what discord.py asked for, and what the edge served:
    opened = edge.client.app[REGISTRY].get_sample_value(
        "rayguild_gateway_opened_total", {"compress": compress}
    )
    assert opened == 1
    assert seen["user"] == "robot" and seen["guilds"] == [guild["name"]]
    assert seen["members"] == ["robot"]
    assert seen["received_id"] == seen["sent_id"] and seen["received_guild"] == guild["name"]
    assert seen["history"] == ["hello from discord.py", "earlier"]
    if compress == "zlib-stream":
        assert wire.released >= 1, "the bot's context was never freed: the test proved nothing about it"
