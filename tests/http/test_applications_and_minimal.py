"""The caller's application (kept fields read back), role-connection metadata, and the honest
minimal answers (monetisation, voice, stage, soundboard, stickers, connections...): Discord's
shapes, checked against its OpenAPI description, and Discord's "Unknown ..." codes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_matches_spec

Client = TestClient[Any, Any]


async def check(client: Client, who: Any, method: str, template: str, path: str, **kw: Any) -> Any:
    body = await call(client, who, method, path, **kw)
    assert_matches_spec(method, template, 200, body)
    return body


async def test_the_application_keeps_what_the_bot_sets(client: Client, register: Any) -> None:
    bot, other = await register("appbot", bot=True), await register("other", bot=True)
    shown = await check(client, bot, "GET", "/applications/@me", "/applications/@me")
    assert shown["id"] == bot.id and shown["description"] == ""
    changed = await check(client, bot, "PATCH", "/applications/@me", "/applications/@me",
                          json={"description": "moderates", "tags": ["mod"]})  # fmt: skip
    assert changed["description"] == "moderates" and changed["tags"] == ["mod"]
    by_id = await check(client, bot, "GET", "/applications/{application_id}", f"/applications/{bot.id}")
    assert by_id["description"] == "moderates"
    tagged = await check(
        client, bot, "PATCH", "/applications/{application_id}", f"/applications/{bot.id}", json={"tags": []}
    )
    assert tagged["tags"] == [] and tagged["description"] == "moderates"
    oauth = await check(client, bot, "GET", "/oauth2/applications/@me", "/oauth2/applications/@me")
    assert oauth["description"] == "moderates"
    assert (await call(client, bot, "GET", f"/applications/{other.id}", 404))["code"] == 10002
    bad = await call(
        client, bot, "PATCH", "/applications/@me", 400, json={"interactions_endpoint_url": "ftp:x"}
    )
    assert bad["code"] == 50035 and "interactions_endpoint_url" in bad["errors"]
    template = "/applications/{application_id}/role-connections/metadata"
    path = f"/applications/{bot.id}/role-connections/metadata"
    assert await check(client, bot, "GET", template, path) == []
    records = [{"type": 2, "key": "level", "name": "Level", "description": "At least this level"}]
    assert await check(client, bot, "PUT", template, path, json=records) == records
    assert await call(client, bot, "GET", path) == records
    bad = await call(client, bot, "PUT", path, 400, json=[{**records[0], "type": 9}])
    assert bad["code"] == 50035 and "type" in bad["errors"]["0"]


async def test_minimal_answers_have_discords_shapes(client: Client, register: Any) -> None:
    bot = await register("minimal", bot=True)
    guild = await call(client, bot, "POST", "/guilds", 201, json={"name": "Minimal"})
    gid, app = guild["id"], bot.id
    for template, path in (
        ("/users/@me/connections", "/users/@me/connections"),
        ("/soundboard-default-sounds", "/soundboard-default-sounds"),
        ("/guilds/{guild_id}/soundboard-sounds", f"/guilds/{gid}/soundboard-sounds"),
        ("/sticker-packs", "/sticker-packs"),
        ("/guilds/{guild_id}/integrations", f"/guilds/{gid}/integrations"),
        ("/guilds/{guild_id}/scheduled-events", f"/guilds/{gid}/scheduled-events"),
        ("/guilds/{guild_id}/auto-moderation/rules", f"/guilds/{gid}/auto-moderation/rules"),
        ("/guilds/{guild_id}/templates", f"/guilds/{gid}/templates"),
        ("/applications/{application_id}/entitlements", f"/applications/{app}/entitlements"),
    ):
        body = await check(client, bot, "GET", template, path)
        assert body in ([], {"items": []}, {"sticker_packs": []})


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/stickers/1234", 10060),
        ("GET", "/guilds/{gid}/soundboard-sounds/1234", 10097),
        ("GET", "/guilds/{gid}/voice-states/@me", 10065),
        ("GET", "/stage-instances/1234", 10067),
        ("DELETE", "/stage-instances/1234", 10067),
        ("GET", "/applications/{app}/entitlements/1234", 10029),
        ("POST", "/applications/{app}/entitlements/1234/consume", 10029),
        ("GET", "/skus/1234/subscriptions", 10027),
        ("POST", "/stage-instances", 10003),
        ("POST", "/channels/{cid}/followers", 50024),
    ],
)
async def test_unknown_entities_answer_discords_codes(
    client: Client, register: Any, method: str, path: str, code: int
) -> None:
    bot = await register("unknowns", bot=True)
    guild = await call(client, bot, "POST", "/guilds", 201, json={"name": "Unknowns"})
    cid = (await call(client, bot, "GET", f"/guilds/{guild['id']}/channels"))[0]["id"]
    body = {"channel_id": "1234", "topic": "x", "webhook_channel_id": cid} if method == "POST" else None
    status = 400 if code == 50024 else 404
    error = await call(
        client, bot, method, path.format(gid=guild["id"], app=bot.id, cid=cid), status, json=body
    )
    assert error["code"] == code
