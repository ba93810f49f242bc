"""Reactions, pins, typing and member roles over REST: permissions, Discord's error codes,
counts with ``me`` on message objects, paging, and 2xx bodies that match the OpenAPI description."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from rayguild.http_api.local import LocalCluster
from rayguild.storage.models import Message
from tests.http.test_openapi_shapes import assert_matches_spec
from tests.http.test_rich_messages import call

Client = TestClient[Any, Any]
THUMBS = "\N{THUMBS UP SIGN}"
FAMILY = "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}"
KEYCAP = "1\ufe0f\u20e3"


@pytest.fixture
async def room(client: Client, register: Any) -> dict[str, Any]:
    owner, bot, other = await register("owner"), await register("robot", bot=True), await register("carol")
    guild = await call(client, owner, "POST", "/guilds", 201, json={"name": "Reacts"})
    cid = (await call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]["id"]
    invite = await call(client, owner, "POST", f"/channels/{cid}/invites", json={})
    for member in (bot, other):
        await call(client, member, "POST", f"/invites/{invite['code']}")
    message = await call(client, owner, "POST", f"/channels/{cid}/messages", json={"content": "react"})
    return {"owner": owner, "bot": bot, "other": other, "gid": guild["id"], "cid": cid, "mid": message["id"]}


def reactions(room: dict[str, Any], emoji: str = THUMBS) -> str:
    return f"/channels/{room['cid']}/messages/{room['mid']}/reactions/{quote(emoji)}"


async def test_react_count_list_and_remove(client: Client, room: dict[str, Any]) -> None:
    owner, bot, other = room["owner"], room["bot"], room["other"]
    for account in (bot, other, bot):
        await call(client, account, "PUT", reactions(room) + "/@me", 204)
    await call(client, bot, "PUT", reactions(room, "party:123456789012345678") + "/@me", 204)
    await call(client, bot, "PUT", reactions(room, FAMILY) + "/@me", 204)
    await call(client, bot, "PUT", reactions(room, KEYCAP) + "/@me", 204)
    seen = await call(client, bot, "GET", f"/channels/{room['cid']}/messages/{room['mid']}")
    assert_matches_spec("GET", "/channels/{channel_id}/messages/{message_id}", 200, seen)
    counts = {(r["emoji"]["name"], r["emoji"]["id"]): (r["count"], r["me"]) for r in seen["reactions"]}
    assert counts == {(THUMBS, None): (2, True), ("party", "123456789012345678"): (1, True),
                      (FAMILY, None): (1, True), (KEYCAP, None): (1, True)}  # fmt: skip
    as_owner = await call(client, owner, "GET", f"/channels/{room['cid']}/messages")
    assert {r["emoji"]["name"]: r["me"] for r in as_owner[0]["reactions"]}[THUMBS] is False
    users = await call(client, owner, "GET", reactions(room))
    assert_matches_spec(
        "GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}", 200, users
    )
    assert [u["id"] for u in users] == sorted([bot.id, other.id], key=int)
    first = users[0]["id"]
    page = await call(client, owner, "GET", reactions(room) + f"?after={first}&limit=1")
    assert [u["id"] for u in page] == [users[1]["id"]]
    await call(client, bot, "DELETE", reactions(room) + "/@me", 204)
    await call(client, bot, "DELETE", reactions(room) + "/@me", 204)  # already gone: still 204
    assert [u["id"] for u in await call(client, owner, "GET", reactions(room))] == [other.id]
    error = await call(client, bot, "DELETE", reactions(room) + f"/{other.id}", 403)
    assert error["code"] == 50013
    await call(client, owner, "DELETE", reactions(room) + f"/{other.id}", 204)
    assert await call(client, owner, "GET", reactions(room)) == []
    await call(client, owner, "DELETE", reactions(room, FAMILY), 204)
    await call(client, bot, "DELETE", f"/channels/{room['cid']}/messages/{room['mid']}/reactions", 403)
    await call(client, owner, "DELETE", f"/channels/{room['cid']}/messages/{room['mid']}/reactions", 204)
    cleared = await call(client, bot, "GET", f"/channels/{room['cid']}/messages/{room['mid']}")
    assert "reactions" not in cleared


@pytest.mark.parametrize("emoji", ["abc", "x:y", "^", "123", "a" + THUMBS, "name:notanid"])
async def test_unknown_emoji_is_10014(client: Client, room: dict[str, Any], emoji: str) -> None:
    error = await call(client, room["bot"], "PUT", reactions(room, emoji) + "/@me", 400)
    assert error["code"] == 10014


async def test_reaction_permissions_and_unknowns(client: Client, room: dict[str, Any]) -> None:
    owner, bot = room["owner"], room["bot"]
    deny = [{"id": room["gid"], "type": 0, "allow": "0", "deny": str(1 << 6)}]  # @everyone: no ADD_REACTIONS
    await call(client, owner, "PATCH", f"/channels/{room['cid']}", json={"permission_overwrites": deny})
    error = await call(client, bot, "PUT", reactions(room) + "/@me", 403)
    assert error["code"] == 50013  # no ADD_REACTIONS and nobody reacted with it yet
    await call(client, owner, "PUT", reactions(room) + "/@me", 204)
    await call(client, bot, "PUT", reactions(room) + "/@me", 204)  # joining an existing reaction
    missing = f"/channels/{room['cid']}/messages/1/reactions/{quote(THUMBS)}/@me"
    assert (await call(client, bot, "PUT", missing, 404))["code"] == 10008


async def test_twenty_emoji_at_most(client: Client, room: dict[str, Any]) -> None:
    for i in range(20):
        await call(client, room["owner"], "PUT", reactions(room, f"e{i:02d}:{1000 + i}") + "/@me", 204)
    error = await call(client, room["owner"], "PUT", reactions(room, "extra:99") + "/@me", 400)
    assert error["code"] == 30010


async def test_concurrent_adds_never_exceed_twenty_emoji(client: Client, room: dict[str, Any]) -> None:
    """Eight users' adds of new emoji race for the last two places; however they interleave, the
    message ends with at most 20 emoji, every 204 is among them and every refusal is 30010."""
    for i in range(18):
        await call(client, room["owner"], "PUT", reactions(room, f"e{i:02d}:{1000 + i}") + "/@me", 204)
    who = [room["owner"], room["bot"], room["other"]]
    racing = [(who[i % 3], f"race{i}:{2000 + i}") for i in range(8)]
    responses = await asyncio.gather(*(
        client.put(f"/api/v10{reactions(room, emoji)}/@me", headers=account.headers) for account, emoji in racing
    ))  # fmt: skip
    won = {emoji for (_, emoji), r in zip(racing, responses, strict=True) if r.status == 204}
    for response in responses:
        assert response.status == 204 or (await response.json())["code"] == 30010
    message = await call(client, room["owner"], "GET", f"/channels/{room['cid']}/messages/{room['mid']}")
    shown = {f"{r['emoji']['name']}:{r['emoji']['id']}" for r in message["reactions"]}
    assert len(shown) <= 20 and shown - {f"e{i:02d}:{1000 + i}" for i in range(18)} == won
    for i in range(20 - len(shown)):  # the places the race left free can still be taken, one by one
        await call(client, room["owner"], "PUT", reactions(room, f"late{i}:{3000 + i}") + "/@me", 204)
    error = await call(client, room["owner"], "PUT", reactions(room, "extra:99") + "/@me", 400)
    assert error["code"] == 30010


async def test_pins(client: Client, room: dict[str, Any]) -> None:
    owner, bot, cid = room["owner"], room["bot"], room["cid"]
    second = await call(client, owner, "POST", f"/channels/{cid}/messages", json={"content": "two"})
    error = await call(client, bot, "PUT", f"/channels/{cid}/pins/{room['mid']}", 403)
    assert error["code"] == 50013
    await call(client, owner, "PUT", f"/channels/{cid}/pins/{room['mid']}", 204)
    await call(client, owner, "PUT", f"/channels/{cid}/messages/pins/{second['id']}", 204)
    await call(client, owner, "PUT", f"/channels/{cid}/pins/{second['id']}", 204)  # again: no change
    legacy = await call(client, bot, "GET", f"/channels/{cid}/pins")
    assert_matches_spec("GET", "/channels/{channel_id}/pins", 200, legacy)
    assert [m["id"] for m in legacy] == [second["id"], room["mid"]]
    assert all(m["pinned"] for m in legacy)
    newer = await call(client, bot, "GET", f"/channels/{cid}/messages/pins?limit=1")
    assert_matches_spec("GET", "/channels/{channel_id}/messages/pins", 200, newer)
    assert newer["has_more"] is True and newer["items"][0]["message"]["id"] == second["id"]
    before = newer["items"][0]["pinned_at"]
    rest = await call(client, bot, "GET", f"/channels/{cid}/messages/pins?before={quote(before)}")
    assert [i["message"]["id"] for i in rest["items"]] == [room["mid"]] and rest["has_more"] is False
    await call(client, owner, "DELETE", f"/channels/{cid}/messages/pins/{room['mid']}", 204)
    unpinned = await call(client, bot, "GET", f"/channels/{cid}/messages/{room['mid']}")
    assert unpinned["pinned"] is False
    await call(client, owner, "DELETE", f"/channels/{cid}/messages/{second['id']}", 204)
    assert await call(client, bot, "GET", f"/channels/{cid}/pins") == []
    assert (await call(client, owner, "PUT", f"/channels/{cid}/pins/1", 404))["code"] == 10008


async def test_fifty_pins_at_most(client: Client, cluster: LocalCluster, room: dict[str, Any]) -> None:
    owner, cid = room["owner"], room["cid"]
    storage = cluster.storage_factory()  # the same file: 50 sends would hit the send rate limit
    await storage.start()
    for i in range(50):
        message = Message(id=(1 << 40) + i, channel_id=int(cid), author_id=int(owner.id), content="p")
        await storage.create_message(message)
        await call(client, owner, "PUT", f"/channels/{cid}/pins/{message.id}", 204)
    await storage.close()
    error = await call(client, owner, "PUT", f"/channels/{cid}/pins/{room['mid']}", 400)
    assert error["code"] == 30003


async def test_typing(client: Client, room: dict[str, Any]) -> None:
    response = await client.post(f"/api/v10/channels/{room['cid']}/typing", headers=room["bot"].headers)
    assert response.status == 204
    error = await call(client, room["bot"], "POST", "/channels/1/typing", 404)
    assert error["code"] == 10003


async def test_typing_is_limited_per_channel_and_user(client: Client, room: dict[str, Any]) -> None:
    path = f"/api/v10/channels/{room['cid']}/typing"
    statuses = [(await client.post(path, headers=room["bot"].headers)).status for _ in range(6)]
    assert statuses == [204] * 5 + [429]
    refused = await client.post(path, headers=room["bot"].headers)
    assert refused.headers["X-RateLimit-Limit"] == "5" and (await refused.json())["global"] is False
    assert (await client.post(path, headers=room["other"].headers)).status == 204  # another user
    second = await call(
        client, room["owner"], "POST", f"/guilds/{room['gid']}/channels", 201, json={"name": "b"}
    )
    other_channel = f"/api/v10/channels/{second['id']}/typing"
    assert (await client.post(other_channel, headers=room["bot"].headers)).status == 204


async def test_member_roles_and_hierarchy(client: Client, room: dict[str, Any]) -> None:
    owner, bot, other, gid = room["owner"], room["bot"], room["other"], room["gid"]
    # A new role goes on top: low (1) < manager (2) < high (3).
    low = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "low"})
    manager = await call(
        client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "mgr", "permissions": str(1 << 28)}
    )
    high = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "high"})
    assert (low["position"], manager["position"], high["position"]) == (1, 2, 3)
    roles_path = f"/guilds/{gid}/members/{other.id}/roles"
    assert (await call(client, bot, "PUT", f"{roles_path}/{low['id']}", 403))["code"] == 50013
    await call(client, owner, "PUT", f"/guilds/{gid}/members/{bot.id}/roles/{manager['id']}", 204)
    await call(client, bot, "PUT", f"{roles_path}/{low['id']}", 204)
    await call(client, bot, "PUT", f"{roles_path}/{low['id']}", 204)  # again: no change
    member = await call(client, bot, "GET", f"/guilds/{gid}/members/{other.id}")
    assert member["roles"] == [low["id"]]
    for role in (manager, high):  # at or above the bot's highest role
        assert (await call(client, bot, "PUT", f"{roles_path}/{role['id']}", 403))["code"] == 50013
    await call(client, owner, "PUT", f"{roles_path}/{high['id']}", 204)  # the owner may give any
    await call(client, bot, "DELETE", f"{roles_path}/{low['id']}", 204)
    member = await call(client, bot, "GET", f"/guilds/{gid}/members/{other.id}")
    assert member["roles"] == [high["id"]]
    assert (await call(client, owner, "PUT", f"{roles_path}/1", 404))["code"] == 10011
    assert (await call(client, owner, "PUT", f"/guilds/{gid}/members/1/roles/{low['id']}", 404))[
        "code"
    ] == 10007


async def test_concurrent_role_changes_are_all_kept(client: Client, room: dict[str, Any]) -> None:
    owner, other, gid = room["owner"], room["other"], room["gid"]
    roles = [
        (await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": f"r{i}"}))["id"]
        for i in range(6)
    ]
    path = f"/api/v10/guilds/{gid}/members/{other.id}"
    await call(client, owner, "PUT", f"/guilds/{gid}/members/{other.id}/roles/{roles[0]}", 204)
    responses = await asyncio.gather(
        *(client.put(f"{path}/roles/{role}", headers=owner.headers) for role in roles[1:]),
        client.delete(f"{path}/roles/{roles[0]}", headers=owner.headers),
        client.patch(path, json={"nick": "Racer"}, headers=owner.headers),
    )  # fmt: skip
    assert [r.status for r in responses] == [204] * 6 + [200]
    member = await call(client, owner, "GET", f"/guilds/{gid}/members/{other.id}")
    assert member["nick"] == "Racer" and sorted(member["roles"]) == sorted(roles[1:])


async def test_edit_member_nick_and_roles(client: Client, room: dict[str, Any]) -> None:
    owner, bot, other, gid = room["owner"], room["bot"], room["other"], room["gid"]
    low = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "low"})
    path = f"/guilds/{gid}/members/{other.id}"
    edited = await call(client, owner, "PATCH", path, json={"nick": "Caz", "roles": [low["id"]]})
    assert_matches_spec("PATCH", "/guilds/{guild_id}/members/{user_id}", 200, edited)
    assert (edited["nick"], edited["roles"], edited["user"]["id"]) == ("Caz", [low["id"]], other.id)
    assert (await call(client, bot, "PATCH", path, 403, json={"nick": "x"}))["code"] == 50013
    assert (await call(client, bot, "PATCH", path, 403, json={"roles": []}))["code"] == 50013
    error = await call(client, owner, "PATCH", path, 400, json={"roles": ["1"]})
    assert error["code"] == 50035 and "roles" in error["errors"]
    mine = await call(client, other, "PATCH", f"/guilds/{gid}/members/@me", json={"nick": "Me"})
    assert_matches_spec("PATCH", "/guilds/{guild_id}/members/@me", 200, mine)
    assert mine["nick"] == "Me"
    cleared = await call(client, owner, "PATCH", path, json={"nick": None, "roles": []})
    assert (cleared["nick"], cleared["roles"]) == (None, [])
    assert (await call(client, owner, "PATCH", f"/guilds/{gid}/members/1", 404, json={}))["code"] == 10007
