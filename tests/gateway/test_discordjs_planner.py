"""A real discord.js 14 bot (Node) creates a scheduled event and an auto-moderation rule, hears
their create events, lists them back, makes a guild template, then deletes the event and rule."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

BOT_DIR = Path(__file__).parents[1] / "clients" / "discordjs"
Edge = Any


async def test_a_discordjs_bot_plans_events_and_rules(edge: Edge) -> None:
    if not (BOT_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    edge.ctx.config = replace(edge.ctx.config, public_url=base)  # GET /gateway/bot names this server
    token, _, guild, _ = await edge.guild_with_bot()
    proc = await asyncio.create_subprocess_exec(
        "node", "planner.mjs", base, token, guild["id"],
        cwd=BOT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert "error" not in seen, seen["error"]
    assert seen["event_heard"] == "Launch party"
    assert seen["events"] == [["Launch party", "Rooftop", 1]]
    assert seen["rule_heard"] == "No links" and seen["rules"] == [["No links", ["*http*"]]]
    assert seen["template"] == ["Party kit", "Gateway Guild"]
    assert seen["left"] == [0, 0]
