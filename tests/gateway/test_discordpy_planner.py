"""A real discord.py bot creates, edits, lists and deletes a scheduled event and an auto-moderation
rule, receiving their gateway events; the rule then blocks a member's message with Discord's
error and the bot receives the action's execution."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

BOT = Path(__file__).with_name("discordpy_planner.py")
Edge = Any


async def test_a_discordpy_bot_plans_events_and_guards_the_guild(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, owner, guild, general = await edge.guild_with_bot()
    gid, gen = guild["id"], general["id"]
    invite = await edge.rest("POST", f"/channels/{gen}/invites", owner, json={})
    _, member, member_headers = await edge.register("fan", bot=False)
    await edge.rest("POST", f"/invites/{invite['code']}", member_headers)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, gid, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    ready = await asyncio.wait_for(proc.stdout.readline(), timeout=90)
    if ready.strip() == b"ready":  # else the bot failed first: its output says why
        response = await edge.client.post(f"/api/v10/channels/{gen}/messages", headers=member_headers,
                                          json={"content": "SPOILERS: it was a sled"})  # fmt: skip
        assert response.status == 400
        assert await response.json() == {"code": 200000, "message": "No spoilers here"}
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[:6000]
    seen = orjson.loads((ready + out).decode().strip().splitlines()[-1])
    assert "error" not in seen, seen["error"]
    assert (seen["event_created"], seen["event_updated"]) == ("Picnic", "Big picnic")
    assert seen["listed"] == [["Big picnic", "The park"]]
    assert seen["rule_created"] == "No spoilers" and seen["rules"] == [["No spoilers", ["spoiler*"]]]
    assert seen["action"] == [seen["rule_id"], "spoiler*", member["id"]]
    assert seen["left"] == [0, 0]
