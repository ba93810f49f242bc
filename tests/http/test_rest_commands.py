"""Application commands over REST: global and guild scope, upsert by name, bulk overwrite, edit,
delete, Discord's validation errors with field paths, and every 2xx body against the OpenAPI spec."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from .helpers import API, Account, Register
from .test_openapi_shapes import assert_matches_spec

Client = TestClient[Any, Any]
GLOBAL = "/applications/{application_id}/commands"
GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"

ECHO = {
    "name": "echo",
    "description": "Say it back",
    "options": [
        {"type": 3, "name": "text", "description": "what", "required": True, "min_length": 1,
         "max_length": 50, "autocomplete": True},
        {"type": 4, "name": "times", "description": "how often", "min_value": 1, "max_value": 5},
        {"type": 3, "name": "tone", "description": "how", "choices": [
            {"name": "Loud", "value": "loud", "name_localizations": {"de": "Laut"}},
            {"name": "Soft", "value": "soft"}]},
    ],
    "name_localizations": {"fr": "echo", "de": "echo"},
    "description_localizations": {"fr": "Le redire"},
    "default_member_permissions": "2048",
    "dm_permission": False,
    "contexts": [0, 1],
    "integration_types": [0],
    "nsfw": False,
}  # fmt: skip
GROUPS = {
    "name": "admin",
    "description": "Admin tools",
    "options": [
        {"type": 2, "name": "role", "description": "Roles", "options": [
            {"type": 1, "name": "add", "description": "Add one", "options": [
                {"type": 8, "name": "role", "description": "which", "required": True}]}]},
        {"type": 1, "name": "ping", "description": "Ping"},
    ],
}  # fmt: skip


async def _call(client: Client, who: Account, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=who.headers, **kw)
    assert response.status == status, await response.text()
    return None if status == 204 else await response.json()


async def _bot_in_guild(client: Client, register: Register) -> tuple[Account, Account, str]:
    owner, bot = await register("owner"), await register("commander", bot=True)
    guild = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Commands"})
    channel = (await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await _call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await _call(client, bot, "POST", f"/invites/{invite['code']}")
    return owner, bot, guild["id"]


async def test_global_command_lifecycle(client: Client, register: Register) -> None:
    bot = await register("commander", bot=True)
    base = f"/applications/{bot.id}/commands"
    created = await _call(client, bot, "POST", base, 201, json=ECHO)
    assert_matches_spec("POST", GLOBAL, 201, created)
    assert created["application_id"] == bot.id and created["name"] == "echo" and created["type"] == 1
    assert created["options"][0]["autocomplete"] is True and created["options"][0]["max_length"] == 50
    assert created["options"][2]["choices"][0] == ECHO["options"][2]["choices"][0]  # type: ignore[index]
    assert created["default_member_permissions"] == "2048" and created["dm_permission"] is False
    assert created["contexts"] == [0, 1] and created["name_localizations"] == {"fr": "echo", "de": "echo"}
    again = await _call(client, bot, "POST", base, 200, json={**ECHO, "description": "Again"})
    assert_matches_spec("POST", GLOBAL, 200, again)
    assert again["id"] == created["id"] and again["version"] != created["version"]
    assert again["description"] == "Again"
    listed = await _call(client, bot, "GET", base)
    assert_matches_spec("GET", GLOBAL, 200, listed)
    assert [c["id"] for c in listed] == [created["id"]]
    one = await _call(client, bot, "GET", f"{base}/{created['id']}")
    assert_matches_spec("GET", f"{GLOBAL}/{{command_id}}", 200, one)
    edited = await _call(client, bot, "PATCH", f"{base}/{created['id']}", json={"name": "say", "nsfw": True})
    assert_matches_spec("PATCH", f"{GLOBAL}/{{command_id}}", 200, edited)
    assert edited["name"] == "say" and edited["nsfw"] is True and edited["options"] == again["options"]
    await _call(client, bot, "DELETE", f"{base}/{created['id']}", 204)
    gone = await _call(client, bot, "GET", f"{base}/{created['id']}", 404)
    assert gone["code"] == 10063
    assert await _call(client, bot, "GET", base) == []


async def test_guild_scope_and_bulk_overwrite(client: Client, register: Register) -> None:
    owner, bot, guild_id = await _bot_in_guild(client, register)
    base = f"/applications/{bot.id}/guilds/{guild_id}/commands"
    user_menu = {"type": 2, "name": "High Five"}
    first = await _call(client, bot, "PUT", base, json=[ECHO, GROUPS, user_menu])
    assert_matches_spec("PUT", GUILD, 200, first)
    assert [c["name"] for c in first] == ["echo", "admin", "High Five"]
    assert all(c["guild_id"] == guild_id for c in first) and first[2]["description"] == ""
    assert first[1]["options"][0]["options"][0]["options"][0]["type"] == 8
    second = await _call(client, bot, "PUT", base, json=[GROUPS, {**ECHO, "description": "New"}])
    by_name = {c["name"]: c for c in second}
    assert by_name["admin"] == first[1]  # unchanged: same id and version
    assert by_name["echo"]["id"] == first[0]["id"] and by_name["echo"]["version"] != first[0]["version"]
    listed = await _call(client, bot, "GET", base)
    assert_matches_spec("GET", GUILD, 200, listed)
    assert sorted(c["name"] for c in listed) == ["admin", "echo"]
    one = await _call(client, bot, "GET", f"{base}/{by_name['admin']['id']}")
    assert_matches_spec("GET", f"{GUILD}/{{command_id}}", 200, one)
    patched = await _call(
        client, bot, "PATCH", f"{base}/{one['id']}", json={"default_member_permissions": "8"}
    )
    assert_matches_spec("PATCH", f"{GUILD}/{{command_id}}", 200, patched)
    assert patched["default_member_permissions"] == "8" and "dm_permission" not in patched
    assert await _call(client, bot, "GET", f"/applications/{bot.id}/commands") == []
    created = await _call(client, bot, "POST", base, 201, json={"name": "solo", "description": "x"})
    assert_matches_spec("POST", GUILD, 201, created)
    permissions = await _call(client, bot, "GET", f"{base}/permissions")
    assert_matches_spec("GET", f"{GUILD}/permissions", 200, permissions)
    assert permissions == []
    assert (await _call(client, owner, "GET", base, 403))["code"] == 20012
    other = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Elsewhere"})
    outside = f"/applications/{bot.id}/guilds/{other['id']}/commands"
    assert (await _call(client, bot, "GET", outside, 403))["code"] == 50001
    assert await _call(client, bot, "PUT", base, json=[]) == []


async def _invalid(client: Client, bot: Account, method: str, body: Any) -> dict[str, Any]:
    answer = await _call(client, bot, method, f"/applications/{bot.id}/commands", 400, json=body)
    assert answer["code"] == 50035 and answer["message"] == "Invalid Form Body"
    errors: dict[str, Any] = answer["errors"]
    return errors


async def test_validation_names_the_field(client: Client, register: Register) -> None:
    bot = await register("commander", bot=True)
    bad_name = await _invalid(client, bot, "POST", {"name": "Bad Name", "description": "x"})
    assert bad_name["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    no_description = await _invalid(client, bot, "POST", {"name": "ok"})
    assert no_description["description"]["_errors"][0]["code"] == "BASE_TYPE_STRING"
    order = {"name": "ok", "description": "x", "options": [
        {"type": 3, "name": "a", "description": "a"},
        {"type": 3, "name": "b", "description": "b", "required": True}]}  # fmt: skip
    misordered = await _invalid(client, bot, "POST", order)
    assert "required" in misordered["options"]["1"]
    choices = {"name": "ok", "description": "x", "options": [
        {"type": 4, "name": "n", "description": "n", "choices": [{"name": "one", "value": "1"}]}]}  # fmt: skip
    wrong_choice = await _invalid(client, bot, "POST", choices)
    assert "value" in wrong_choice["options"]["0"]["choices"]["0"]
    too_long = {"name": "ok", "description": "x" * 101}
    bulk = await _invalid(client, bot, "PUT", [{"name": "fine", "description": "x"}, too_long])
    assert bulk["1"]["description"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    duplicate = await _invalid(client, bot, "PUT", [{"name": "a", "description": "x"}] * 2)
    assert duplicate["1"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_DUPLICATE_NAME"
    nested = {"name": "ok", "description": "x", "options": [{"type": 1, "name": "s", "description": "s",
              "options": [{"type": 1, "name": "t", "description": "t"}]}]}  # fmt: skip
    assert "type" in (await _invalid(client, bot, "POST", nested))["options"]["0"]["options"]["0"]
    user_with_description = await _invalid(
        client, bot, "POST", {"type": 2, "name": "Hi", "description": "no"}
    )
    assert "description" in user_with_description
    many = [{"type": 2, "name": f"user {i}"} for i in range(16)]
    limit = await _call(client, bot, "PUT", f"/applications/{bot.id}/commands", 400, json=many)
    assert limit["code"] == 30032


async def test_current_application(client: Client, register: Register) -> None:
    bot = await register("commander", bot=True)
    app = await _call(client, bot, "GET", "/applications/@me")
    assert_matches_spec("GET", "/applications/@me", 200, app)
    assert app["id"] == bot.id and app["bot"]["id"] == bot.id
