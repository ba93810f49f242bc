"""Guilds, channels, roles, members, messages and invites through REST, with permissions."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from rayguild.fanout.permissions import SEND_MESSAGES, VIEW_CHANNEL

API = "/api/v10"
Client = TestClient[Any, Any]
Register = Any


async def _json(client: Client, method: str, path: str, account: Any, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=account.headers, **kw)
    assert response.status == status, await response.text()
    assert status == 204 or response.headers["Content-Type"] == "application/json"
    return None if status == 204 else await response.json()


async def _guild(client: Client, owner: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    guild = await _json(client, "POST", "/guilds", owner, 201, json={"name": "Test Guild"})
    channels = await _json(client, "GET", f"/guilds/{guild['id']}/channels", owner)
    return guild, channels[0]


async def _join(client: Client, owner: Any, channel: dict[str, Any], joiner: Any) -> None:
    invite = await _json(client, "POST", f"/channels/{channel['id']}/invites", owner, json={})
    await _json(client, "POST", f"/invites/{invite['code']}", joiner)


async def test_create_guild_has_everyone_and_general(client: Client, register: Register) -> None:
    owner = await register("owner")
    guild, general = await _guild(client, owner)
    assert guild["owner_id"] == owner.id
    assert [r["id"] for r in guild["roles"]] == [guild["id"]]  # @everyone has the guild's id
    assert general["name"] == "general" and general["type"] == 0
    members = await _json(client, "GET", f"/guilds/{guild['id']}/members?limit=10", owner)
    assert [m["user"]["id"] for m in members] == [owner.id]
    mine = await _json(client, "GET", "/users/@me/guilds", owner)
    assert mine[0]["id"] == guild["id"] and mine[0]["owner"] is True


async def test_messages_create_history_edit_delete(client: Client, register: Register) -> None:
    owner = await register("owner")
    _, general = await _guild(client, owner)
    path = f"/channels/{general['id']}/messages"
    sent = [await _json(client, "POST", path, owner, json={"content": f"m{i}"}) for i in range(5)]
    assert sent[0]["content"] == "m0" and sent[0]["author"]["id"] == owner.id
    newest_first = await _json(client, "GET", f"{path}?limit=3", owner)
    assert [m["content"] for m in newest_first] == ["m4", "m3", "m2"]
    before = await _json(client, "GET", f"{path}?before={sent[2]['id']}", owner)
    assert [m["content"] for m in before] == ["m1", "m0"]
    after = await _json(client, "GET", f"{path}?after={sent[2]['id']}", owner)
    assert sorted(m["content"] for m in after) == ["m3", "m4"]
    around = await _json(client, "GET", f"{path}?around={sent[2]['id']}&limit=3", owner)
    assert sorted(m["content"] for m in around) == ["m1", "m2", "m3"]
    both = await client.get(f"{API}{path}?before=1&after=2", headers=owner.headers)
    assert both.status == 400
    edited = await _json(client, "PATCH", f"{path}/{sent[0]['id']}", owner, json={"content": "new"})
    assert edited["content"] == "new" and edited["edited_timestamp"] is not None
    await _json(client, "DELETE", f"{path}/{sent[0]['id']}", owner, 204)
    gone = await client.get(f"{API}{path}/{sent[0]['id']}", headers=owner.headers)
    assert gone.status == 404 and (await gone.json())["code"] == 10008


async def test_message_content_bounds_and_nonce_idempotency(client: Client, register: Register) -> None:
    owner = await register("owner")
    _, general = await _guild(client, owner)
    path = f"/channels/{general['id']}/messages"
    empty = await client.post(f"{API}{path}", json={"content": ""}, headers=owner.headers)
    assert empty.status == 400 and (await empty.json())["code"] == 50006
    long = await client.post(f"{API}{path}", json={"content": "x" * 2001}, headers=owner.headers)
    assert long.status == 400 and "content" in (await long.json())["errors"]
    await _json(client, "POST", path, owner, json={"content": "x" * 2000})
    first = await _json(client, "POST", path, owner, json={"content": "once", "nonce": "n-1"})
    again = await _json(client, "POST", path, owner, json={"content": "once", "nonce": "n-1"})
    assert first["id"] == again["id"]
    history = await _json(client, "GET", f"{path}?limit=10", owner)
    assert [m["content"] for m in history].count("once") == 1


async def test_unknown_entities_have_discord_codes(client: Client, register: Register) -> None:
    owner = await register("owner")
    guild, general = await _guild(client, owner)
    for path, code in [
        ("/channels/1", 10003),
        ("/guilds/1", 10004),
        (f"/channels/{general['id']}/messages/1", 10008),
        (f"/guilds/{guild['id']}/members/1", 10007),
        ("/invites/nope", 10006),
    ]:
        response = await client.get(f"{API}{path}", headers=owner.headers)
        assert response.status == 404, path
        assert (await response.json())["code"] == code, path


async def test_invite_join_leave_and_kick(client: Client, register: Register) -> None:
    owner, bob = await register("owner"), await register("bob")
    guild, general = await _guild(client, owner)
    outsider = await client.get(f"{API}/guilds/{guild['id']}", headers=bob.headers)
    assert outsider.status == 403 and (await outsider.json())["code"] == 50001
    invite = await _json(client, "POST", f"/channels/{general['id']}/invites", owner, json={"max_uses": 5})
    looked_up = await (await client.get(f"{API}/invites/{invite['code']}")).json()
    assert looked_up["guild"]["id"] == guild["id"]
    await _json(client, "POST", f"/invites/{invite['code']}", bob)
    counted = await _json(client, "GET", f"/guilds/{guild['id']}?with_counts=true", owner)
    assert counted["approximate_member_count"] == 2  # from the guild process, not a storage scan
    assert (await _json(client, "GET", f"/guilds/{guild['id']}/members/{bob.id}", owner))["user"][
        "id"
    ] == bob.id
    await _json(client, "DELETE", f"/users/@me/guilds/{guild['id']}", bob, 204)
    owner_leaves = await client.delete(f"{API}/users/@me/guilds/{guild['id']}", headers=owner.headers)
    assert owner_leaves.status == 400
    await _json(client, "POST", f"/invites/{invite['code']}", bob)
    forbidden = await client.delete(f"{API}/guilds/{guild['id']}/members/{owner.id}", headers=bob.headers)
    assert forbidden.status == 403 and (await forbidden.json())["code"] == 50013
    await _json(client, "DELETE", f"/guilds/{guild['id']}/members/{bob.id}", owner, 204)
    members = await _json(client, "GET", f"/guilds/{guild['id']}/members?limit=1000", owner)
    assert [m["user"]["id"] for m in members] == [owner.id]
    await _json(client, "DELETE", f"/invites/{invite['code']}", owner)
    assert (await client.get(f"{API}/invites/{invite['code']}")).status == 404


async def test_members_paginate_with_after(client: Client, register: Register) -> None:
    owner = await register("owner")
    guild, general = await _guild(client, owner)
    joiners = [await register(f"user{i}") for i in range(4)]
    for joiner in joiners:
        await _join(client, owner, general, joiner)
    first = await _json(client, "GET", f"/guilds/{guild['id']}/members?limit=2", owner)
    rest = await _json(
        client, "GET", f"/guilds/{guild['id']}/members?limit=1000&after={first[-1]['user']['id']}", owner
    )
    ids = [m["user"]["id"] for m in first + rest]
    assert ids == sorted(ids, key=int) and len(ids) == 5
    bad = await client.get(f"{API}/guilds/{guild['id']}/members?limit=1001", headers=owner.headers)
    assert bad.status == 400


async def test_permissions_from_roles_and_overwrites(client: Client, register: Register) -> None:
    owner, bob = await register("owner"), await register("bob")
    guild, general = await _guild(client, owner)
    await _join(client, owner, general, bob)
    # A channel @everyone cannot see: bob gets 403 50001, the owner still sees it.
    hidden = await _json(client, "POST", f"/guilds/{guild['id']}/channels", owner, 201, json={
        "name": "staff", "permission_overwrites": [{"id": guild["id"], "type": 0, "deny": str(VIEW_CHANNEL)}],
    })  # fmt: skip
    blocked = await client.get(f"{API}/channels/{hidden['id']}", headers=bob.headers)
    assert blocked.status == 403 and (await blocked.json())["code"] == 50001
    assert (await client.get(f"{API}/channels/{hidden['id']}", headers=owner.headers)).status == 200
    # A read-only channel: bob may read but not send (50013).
    readonly = await _json(client, "POST", f"/guilds/{guild['id']}/channels", owner, 201, json={
        "name": "news", "permission_overwrites": [{"id": guild["id"], "type": 0, "deny": str(SEND_MESSAGES)}],
    })  # fmt: skip
    denied = await client.post(
        f"{API}/channels/{readonly['id']}/messages", json={"content": "hi"}, headers=bob.headers
    )
    assert denied.status == 403 and (await denied.json())["code"] == 50013
    # Bob cannot manage the guild, create channels or roles.
    for method, path, body in [
        ("PATCH", f"/guilds/{guild['id']}", {"name": "mine now"}),
        ("POST", f"/guilds/{guild['id']}/channels", {"name": "x"}),
        ("POST", f"/guilds/{guild['id']}/roles", {"name": "x"}),
        ("DELETE", f"/guilds/{guild['id']}", None),
    ]:
        response = await client.request(method, f"{API}{path}", json=body, headers=bob.headers)
        assert response.status == 403, (method, path)


async def test_roles_channels_guild_modify_and_delete(client: Client, register: Register) -> None:
    owner = await register("owner")
    guild, general = await _guild(client, owner)
    role = await _json(
        client, "POST", f"/guilds/{guild['id']}/roles", owner, json={"name": "mods", "permissions": "8192"}
    )
    assert role["permissions"] == "8192"
    roles = await _json(client, "GET", f"/guilds/{guild['id']}/roles", owner)
    assert {r["name"] for r in roles} == {"@everyone", "mods"}
    renamed = await _json(
        client, "PATCH", f"/channels/{general['id']}", owner, json={"name": "lobby", "topic": "hi"}
    )
    assert renamed["name"] == "lobby" and renamed["topic"] == "hi"
    patched = await _json(client, "PATCH", f"/guilds/{guild['id']}", owner, json={"name": "Renamed"})
    assert patched["name"] == "Renamed"
    extra = await _json(
        client, "POST", f"/guilds/{guild['id']}/channels", owner, 201, json={"name": "voice", "type": 2}
    )
    await _json(client, "DELETE", f"/channels/{extra['id']}", owner)
    assert (await client.get(f"{API}/channels/{extra['id']}", headers=owner.headers)).status == 404
    await _json(client, "DELETE", f"/guilds/{guild['id']}", owner, 204)
    assert (await client.get(f"{API}/guilds/{guild['id']}", headers=owner.headers)).status == 404


async def test_rate_limit_headers_and_429(client: Client, register: Register) -> None:
    owner = await register("owner")
    _, general = await _guild(client, owner)
    path = f"{API}/channels/{general['id']}/messages"
    statuses, last = [], None
    for i in range(6):
        last = await client.post(path, json={"content": str(i)}, headers=owner.headers)
        statuses.append(last.status)
    assert statuses == [200] * 5 + [429]
    assert last is not None
    body = await last.json()
    assert body["global"] is False and 0 < body["retry_after"] <= 1.0
    assert last.headers["X-RateLimit-Remaining"] == "0" and last.headers["X-RateLimit-Limit"] == "5"
    ok = await client.get(path, headers=owner.headers)
    for header in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
        assert f"X-RateLimit-{header}" in ok.headers
