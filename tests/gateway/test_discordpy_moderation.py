"""A real discord.py bot moderates a guild: a timed-out member then cannot post, a ban deletes the
member's recent messages, a bulk delete reaches the bot as one event, the audit log reads back
with the reasons the bot gave, and a member overwrite hides a channel from a member whose session
stops receiving its messages at once (the order of her events proves it, no timing)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from rayguild.fanout.events import GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT

BOT = Path(__file__).with_name("discordpy_moderator.py")
Edge = Any


async def test_a_discordpy_bot_moderates(edge: Edge) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, owner, guild, general = await edge.guild_with_bot()
    gid, gen = guild["id"], general["id"]
    secret = await edge.rest("POST", f"/guilds/{gid}/channels", owner, json={"name": "secret"})
    invite = await edge.rest("POST", f"/channels/{gen}/invites", owner, json={})
    people = {}
    for name in ("alice", "bob", "carol"):
        people[name] = await edge.register(name)
        await edge.rest("POST", f"/invites/{invite['code']}", people[name][2])
    alice_headers, bob_headers = people["alice"][2], people["bob"][2]
    spam = [await edge.rest("POST", f"/channels/{gen}/messages", alice_headers, json={"content": f"spam {i}"})
            for i in range(3)]  # fmt: skip
    carol = await edge.connect()
    await carol.identify(people["carol"][0], intents=GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT)
    ids = [people[n][1]["id"] for n in ("alice", "bob", "carol")]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, gid, gen, secret["id"], *ids,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[:6000]
    seen = orjson.loads(out.decode().strip().splitlines()[-1])
    assert "error" not in seen, seen["error"]
    alice_id, bob_id, carol_id = ids

    # bob is timed out: discord.py sees it and bob's post is refused
    assert seen["bob_timed_out"] is True
    response = await edge.client.post(f"/api/v10/channels/{gen}/messages", headers=bob_headers,
                                      json={"content": "let me talk"})  # fmt: skip
    assert response.status == 403 and (await response.json())["code"] == 50013
    # alice is banned, her messages of the last hour are gone
    assert seen["banned"] == alice_id and seen["bans"] == [alice_id]
    history = await edge.rest("GET", f"/channels/{gen}/messages?limit=100", owner)
    assert not {m["id"] for m in history} & {m["id"] for m in spam}
    # the bulk delete reached the bot as one MESSAGE_DELETE_BULK with exactly its ids
    assert seen["bulk_sent"] in seen["bulk_events"]
    # the audit log, newest first, with the reasons discord.py sent
    audit = [tuple(e) for e in seen["audit"]]
    assert ("overwrite_create", "private", secret["id"]) in audit
    assert ("message_bulk_delete", "cleanup", gen) in audit
    assert ("ban", "spam", alice_id) in audit
    assert ("member_update", "calm down", bob_id) in audit
    order = [a[0] for a in audit]
    assert order.index("overwrite_create") < order.index("ban") < order.index("member_update")
    # carol heard "before" in the secret channel but not "after": the overwrite took effect at once
    heard = []
    while True:
        frame = await carol.dispatch("MESSAGE_CREATE")
        heard.append((frame["d"]["channel_id"], frame["d"]["content"]))
        if frame["d"]["content"] == "marker":
            break
    in_secret = [content for channel, content in heard if channel == secret["id"]]
    assert in_secret == ["before"]
    assert carol_id not in {m["user"]["id"] for m in await edge.rest("GET", f"/guilds/{gid}/bans", owner)}
