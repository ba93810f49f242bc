"""Webhooks on the gateway: WEBHOOKS_UPDATE reaches the guild's sessions, and a real discord.py
bot creates a webhook, executes it, receives the webhook's message, edits it, sends a file through it and deletes it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from .conftest import Edge
from .test_interactions import settled

BOT = Path(__file__).with_name("discordpy_webhook_bot.py")


async def test_webhooks_update_and_webhook_messages(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    gateway = await edge.connect()
    await gateway.identify(token)
    await settled(gateway)
    hook = await edge.rest("POST", f"/channels/{channel['id']}/webhooks", headers, json={"name": "Bell"})
    update = (await gateway.dispatch("WEBHOOKS_UPDATE"))["d"]
    assert update == {"guild_id": guild["id"], "channel_id": channel["id"]}
    await edge.rest("POST", f"/webhooks/{hook['id']}/{hook['token']}", {}, json={"content": "ding"})
    message = (await gateway.dispatch("MESSAGE_CREATE"))["d"]
    assert message["content"] == "ding" and message["webhook_id"] == hook["id"]
    assert message["author"] == {**message["author"], "id": hook["id"], "username": "Bell", "bot": True}
    await edge.rest("DELETE", f"/webhooks/{hook['id']}", headers)
    assert (await gateway.dispatch("WEBHOOKS_UPDATE"))["d"]["channel_id"] == channel["id"]


async def test_discordpy_bot_uses_a_webhook(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, _, _, channel = await edge.guild_with_bot()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["created"] == "Relay" and seen["received"] == [True, "Courier", True]
    assert seen["edited"] == "edited by the hook"
    assert seen["file"] == ["note.txt", "hello from a file"]
    assert seen["listed"] == ["Relay"] and seen["after_delete"] == []
