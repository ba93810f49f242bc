"""Accounts, errors and headers: the floor every client library stands on."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from rayguild.http_api.auth import create_user, hash_token
from rayguild.http_api.local import LocalCluster

API = "/api/v10"
Client = TestClient[Any, Any]
Register = Any


async def test_register_then_me_with_bot_prefix(client: Client, register: Register) -> None:
    bot = await register("robot", bot=True)
    response = await client.get(f"{API}/users/@me", headers=bot.headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    me = await response.json()
    assert me["id"] == bot.id and me["bot"] is True and me["username"] == "robot"


async def test_bot_token_without_prefix_is_401_in_discord_shape(client: Client, register: Register) -> None:
    bot = await register("robot", bot=True)
    response = await client.get(f"{API}/users/@me", headers={"Authorization": bot.token})
    assert response.status == 401
    assert response.headers["Content-Type"] == "application/json"
    assert await response.json() == {"message": "401: Unauthorized", "code": 0}


async def test_user_token_is_bare(client: Client, register: Register) -> None:
    alice = await register("alice")
    assert (await client.get(f"{API}/users/@me", headers=alice.headers)).status == 200
    bad = await client.get(f"{API}/users/@me", headers={"Authorization": f"Bot {alice.token}"})
    assert bad.status == 401


async def test_token_is_stored_hashed(cluster: LocalCluster) -> None:
    ctx = await cluster.edge(1)
    user, token = await create_user(ctx.storage, ctx.snowflakes, "carol", False)
    assert await ctx.storage.user_by_token_hash(hash_token(token)) == user
    assert await ctx.storage.user_by_token_hash(token) is None


async def test_malformed_json_is_50109(client: Client, register: Register) -> None:
    alice = await register()
    response = await client.post(f"{API}/guilds", data=b"{nope", headers=alice.headers)
    assert response.status == 400
    assert await response.json() == {"code": 50109, "message": "The request body contains invalid JSON."}


async def test_validation_error_names_the_field(client: Client, register: Register) -> None:
    alice = await register()
    response = await client.post(f"{API}/guilds", json={"name": "x"}, headers=alice.headers)
    assert response.status == 400
    body = await response.json()
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"]["name"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"


async def test_unknown_route_and_method_are_json(client: Client, register: Register) -> None:
    alice = await register()
    missing = await client.get(f"{API}/nowhere", headers=alice.headers)
    assert missing.status == 404 and missing.headers["Content-Type"] == "application/json"
    assert (await missing.json())["code"] == 0
    wrong = await client.put(f"{API}/users/@me", headers=alice.headers)
    assert wrong.status == 405 and (await wrong.json())["message"] == "405: Method Not Allowed"


async def test_oversize_body_is_413(client: Client, register: Register) -> None:
    alice = await register()
    response = await client.post(f"{API}/guilds", data=b"x" * (300 * 1024), headers=alice.headers)
    assert response.status == 413
    assert (await response.json())["code"] == 40005


async def test_unknown_user_is_10013(client: Client, register: Register) -> None:
    alice = await register()
    response = await client.get(f"{API}/users/12345", headers=alice.headers)
    assert response.status == 404 and (await response.json())["code"] == 10013
    bad = await client.get(f"{API}/users/abc", headers=alice.headers)
    assert bad.status == 400 and (await bad.json())["code"] == 50035


async def test_gateway_urls(client: Client, register: Register) -> None:
    bot = await register("robot", bot=True)
    plain = await (await client.get(f"{API}/gateway")).json()
    assert plain["url"].startswith("ws://")
    full = await (await client.get(f"{API}/gateway/bot", headers=bot.headers)).json()
    assert full["shards"] == 1 and full["session_start_limit"]["max_concurrency"] == 1


async def test_application_of_a_bot(client: Client, register: Register) -> None:
    bot = await register("robot", bot=True)
    app = await (await client.get(f"{API}/oauth2/applications/@me", headers=bot.headers)).json()
    assert app["id"] == bot.id and app["owner"]["id"] == bot.id and app["flags"] == 0


async def test_health_and_metrics(client: Client, register: Register) -> None:
    await register()
    health = await client.get("/health")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    metrics = await (await client.get("/metrics")).text()
    assert (
        'rayguild_http_requests_total{method="POST",route="/api/v10/auth/register",status="201"}' in metrics
    )
