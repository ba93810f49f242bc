"""Password accounts over REST: register, sign in, sign out, and sign-in's limits and errors."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from rayguild.http_api.auth import LOGIN_ATTEMPTS

API = "/api/v10"
Client = TestClient[Any, Any]


async def _register(client: Client, name: str, password: str) -> dict[str, Any]:
    response = await client.post(f"{API}/auth/register", json={"username": name, "password": password})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_register_sign_in_and_out(client: Client) -> None:
    registered = await _register(client, "Ada", "correct horse")
    me = await client.get(f"{API}/users/@me", headers={"Authorization": registered["token"]})
    assert (await me.json())["username"] == "Ada"

    login = await client.post(f"{API}/auth/login", json={"login": "ada", "password": "correct horse"})
    assert login.status == 200
    signed_in = await login.json()
    assert signed_in["user_id"] == registered["user_id"] and signed_in["token"] != registered["token"]

    out = await client.post(f"{API}/auth/logout", headers={"Authorization": signed_in["token"]})
    assert out.status == 204
    revoked = await client.get(f"{API}/users/@me", headers={"Authorization": signed_in["token"]})
    assert revoked.status == 401
    still = await client.get(f"{API}/users/@me", headers={"Authorization": registered["token"]})
    assert still.status == 200


async def test_errors_name_the_field(client: Client) -> None:
    await _register(client, "grace", "long enough")
    taken = await client.post(f"{API}/auth/register", json={"username": "Grace", "password": "another one"})
    assert taken.status == 400
    assert (await taken.json())["errors"]["username"]["_errors"][0]["code"] == "USERNAME_ALREADY_TAKEN"
    short = await client.post(f"{API}/auth/register", json={"username": "linus", "password": "short"})
    assert (await short.json())["errors"]["password"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    for login in ("grace", "nobody"):
        wrong = await client.post(f"{API}/auth/login", json={"login": login, "password": "not it!!"})
        body = await wrong.json()
        assert wrong.status == 400 and body["code"] == 50035
        assert body["errors"]["password"]["_errors"][0]["message"] == "Login or password is invalid."


async def test_sign_in_attempts_per_account_are_limited(client: Client) -> None:
    await _register(client, "margaret", "apollo eleven")

    async def attempt(password: str) -> tuple[int, dict[str, Any]]:
        answer = await client.post(f"{API}/auth/login", json={"login": "margaret", "password": password})
        return answer.status, await answer.json()

    # All at once: the bound is taken before the (slow) hash, so a loaded box's hashing time cannot
    # refill the bucket (one attempt per 30 s) between them. Below the per-address bound (20 a
    # minute), the per-account one (10) refuses the eleventh, whichever arrives last.
    answers = await asyncio.gather(
        *(attempt("guess me") for _ in range(LOGIN_ATTEMPTS)), attempt("apollo eleven")
    )
    limited = [body for status, body in answers if status == 429]
    assert len(limited) == 1 and sum(status == 400 for status, _ in answers) >= LOGIN_ATTEMPTS - 1
    assert (
        limited[0]["retry_after"] > 0
        and "Too many sign-in attempts for this account" in limited[0]["message"]
    )
