"""A real discord.py 2.x bot's first day against rayguild: embed, reply, reaction (and its event),
typing (and TYPING_START), pins, and a member role given and taken (and GUILD_MEMBER_UPDATE)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

BOT = Path(__file__).with_name("discordpy_rich_bot.py")
Edge = Any
THUMBS = "\N{THUMBS UP SIGN}"


async def test_discordpy_bot_first_day(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, headers, _, channel = await edge.guild_with_bot()
    _, other, other_headers = await edge.register("helper-to-be", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"], other["id"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen, err.decode()[-3000:]
    assert seen["content"] == ""
    embed = seen["embed"]
    assert (embed["title"], embed["description"], embed["color"]) == ("Status", "all good", 0x00FF00)
    assert [f["name"] for f in embed["fields"]] == ["uptime", "load"] and embed["footer"][
        "text"
    ] == "rayguild"
    assert seen["reply"] == {"type": "reply", "reference": seen["sent_id"], "resolved": seen["sent_id"],
                             "mentions": [seen["me"]]}  # fmt: skip
    assert seen["reaction"] == {"emoji": THUMBS, "user": seen["me"], "event": "REACTION_ADD"}
    assert seen["counts"] == [[THUMBS, 1, True]] and seen["removed"] == THUMBS
    assert seen["typing"] == seen["me"]
    assert seen["pins"] == [seen["sent_id"]]
    assert seen["roles_after_add"] == ["@everyone", "helper"]
    assert seen["roles_after_remove"] == ["@everyone"]
    history = await edge.rest("GET", f"/channels/{channel['id']}/messages", headers)
    assert [m["id"] for m in history[:2]] == [str(seen["reply_id"]), str(seen["sent_id"])]
