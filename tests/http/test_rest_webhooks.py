"""Webhooks over REST: create with MANAGE_WEBHOOKS, list by channel and guild, get / modify /
delete with and without the token, execute (wait, username and avatar override, components),
and the webhook's messages; Discord's error codes; every 2xx body against the OpenAPI spec."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter

from .helpers import API, Account, Register
from .test_openapi_shapes import assert_matches_spec

Client = TestClient[Any, Any]
HOOK = "/webhooks/{webhook_id}"
TOKEN = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"


async def _call(
    client: Client, who: Account | None, method: str, path: str, status: int = 200, **kw: Any
) -> Any:
    headers = who.headers if who is not None else {}
    response = await client.request(method, f"{API}{path}", headers=headers, **kw)
    assert response.status == status, await response.text()
    return None if status == 204 else await response.json()


async def register_on(client: Client, name: str) -> Account:
    response = await client.post(f"{API}/auth/register", json={"username": name, "bot": False})
    assert response.status == 201, await response.text()
    body = await response.json()
    return Account(body["token"], body["user"])


async def _guild(
    client: Client, register: Register
) -> tuple[Account, Account, dict[str, Any], dict[str, Any]]:
    owner, member = await register("owner"), await register("member")
    guild = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Hooks"})
    channel = (await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await _call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await _call(client, member, "POST", f"/invites/{invite['code']}")
    return owner, member, guild, channel


async def test_webhook_lifecycle(client: Client, register: Register) -> None:
    owner, member, guild, channel = await _guild(client, register)
    cid = channel["id"]
    created = await _call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": "Captain Hook"})
    assert_matches_spec("POST", "/channels/{channel_id}/webhooks", 200, created)
    assert created["type"] == 1 and created["channel_id"] == cid and created["token"]
    assert created["user"]["id"] == owner.id
    listed = await _call(client, owner, "GET", f"/channels/{cid}/webhooks")
    assert_matches_spec("GET", "/channels/{channel_id}/webhooks", 200, listed)
    by_guild = await _call(client, owner, "GET", f"/guilds/{guild['id']}/webhooks")
    assert_matches_spec("GET", "/guilds/{guild_id}/webhooks", 200, by_guild)
    assert [w["id"] for w in listed] == [w["id"] for w in by_guild] == [created["id"]]
    hook, token = f"/webhooks/{created['id']}", f"/webhooks/{created['id']}/{created['token']}"
    assert_matches_spec("GET", HOOK, 200, await _call(client, owner, "GET", hook))
    with_token = await _call(client, None, "GET", token)
    assert_matches_spec("GET", TOKEN, 200, with_token)
    assert "user" not in with_token and with_token["name"] == "Captain Hook"
    png = "data:image/png;base64,iVBORw0KGgo="
    renamed = await _call(client, owner, "PATCH", hook, json={"name": "Smee", "avatar": png})
    assert_matches_spec("PATCH", HOOK, 200, renamed)
    assert len(renamed["avatar"]) == 32 and renamed["name"] == "Smee"
    not_image = await _call(client, owner, "PATCH", hook, 400, json={"avatar": "http://x/y.png"})
    assert "avatar" in not_image["errors"]
    second = await _call(client, owner, "POST", f"/guilds/{guild['id']}/channels", 201, json={"name": "two"})
    moved = await _call(client, owner, "PATCH", hook, json={"channel_id": second["id"]})
    assert moved["channel_id"] == second["id"] and moved["name"] == "Smee"
    by_token = await _call(client, None, "PATCH", token, json={"name": "Pan"})
    assert_matches_spec("PATCH", TOKEN, 200, by_token)
    refused = await _call(client, None, "PATCH", token, 400, json={"channel_id": cid})
    assert refused["code"] == 50035
    assert (await _call(client, member, "GET", hook, 403))["code"] == 50013
    assert (await _call(client, member, "POST", f"/channels/{cid}/webhooks", 403, json={"name": "x"}))[
        "code"
    ] == 50013
    assert (await _call(client, None, "GET", f"{hook}/wrong-token", 401))["code"] == 50027
    bad = await _call(client, owner, "POST", f"/channels/{cid}/webhooks", 400, json={"name": "discord bot"})
    assert "name" in bad["errors"]
    await _call(client, None, "DELETE", token, 204)
    assert (await _call(client, owner, "GET", hook, 404))["code"] == 10015
    other = await _call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": "Other"})
    await _call(client, owner, "DELETE", f"/webhooks/{other['id']}", 204)
    assert await _call(client, owner, "GET", f"/guilds/{guild['id']}/webhooks") == []


async def test_execute_and_webhook_messages(client: Client, register: Register) -> None:
    owner, member, _, channel = await _guild(client, register)
    cid = channel["id"]
    created = await _call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": "Announcer"})
    token = f"/webhooks/{created['id']}/{created['token']}"
    assert await _call(client, None, "POST", token, 204, json={"content": "fire and forget"}) is None
    row = [{"type": 1, "components": [{"type": 2, "style": 5, "url": "https://example.com", "label": "Go"}]}]
    body = {"content": "hello", "username": "Herald", "embeds": [{"title": "News"}], "components": row}
    sent = await _call(client, None, "POST", f"{token}?wait=true", json=body)
    assert_matches_spec("POST", TOKEN, 200, sent)
    assert sent["webhook_id"] == created["id"] and sent["author"]["username"] == "Herald"
    assert sent["author"]["id"] == created["id"] and sent["embeds"][0]["title"] == "News"
    history = await _call(client, member, "GET", f"/channels/{cid}/messages")
    assert [m["content"] for m in history] == ["hello", "fire and forget"]
    assert history[0]["webhook_id"] == created["id"] and history[0]["author"]["username"] == "Herald"
    path = f"{token}/messages/{sent['id']}"
    fetched = await _call(client, None, "GET", path)
    assert_matches_spec("GET", MESSAGE, 200, fetched)
    edited = await _call(client, None, "PATCH", path, json={"content": "hello again"})
    assert_matches_spec("PATCH", MESSAGE, 200, edited)
    assert edited["content"] == "hello again" and edited["edited_timestamp"] is not None
    empty = await _call(client, None, "POST", f"{token}?wait=true", 400, json={})
    assert empty["code"] == 50006
    thread = await _call(client, None, "POST", f"{token}?thread_id=1", 400, json={"content": "x"})
    assert "thread_id" in thread["errors"]
    await _call(client, None, "DELETE", path, 204)
    assert (await _call(client, None, "GET", path, 404))["code"] == 10008
    assert [m["content"] for m in await _call(client, member, "GET", f"/channels/{cid}/messages")] == [
        "fire and forget"
    ]


async def test_malformed_webhook_requests_get_4xx_never_5xx(client: Client, register: Register) -> None:
    owner, _, _, channel = await _guild(client, register)
    created = await _call(client, owner, "POST", f"/channels/{channel['id']}/webhooks", json={"name": "Hook"})
    token = f"/webhooks/{created['id']}/{created['token']}"
    bad = [[], "x", {"content": 5}, {"embeds": "x"}, {"components": [{"type": 9}]}, {"username": 3, "content": "x"},
           {"flags": 64, "content": "x"}, {"avatar_url": 5, "content": "x"}]  # fmt: skip
    for body in bad:
        response = await client.post(f"{API}{token}?wait=true", json=body)
        assert 400 <= response.status < 500, (body, await response.text())
    for body in ([], {"name": ""}, {"name": 5}, {"avatar": 5}, {"channel_id": "x"}):
        response = await client.patch(f"{API}/webhooks/{created['id']}", json=body, headers=owner.headers)
        assert 400 <= response.status < 500, (body, await response.text())


async def test_webhook_url_and_its_own_rate_limit_outside_the_global_one(cluster: LocalCluster) -> None:
    """An incoming webhook carries its ``url``; executions are limited per webhook (5 per 2 s,
    shared by every caller) and never count against the per-address global limit. The limiter's
    clock stands still, so no bucket refills while the test runs."""
    app = build_app(await cluster.edge(0), RateLimiter(clock=lambda: 0.0))
    async with TestClient(TestServer(app)) as client:
        owner = await register_on(client, "owner")
        guild = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Limits"})
        cid = (await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]["id"]
        first, second = [
            await _call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": name})
            for name in ("First", "Second")
        ]
        assert first["url"].endswith(f"/api/v10/webhooks/{first['id']}/{first['token']}")
        path = first["url"][first["url"].index("/api/v10") :]
        statuses = [(await client.post(path, json={"content": str(i)})).status for i in range(6)]
        assert statuses == [204] * 5 + [429]
        refused = await client.post(path, json={"content": "again"})
        body = await refused.json()
        assert body["global"] is False and refused.headers["X-RateLimit-Scope"] == "shared"
        assert refused.headers["X-RateLimit-Limit"] == "5" and float(refused.headers["Retry-After"]) >= 1
        other = f"/webhooks/{second['id']}/{second['token']}"
        await _call(client, None, "POST", other, 204, json={"content": "unaffected"})
        for _ in range(45):  # with the 8 above: over the global 50 per address, none counted there
            await _call(client, None, "GET", other)
        await _call(client, None, "GET", f"/webhooks/{first['id']}/{first['token']}")
