"""REST responses validate against the schemas of Discord's own OpenAPI description (vendored in
docs/openapi/; see tests/http/spec.py)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.http.spec import assert_matches_spec

API = "/api/v10"
Client = TestClient[Any, Any]
Register = Any


async def _call(client: Client, account: Any, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=account.headers, **kw)
    assert response.status == status, await response.text()
    return await response.json()


@pytest.fixture
async def world(client: Client, register: Register) -> dict[str, Any]:
    owner, bot = await register("owner"), await register("robot", bot=True)
    guild = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Spec Guild"})
    channel = (await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await _call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await _call(client, bot, "POST", f"/invites/{invite['code']}")
    message = await _call(client, bot, "POST", f"/channels/{channel['id']}/messages", json={"content": "hi"})
    return {
        "owner": owner,
        "bot": bot,
        "guild": guild,
        "channel": channel,
        "invite": invite,
        "message": message,
    }


CASES = [
    ("GET", "/users/@me", "/users/@me", "bot", 200),
    ("GET", "/users/{user_id}", "/users/{owner}", "bot", 200),
    ("GET", "/users/@me/guilds", "/users/@me/guilds", "bot", 200),
    ("GET", "/oauth2/applications/@me", "/oauth2/applications/@me", "bot", 200),
    ("GET", "/gateway", "/gateway", "bot", 200),
    ("GET", "/gateway/bot", "/gateway/bot", "bot", 200),
    ("GET", "/guilds/{guild_id}", "/guilds/{guild}?with_counts=true", "bot", 200),
    ("GET", "/guilds/{guild_id}/channels", "/guilds/{guild}/channels", "bot", 200),
    ("GET", "/guilds/{guild_id}/roles", "/guilds/{guild}/roles", "bot", 200),
    ("GET", "/guilds/{guild_id}/members", "/guilds/{guild}/members?limit=10", "bot", 200),
    ("GET", "/guilds/{guild_id}/members/{user_id}", "/guilds/{guild}/members/{owner}", "bot", 200),
    ("GET", "/channels/{channel_id}", "/channels/{channel}", "bot", 200),
    ("GET", "/channels/{channel_id}/messages", "/channels/{channel}/messages", "bot", 200),
    (
        "GET",
        "/channels/{channel_id}/messages/{message_id}",
        "/channels/{channel}/messages/{message}",
        "bot",
        200,
    ),
    ("GET", "/invites/{code}", "/invites/{invite}", "bot", 200),
]


@pytest.mark.parametrize(("method", "template", "path", "who", "status"), CASES)
async def test_read_responses_match_the_spec(
    client: Client, world: dict[str, Any], method: str, template: str, path: str, who: str, status: int
) -> None:
    concrete = path.format(
        owner=world["owner"].id, guild=world["guild"]["id"], channel=world["channel"]["id"],
        message=world["message"]["id"], invite=world["invite"]["code"],
    )  # fmt: skip
    body = await _call(client, world[who], method, concrete, status)
    assert_matches_spec(method, template, status, body)


async def test_write_responses_match_the_spec(client: Client, world: dict[str, Any]) -> None:
    owner, guild, channel = world["owner"], world["guild"], world["channel"]
    gid, cid = guild["id"], channel["id"]
    message = await _call(
        client, owner, "POST", f"/channels/{cid}/messages", json={"content": "x", "nonce": "1"}
    )
    assert_matches_spec("POST", "/channels/{channel_id}/messages", 200, message)
    edited = await _call(
        client, owner, "PATCH", f"/channels/{cid}/messages/{message['id']}", json={"content": "y"}
    )
    assert_matches_spec("PATCH", "/channels/{channel_id}/messages/{message_id}", 200, edited)
    created = await _call(client, owner, "POST", f"/guilds/{gid}/channels", 201, json={"name": "new"})
    assert_matches_spec("POST", "/guilds/{guild_id}/channels", 201, created)
    patched = await _call(client, owner, "PATCH", f"/channels/{created['id']}", json={"topic": "t"})
    assert_matches_spec("PATCH", "/channels/{channel_id}", 200, patched)
    role = await _call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "r"})
    assert_matches_spec("POST", "/guilds/{guild_id}/roles", 200, role)
    modified = await _call(client, owner, "PATCH", f"/guilds/{gid}", json={"name": "Renamed"})
    assert_matches_spec("PATCH", "/guilds/{guild_id}", 200, modified)
    invite = await _call(client, owner, "POST", f"/channels/{cid}/invites", json={"max_age": 0})
    assert_matches_spec("POST", "/channels/{channel_id}/invites", 200, invite)
    deleted_invite = await _call(client, owner, "DELETE", f"/invites/{invite['code']}")
    assert_matches_spec("DELETE", "/invites/{code}", 200, deleted_invite)
    deleted = await _call(client, owner, "DELETE", f"/channels/{created['id']}")
    assert_matches_spec("DELETE", "/channels/{channel_id}", 200, deleted)
