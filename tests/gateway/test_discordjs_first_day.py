"""A real discord.js 14 bot's first day against an edge: embed, reply, reaction (and its event),
typing (and TYPING_START), pins through /messages/pins, a member role (and GUILD_MEMBER_UPDATE)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

BOT_DIR = Path(__file__).parents[1] / "clients" / "discordjs"
Edge = Any


async def test_discordjs_bot_first_day(edge: Edge) -> None:
    if not (BOT_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    # discord.js connects where GET /gateway/bot points: this edge's port.
    edge.ctx.config = replace(edge.ctx.config, public_url=base)
    token, headers, _, channel = await edge.guild_with_bot()
    _, other, other_headers = await edge.register("helper-to-be", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    proc = await asyncio.create_subprocess_exec(
        "node", "first_day.mjs", base, token, channel["id"], other["id"],
        cwd=BOT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["content"] == ""
    embed = seen["embed"]
    assert (embed["title"], embed["description"], embed["color"]) == ("Status", "all good", 0x00FF00)
    assert [f["name"] for f in embed["fields"]] == ["uptime", "load"] and embed["footer"][
        "text"
    ] == "rayguild"
    assert seen["reply"]["type"] == 19 and seen["reply"]["reference"] == seen["sent_id"]
    assert seen["reaction"] == {"emoji": "\N{THUMBS UP SIGN}", "user": seen["me"], "count": 1}
    assert seen["counts"] == [["\N{THUMBS UP SIGN}", 1, True]]
    assert seen["typing"] == seen["me"]
    assert seen["pins"] == [seen["sent_id"]]
    assert seen["roles"] == ["@everyone", "helper"]
