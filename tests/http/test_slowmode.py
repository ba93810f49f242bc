"""Slowmode enforced on message create: a member's second message within ``rate_limit_per_user``
is 429 20016 with ``retry_after``; bots and members who may MANAGE_MESSAGES are unaffected; a
channel without slowmode never waits."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http import test_moderation
from tests.http.test_moderation import call

Client = TestClient[Any, Any]
client = test_moderation.client  # the edge with scaled-up limits: these tests post in bursts


async def test_slowmode_is_enforced(client: Client, register: Any) -> None:
    owner, member, bot = (
        await register("slowowner"),
        await register("chatty"),
        await register("slowbot", bot=True),
    )
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Slow"}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    invite = await call(client, owner, "POST", f"/channels/{channel}/invites", json={})
    for who in (member, bot):
        await call(client, who, "POST", f"/invites/{invite['code']}")
    send = f"/channels/{channel}/messages"
    for _ in range(3):  # no slowmode yet
        await call(client, member, "POST", send, json={"content": "quick"})
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 30})
    await call(client, member, "POST", send, json={"content": "first"})
    slowed = await call(client, member, "POST", send, 429, json={"content": "second"})
    assert slowed["code"] == 20016 and 0 < slowed["retry_after"] <= 30
    for who in (owner, bot):  # MANAGE_MESSAGES holders and bots are unaffected
        await call(client, who, "POST", send, json={"content": "one"})
        await call(client, who, "POST", send, json={"content": "two"})
    await call(client, owner, "PATCH", f"/channels/{channel}", json={"rate_limit_per_user": 0})
    await call(client, member, "POST", send, json={"content": "free again"})
