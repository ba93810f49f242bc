"""``PATCH /users/@me``: username, display name and avatar (a data URI) are kept and shown, with
Discord's validation; the 2xx body is checked against Discord's OpenAPI description."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_matches_spec

Client = TestClient[Any, Any]
GIF = "data:image/gif;base64," + base64.b64encode(b"GIF89a" + b"\x00" * 32).decode()


async def test_a_user_changes_their_profile(client: Client, register: Any) -> None:
    alice, bob = await register("alice"), await register("bob")
    changed = await call(
        client,
        alice,
        "PATCH",
        "/users/@me",
        json={"username": "alicia", "global_name": "Alicia", "avatar": GIF},
    )
    assert_matches_spec("PATCH", "/users/@me", 200, changed)
    assert changed["username"] == "alicia" and changed["global_name"] == "Alicia"
    assert changed["avatar"].startswith("a_")
    assert (await call(client, alice, "GET", "/users/@me"))["avatar"] == changed["avatar"]
    assert (await call(client, bob, "GET", f"/users/{alice.id}"))["username"] == "alicia"
    cleared = await call(client, alice, "PATCH", "/users/@me", json={"avatar": None})
    assert cleared["avatar"] is None and cleared["username"] == "alicia"
    for body, field in (
        ({"username": "x"}, "username"),
        ({"username": "a@b"}, "username"),
        ({"avatar": "png"}, "avatar"),
    ):
        bad = await call(client, alice, "PATCH", "/users/@me", 400, json=body)
        assert bad["code"] == 50035 and field in bad["errors"]
