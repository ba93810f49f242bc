"""Guild templates (create, list, get by code, sync, modify, delete), a user's application role
connection (put, get, delete), and the honest minimal answers added beside them (incident actions,
adding a member without OAuth2, voice-state edits, sticker packs, integrations); 2xx bodies
checked against Discord's OpenAPI description."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from rayguild.http_api.keys import CTX
from tests.http.helpers import call
from tests.http.spec import assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
TEMPLATE = "/guilds/{guild_id}/templates/{code}"


async def test_template_lifecycle(client: Client, register: Any) -> None:
    owner, stranger = await register("architect"), await register("visitor")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Blueprint"}))["id"]
    await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "mods"})
    category = await call(
        client, owner, "POST", f"/guilds/{gid}/channels", 201, json={"name": "talk", "type": 4}
    )
    await call(client, owner, "POST", f"/guilds/{gid}/channels", 201,
               json={"name": "news", "parent_id": category["id"]})  # fmt: skip
    created = await call(client, owner, "POST", f"/guilds/{gid}/templates", json={"name": "Starter"})
    assert_matches_spec("POST", "/guilds/{guild_id}/templates", 200, created)
    source = created["serialized_source_guild"]
    assert source["name"] == "Blueprint" and [r["name"] for r in source["roles"]][:1] == ["@everyone"]
    assert "mods" in [r["name"] for r in source["roles"]]
    by_name = {c["name"]: c for c in source["channels"]}
    assert by_name["news"]["parent_id"] == str(by_name["talk"]["id"])
    again = await call(client, owner, "POST", f"/guilds/{gid}/templates", 400, json={"name": "Second"})
    assert again["code"] == 30031
    listed = await call(client, owner, "GET", f"/guilds/{gid}/templates")
    assert_matches_spec("GET", "/guilds/{guild_id}/templates", 200, listed)
    assert [t["code"] for t in listed] == [created["code"]]
    public = await call(client, stranger, "GET", f"/guilds/templates/{created['code']}")
    assert_matches_spec("GET", "/guilds/templates/{code}", 200, public)
    assert public["source_guild_id"] == gid
    await call(client, owner, "PATCH", f"/guilds/{gid}", json={"name": "Blueprint 2"})
    synced = await call(client, owner, "PUT", f"/guilds/{gid}/templates/{created['code']}")
    assert_matches_spec("PUT", TEMPLATE, 200, synced)
    assert synced["serialized_source_guild"]["name"] == "Blueprint 2"
    renamed = await call(client, owner, "PATCH", f"/guilds/{gid}/templates/{created['code']}",
                         json={"name": "Starter kit", "description": "For friends"})  # fmt: skip
    assert_matches_spec("PATCH", TEMPLATE, 200, renamed)
    assert (renamed["name"], renamed["description"]) == ("Starter kit", "For friends")
    refused = await call(client, stranger, "GET", f"/guilds/{gid}/templates", 403)
    assert refused["code"] == 50001
    deleted = await call(client, owner, "DELETE", f"/guilds/{gid}/templates/{created['code']}")
    assert_matches_spec("DELETE", TEMPLATE, 200, deleted)
    gone = await call(client, stranger, "GET", f"/guilds/templates/{created['code']}", 404)
    assert gone["code"] == 10057


async def test_a_template_kept_before_roles_had_colors_reads_with_them(client: Client, register: Any) -> None:
    owner = await register("archivist")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Old"}))["id"]
    await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"colors": {"primary_color": 0x3366FF}})
    created = await call(client, owner, "POST", f"/guilds/{gid}/templates", json={"name": "Old one"})
    assert [r["colors"]["primary_color"] for r in created["serialized_source_guild"]["roles"]] == [
        0,
        0x3366FF,
    ]
    storage, key = client.app[CTX].storage, f"template:{created['code']}"
    stored = json.loads(await storage.get_setting(int(gid), key))
    for role in stored["serialized_source_guild"]["roles"]:
        role["colors"] = None  # as rest_templates kept it before
    await storage.put_setting(int(gid), key, json.dumps(stored))
    [listed] = await call(client, owner, "GET", f"/guilds/{gid}/templates")
    assert [r["colors"] for r in listed["serialized_source_guild"]["roles"]] == [
        {"primary_color": c, "secondary_color": None, "tertiary_color": None} for c in (0, 0x3366FF)
    ]


async def test_role_connection(client: Client, register: Any) -> None:
    bot, user = await register("linker", bot=True), await register("linked")
    metadata = [{"type": 2, "key": "level", "name": "Level", "description": "Your level"}]
    await call(client, bot, "PUT", f"/applications/{bot.id}/role-connections/metadata", json=metadata)
    path = f"/users/@me/applications/{bot.id}/role-connection"
    template = "/users/@me/applications/{application_id}/role-connection"
    empty = await call(client, user, "GET", path)
    assert_matches_spec("GET", template, 200, empty)
    assert empty["metadata"] == {}
    put = await call(client, user, "PUT", path, json={"platform_name": "Game", "metadata": {"level": "7"}})
    assert_matches_spec("PUT", template, 200, put)
    assert (await call(client, user, "GET", path)) == put
    unknown_key = await call(client, user, "PUT", path, 400, json={"metadata": {"rank": "1"}})
    assert unknown_key["code"] == 50035
    await call(client, user, "DELETE", path, 204)
    assert_no_content("DELETE", template, 204)
    assert (await call(client, user, "GET", path))["metadata"] == {}
    assert (await call(client, user, "GET", f"/users/@me/applications/{user.id}/role-connection", 404))[
        "code"
    ] == 10002


async def test_incident_actions_and_adding_members(client: Client, register: Any) -> None:
    owner, member, outsider = await register("keeper"), await register("member"), await register("outsider")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Incidents"}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    invite = await call(client, owner, "POST", f"/channels/{channel}/invites", json={})
    await call(client, member, "POST", f"/invites/{invite['code']}")
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    paused = await call(client, owner, "PUT", f"/guilds/{gid}/incident-actions",
                        json={"invites_disabled_until": until, "dms_disabled_until": None})  # fmt: skip
    assert_matches_spec("PUT", "/guilds/{guild_id}/incident-actions", 200, paused)
    assert paused["invites_disabled_until"] is not None and paused["dms_disabled_until"] is None
    too_long = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    bad = await call(
        client, owner, "PUT", f"/guilds/{gid}/incident-actions", 400, json={"dms_disabled_until": too_long}
    )
    assert bad["code"] == 50035
    assert (await call(client, member, "PUT", f"/guilds/{gid}/incident-actions", 403, json={}))[
        "code"
    ] == 50013
    await call(client, owner, "PUT", f"/guilds/{gid}/members/{member.id}", 204, json={"access_token": "x"})
    assert_no_content("PUT", "/guilds/{guild_id}/members/{user_id}", 204)
    no_grant = await call(
        client, owner, "PUT", f"/guilds/{gid}/members/{outsider.id}", 401, json={"access_token": "x"}
    )
    assert no_grant["code"] == 50025


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PATCH", "/guilds/{gid}/voice-states/@me", 404, 10065),
        ("PATCH", "/guilds/{gid}/voice-states/1234", 404, 10065),
        ("GET", "/sticker-packs/1234", 404, 10061),
        ("DELETE", "/guilds/{gid}/integrations/1234", 404, 10005),
    ],
)
async def test_more_unknown_entities(client: Client, register: Any, method: str, path: str, status: int,
                                     code: int) -> None:  # fmt: skip
    bot = await register("nobody", bot=True)
    gid = (await call(client, bot, "POST", "/guilds", 201, json={"name": "Unknowns"}))["id"]
    error = await call(client, bot, method, path.format(gid=gid), status, json={"suppress": True})
    assert error["code"] == code


async def test_join_requests_and_openid_keys_are_empty(client: Client, register: Any) -> None:
    owner, member = await register("gatekeeper"), await register("applicant")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Gate"}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    invite = await call(client, owner, "POST", f"/channels/{channel}/invites", json={})
    await call(client, member, "POST", f"/invites/{invite['code']}")
    requests = await call(client, owner, "GET", f"/guilds/{gid}/requests")
    assert_matches_spec("GET", "/guilds/{guild_id}/requests", 200, requests)
    assert requests == {"total": 0, "guild_join_requests": []}
    assert (await call(client, member, "GET", f"/guilds/{gid}/requests", 403))["code"] == 50013
    response = await client.get("/api/v10/oauth2/keys")  # public: no token
    assert response.status == 200
    keys = await response.json()
    assert_matches_spec("GET", "/oauth2/keys", 200, keys)
    assert keys == {"keys": []}


async def test_new_member_welcome_is_empty(client: Client, register: Any) -> None:
    owner, stranger = await register("welcomer"), await register("stranger")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Welcome"}))["id"]
    assert await call(client, owner, "GET", f"/guilds/{gid}/new-member-welcome", 204) is None
    assert_no_content("GET", "/guilds/{guild_id}/new-member-welcome", 204)
    assert (await call(client, stranger, "GET", f"/guilds/{gid}/new-member-welcome", 403))["code"] == 50001
