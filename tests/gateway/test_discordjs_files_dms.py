"""The real discord.js 14 (unmodified but for its API base) uploads a file and downloads it from
its attachment URL, and DMs a user (``user.send``) whose own gateway session receives it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from rayguild.fanout.events import DIRECT_MESSAGES

from .conftest import Edge

BOT_DIR = Path(__file__).parents[1] / "clients" / "discordjs"


async def test_discordjs_uploads_downloads_and_dms(edge: Edge) -> None:
    if not (BOT_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")
    base = str(edge.client.make_url("")).rstrip("/")
    # discord.js connects to what GET /gateway/bot names: this test server's own port.
    edge.ctx.config = replace(edge.ctx.config, public_url=base)
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, headers, _, channel = await edge.guild_with_bot()
    _, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    human_gw = await edge.connect()
    await human_gw.identify(human_headers["Authorization"], intents=DIRECT_MESSAGES)
    proc = await asyncio.create_subprocess_exec(
        "node", "files_dms.mjs", base, token, channel["id"], human["id"],
        cwd=BOT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    # The bot has finished; its DM is waiting in the human's session.
    received = (await human_gw.dispatch("MESSAGE_CREATE"))["d"]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["blob_equal"]
    assert seen["attachment"] == {"name": "blob.bin", "size": 600 * 1024 + 3, "description": "random"}
    assert seen["dm_type"] == 1 and seen["dm_file"] == "js dm"
    assert received["id"] == seen["dm_message"] and received["channel_id"] == seen["dm_channel"]
    assert received["content"] == "hello from discord.js in a DM"
