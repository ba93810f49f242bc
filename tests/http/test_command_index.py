"""GET /channels/{id}/application-command-index: what the web client's slash-command picker lists."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from .helpers import API, Account, Register

Client = TestClient[Any, Any]


async def _call(client: Client, who: Account, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=who.headers, **kw)
    assert response.status == status, await response.text()
    return await response.json() if response.status != 204 else None


async def test_the_index_lists_the_guilds_bots_commands(client: Client, register: Register) -> None:
    owner, bot, other_bot = (
        await register("owner"),
        await register("echo", bot=True),
        await register("idle", bot=True),
    )
    guild = await _call(client, owner, "POST", "/guilds", 201, json={"name": "Lab"})
    channel = (await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await _call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    for joiner in (bot, other_bot):
        await _call(client, joiner, "POST", f"/invites/{invite['code']}")
    app = f"/applications/{bot.id}"
    await _call(client, bot, "POST", f"{app}/commands", 201, json={"name": "ping", "description": "Pong"})
    await _call(client, bot, "POST", f"{app}/guilds/{guild['id']}/commands", 201,
                json={"name": "echo", "description": "Say it back",
                      "options": [{"type": 3, "name": "text", "description": "what", "required": True}]})  # fmt: skip

    index = await _call(client, owner, "GET", f"/channels/{channel['id']}/application-command-index")
    assert [a["id"] for a in index["applications"]] == [bot.id]
    by_name = {c["name"]: c for c in index["application_commands"]}
    assert sorted(by_name) == ["echo", "ping"]
    assert by_name["echo"]["guild_id"] == guild["id"] and by_name["echo"]["application_id"] == bot.id
    assert by_name["echo"]["options"][0]["name"] == "text"

    stranger = await register("stranger")
    await _call(client, stranger, "GET", f"/channels/{channel['id']}/application-command-index", 403)
