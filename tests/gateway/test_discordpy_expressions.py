"""The real discord.py (unmodified but for its base URL) drives routes otherwise tested only with
raw HTTP: it makes a guild template from its guild, lists it, adds a coloured role and a channel, syncs
the template (which then holds both), edits and deletes it; uploads a
soundboard sound, lists, fetches, edits and deletes it; archives two threads and lists the
channel's archived threads. Each step asserts what the library parsed back, and the run must
complete every step (a bot that did nothing cannot pass). Two server fixes came from this: the
template snapshot's roles carried ``"colors": null`` (discord.py 2.6+ reads ``colors.primary_color``
and failed), and role create / modify ignored ``colors.primary_color``, which is how discord.py
2.6+ sends a role's colour."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from .conftest import Edge

BOT = Path(__file__).with_name("discordpy_expressions_bot.py")
STEPS = [
    "create_template", "templates", "sync_template", "edit_template", "delete_template",
    "create_soundboard_sound", "fetch_soundboard_sounds", "fetch_soundboard_sound",
    "edit_soundboard_sound", "delete_soundboard_sound", "archived_threads", "archived_threads_limit",
]  # fmt: skip


async def test_discordpy_templates_sounds_and_archived_threads(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, headers, guild, channel = await edge.guild_with_bot()
    me = await edge.rest("GET", "/users/@me", headers)
    channels = sorted(c["name"] for c in await edge.rest("GET", f"/guilds/{guild['id']}/channels", headers))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, guild["id"], channel["id"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert "error" not in seen, (seen, err.decode()[-3000:])
    assert seen["steps"] == STEPS

    template = seen["template"]
    assert template["name"] == "py-template" and template["description"] == "from discord.py"
    assert template["source_guild"] == guild["id"] and template["source_name"] == guild["name"]
    assert template["uses"] == 0 and template["creator"] == me["id"] and template["code"]
    assert seen["templates_listed"] == [template["code"]]
    assert template["roles"] == [["@everyone", 0]] and template["channels"] == channels
    synced = seen["synced"]
    assert synced["code"] == template["code"] and synced["is_dirty"] in (None, False) and synced["later"]
    assert synced["roles"] == [["@everyone", 0], ["py-role", 0x00AA55]]
    assert seen["role_colours"] == [0x3366FF, 0x00AA55]  # as discord.py 2.6+ sends it: colors.primary_color
    assert synced["channels"] == sorted([*channels, "py-later"])
    assert seen["template_edited"] == {"code": template["code"], "name": "py-renamed", "description": None}
    assert seen["templates_after_delete"] == []

    sound = seen["sound"]
    assert sound["name"] == "py-honk" and sound["volume"] == 0.5 and sound["emoji"] == "🔔"
    assert sound["available"] is True and sound["guild"] == guild["id"]
    assert seen["sounds_listed"] == [sound["id"]]
    assert seen["sound_fetched"] == {"id": sound["id"], "name": "py-honk", "user": me["id"]}
    assert seen["sound_edited"] == {"id": sound["id"], "name": "py-beep", "volume": 0.25, "emoji": None}
    assert seen["sounds_after_delete"] == []

    made = seen["archived_made"]
    assert len(made) == 2 and sorted(seen["archived_listed"]) == sorted(made)
    assert seen["archived_flags"] == [True, True]
    assert seen["archived_limited"] == [made[1]]  # newest archived first
    listed = await edge.rest("GET", f"/channels/{channel['id']}/threads/archived/public", headers)
    assert sorted(t["id"] for t in listed["threads"]) == sorted(made)
