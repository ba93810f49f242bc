"""The real discord.py (unmodified but for its base URL) creates a public thread from a message
and a private one, posts in both, adds a member, archives and locks: the member receives the
private thread's message, a guild member outside it does not, and both receive the public one."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from .conftest import Edge
from .test_threads import INTENTS, _connect, _guild_of_three, _until

BOT = Path(__file__).with_name("discordpy_threads_bot.py")


async def test_discordpy_threads(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    channel, [(token, owner, owner_h), (alice_token, alice, _), (bob_token, _, _)] = await _guild_of_three(
        edge
    )
    alice_gw, bob_gw = await _connect(edge, alice_token, INTENTS), await _connect(edge, bob_token, INTENTS)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"], alice["id"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["public_is_thread"] and seen["thread_create"] == seen["public"]
    assert seen["own_message_in_thread"] and seen["private_type"] and seen["archived"]
    assert seen["members"] == sorted([owner["id"], alice["id"]])
    assert sorted(seen["active"]) == sorted([seen["public"], seen["private"]])
    assert seen["archived_private"] == [seen["private"]] and seen["archived_public"] == [seen["public"]]

    starter = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert starter["channel_id"] == channel["id"] and starter["content"] == "a topic"
    public_message = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert public_message["id"] == seen["public_message"] and public_message["channel_id"] == seen["public"]
    invited = (await alice_gw.dispatch("THREAD_CREATE"))["d"]
    assert invited["id"] == seen["private"] and invited["member"]["user_id"] == alice["id"]
    secret = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert secret["id"] == seen["private_message"] and secret["content"] == "for members only"
    archived = (await alice_gw.dispatch("THREAD_UPDATE"))["d"]
    assert archived["id"] == seen["private"] and archived["thread_metadata"]["locked"] is True

    marker = await edge.rest("POST", f"/channels/{channel['id']}/messages", owner_h, json={"content": "end"})
    from_threads = await _until(bob_gw, "MESSAGE_CREATE", "MESSAGE_CREATE", marker["id"])
    assert [m["id"] for m in from_threads if m["channel_id"] != channel["id"]] == [seen["public_message"]]
