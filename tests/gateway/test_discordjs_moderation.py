"""A real discord.js 14 bot (Node) bans a member with message deletion, hears GUILD_BAN_ADD, and
reads the ban and its reason back from the audit log and the ban list (in-process edge)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

BOT_DIR = Path(__file__).parents[1] / "clients" / "discordjs"
Edge = Any


async def test_a_discordjs_bot_bans_and_reads_the_audit_log(edge: Edge) -> None:
    if not (BOT_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    edge.ctx.config = replace(edge.ctx.config, public_url=base)  # GET /gateway/bot names this server
    token, owner, guild, general = await edge.guild_with_bot()
    invite = await edge.rest("POST", f"/channels/{general['id']}/invites", owner, json={})
    _, spammer, spammer_headers = await edge.register("spammer")
    await edge.rest("POST", f"/invites/{invite['code']}", spammer_headers)
    spam = await edge.rest(
        "POST", f"/channels/{general['id']}/messages", spammer_headers, json={"content": "buy"}
    )
    proc = await asyncio.create_subprocess_exec(
        "node", "moderator.mjs", base, token, guild["id"], spammer["id"],
        cwd=BOT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert "error" not in seen, seen["error"]
    bot_id = (await edge.rest("GET", "/users/@me", owner))["id"]
    assert seen["ban_event"] == spammer["id"]
    assert seen["audit"] == [[22, "spam from discord.js", spammer["id"], bot_id]]
    assert seen["actions"][0] == 22
    assert seen["bans"] == [[spammer["id"], "spam from discord.js"]]
    history = await edge.rest("GET", f"/channels/{general['id']}/messages", owner)
    assert spam["id"] not in {m["id"] for m in history}
