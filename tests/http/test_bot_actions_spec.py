"""The actions a bot takes whose success is an empty answer (pins, reactions, thread membership,
typing, member roles, deletions) or whose body the other REST tests do not check (a DM channel, a
global bulk overwrite): each is done as a bot does it, its effect read back, and its status or
body checked against Discord's OpenAPI description (tests/http/spec.py). The minimal routes that
only ever answer Discord's "Unknown ..." error have their error body checked instead."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_error_matches_spec, assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
THUMBS, WAVE = "\N{THUMBS UP SIGN}", "\N{WAVING HAND SIGN}"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
REACTIONS = MESSAGE + "/reactions"
NOBODY = SimpleNamespace(headers={})  # a webhook token authenticates itself


async def done(client: Client, who: Any, method: str, template: str, path: str) -> None:
    """Do a bodiless action and record its 204 against the description."""
    await call(client, who, method, path, 204)
    assert_no_content(method, template, 204)


async def bot_guild(client: Client, register: Any) -> dict[str, Any]:
    """A bot owning a guild with a text channel, a human member and a message of the member's."""
    bot, human = await register("keeper", bot=True), await register("human")
    guild = await call(client, bot, "POST", "/guilds", 201, json={"name": "Bot Actions"})
    cid = (await call(client, bot, "GET", f"/guilds/{guild['id']}/channels"))[0]["id"]
    invite = await call(client, bot, "POST", f"/channels/{cid}/invites", json={})
    await call(client, human, "POST", f"/invites/{invite['code']}")
    message = await call(client, human, "POST", f"/channels/{cid}/messages", json={"content": "hi"})
    return {"bot": bot, "human": human, "gid": guild["id"], "cid": cid, "mid": message["id"]}


async def test_pins_reactions_and_typing(client: Client, register: Any) -> None:
    w = await bot_guild(client, register)
    bot, human, cid, mid = w["bot"], w["human"], w["cid"], w["mid"]
    message = f"/channels/{cid}/messages/{mid}"
    for pin in (f"/channels/{cid}/messages/pins/{mid}", f"/channels/{cid}/pins/{mid}"):
        template = pin.replace(cid, "{channel_id}").replace(mid, "{message_id}")
        await done(client, bot, "PUT", template, pin)
        assert (await call(client, human, "GET", message))["pinned"] is True
        await done(client, bot, "DELETE", template, pin)
        assert (await call(client, human, "GET", message))["pinned"] is False
    thumbs, wave = f"{message}/reactions/{quote(THUMBS)}", f"{message}/reactions/{quote(WAVE)}"
    await done(client, bot, "PUT", REACTIONS + "/{emoji_name}/@me", thumbs + "/@me")
    await call(client, human, "PUT", thumbs + "/@me", 204)
    await done(client, bot, "DELETE", REACTIONS + "/{emoji_name}/@me", thumbs + "/@me")
    await done(client, bot, "DELETE", REACTIONS + "/{emoji_name}/{user_id}", f"{thumbs}/{human.id}")
    assert "reactions" not in await call(client, human, "GET", message)
    for emoji in (thumbs, wave):
        await call(client, human, "PUT", emoji + "/@me", 204)
    await done(client, bot, "DELETE", REACTIONS + "/{emoji_name}", wave)
    assert [r["emoji"]["name"] for r in (await call(client, human, "GET", message))["reactions"]] == [THUMBS]
    await done(client, bot, "DELETE", REACTIONS, f"{message}/reactions")
    assert "reactions" not in await call(client, human, "GET", message)
    await done(client, bot, "POST", "/channels/{channel_id}/typing", f"/channels/{cid}/typing")


async def test_thread_membership_and_member_roles(client: Client, register: Any) -> None:
    w = await bot_guild(client, register)
    bot, human, gid = w["bot"], w["human"], w["gid"]
    thread = await call(
        client, bot, "POST", f"/channels/{w['cid']}/threads", 201, json={"name": "ops", "type": 11}
    )
    members, tid = "/channels/{channel_id}/thread-members", thread["id"]
    await done(client, bot, "DELETE", members + "/@me", f"/channels/{tid}/thread-members/@me")
    assert await call(client, human, "GET", f"/channels/{tid}/thread-members") == []
    await done(client, bot, "PUT", members + "/@me", f"/channels/{tid}/thread-members/@me")
    await done(client, bot, "PUT", members + "/{user_id}", f"/channels/{tid}/thread-members/{human.id}")
    listed = await call(client, bot, "GET", f"/channels/{tid}/thread-members")
    assert sorted(m["user_id"] for m in listed) == sorted([bot.id, human.id])
    await done(client, bot, "DELETE", members + "/{user_id}", f"/channels/{tid}/thread-members/{human.id}")
    assert [m["user_id"] for m in await call(client, bot, "GET", f"/channels/{tid}/thread-members")] == [
        bot.id
    ]
    role = await call(client, bot, "POST", f"/guilds/{gid}/roles", json={"name": "regular"})
    template, path = (
        "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        f"/guilds/{gid}/members/{human.id}/roles/{role['id']}",
    )
    await done(client, bot, "PUT", template, path)
    assert (await call(client, bot, "GET", f"/guilds/{gid}/members/{human.id}"))["roles"] == [role["id"]]
    await done(client, bot, "DELETE", template, path)
    assert (await call(client, bot, "GET", f"/guilds/{gid}/members/{human.id}"))["roles"] == []


async def test_dm_channel_commands_and_webhook_deletions(client: Client, register: Any) -> None:
    w = await bot_guild(client, register)
    bot, human, gid, cid = w["bot"], w["human"], w["gid"], w["cid"]
    dm = await call(client, bot, "POST", "/users/@me/channels", json={"recipient_id": human.id})
    assert_matches_spec("POST", "/users/@me/channels", 200, dm)
    assert dm["type"] == 1 and [u["id"] for u in dm["recipients"]] == [human.id]
    commands = f"/applications/{bot.id}/commands"
    echo = {"name": "echo", "description": "Say it back"}
    (set_,) = await call(client, bot, "PUT", commands, json=[echo])
    assert_matches_spec("PUT", "/applications/{application_id}/commands", 200, [set_])
    assert set_["name"] == "echo" and "guild_id" not in set_
    await done(
        client,
        bot,
        "DELETE",
        "/applications/{application_id}/commands/{command_id}",
        f"{commands}/{set_['id']}",
    )
    in_guild = f"/applications/{bot.id}/guilds/{gid}/commands"
    (scoped,) = await call(client, bot, "PUT", in_guild, json=[echo])
    await done(client, bot, "DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
               f"{in_guild}/{scoped['id']}")  # fmt: skip
    assert await call(client, bot, "GET", commands) == [] and await call(client, bot, "GET", in_guild) == []
    hooks = [await call(client, bot, "POST", f"/channels/{cid}/webhooks", json={"name": n}) for n in "ab"]
    first, second = hooks
    token = f"/webhooks/{first['id']}/{first['token']}"
    sent = await call(client, NOBODY, "POST", f"{token}?wait=true", json={"content": "from a hook"})
    await done(client, NOBODY, "DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
               f"{token}/messages/{sent['id']}")  # fmt: skip
    assert await call(client, bot, "GET", f"/channels/{cid}/messages/{sent['id']}", 404)
    await done(client, NOBODY, "DELETE", "/webhooks/{webhook_id}/{webhook_token}", token)
    await done(client, bot, "DELETE", "/webhooks/{webhook_id}", f"/webhooks/{second['id']}")
    assert await call(client, bot, "GET", f"/channels/{cid}/webhooks") == []


ERRORS_ONLY = [  # (method, template, status, Discord's code): minimal routes with no 2xx to check
    ("POST", "/applications/{application_id}/entitlements", 404, 10027),
    ("GET", "/applications/{application_id}/entitlements/{entitlement_id}", 404, 10029),
    ("DELETE", "/applications/{application_id}/entitlements/{entitlement_id}", 404, 10029),
    ("POST", "/applications/{application_id}/entitlements/{entitlement_id}/consume", 404, 10029),
    ("POST", "/channels/{channel_id}/followers", 400, 50024),
    ("GET", "/guilds/{guild_id}/soundboard-sounds/{sound_id}", 404, 10097),
    ("GET", "/guilds/{guild_id}/voice-states/@me", 404, 10065),
    ("GET", "/guilds/{guild_id}/voice-states/{user_id}", 404, 10065),
    ("GET", "/skus/{sku_id}/subscriptions", 404, 10027),
    ("GET", "/skus/{sku_id}/subscriptions/{subscription_id}", 404, 10027),
    ("POST", "/stage-instances", 400, 50024),
    ("GET", "/stage-instances/{channel_id}", 404, 10067),
    ("PATCH", "/stage-instances/{channel_id}", 404, 10067),
    ("DELETE", "/stage-instances/{channel_id}", 404, 10067),
    ("GET", "/stickers/{sticker_id}", 404, 10060),
    ("DELETE", "/guilds/{guild_id}/integrations/{integration_id}", 404, 10005),
    ("POST", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions", 404, 10070),
    (
        "PATCH",
        "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions/{exception_id}",
        404,
        10070,
    ),
    (
        "DELETE",
        "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions/{exception_id}",
        404,
        10070,
    ),
    (
        "GET",
        "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/{guild_scheduled_event_exception_id}/users",
        404,
        10070,
    ),
    ("PATCH", "/guilds/{guild_id}/voice-states/@me", 404, 10065),
    ("PATCH", "/guilds/{guild_id}/voice-states/{user_id}", 404, 10065),
    ("GET", "/sticker-packs/{pack_id}", 404, 10061),
]


async def test_errors_only_routes_answer_discords_error_shape(client: Client, register: Any) -> None:
    w = await bot_guild(client, register)
    ids = {
        "application_id": w["bot"].id,
        "channel_id": w["cid"],
        "guild_id": w["gid"],
        "user_id": w["human"].id,
    }
    bodies = {"POST /stage-instances": {"channel_id": w["cid"], "topic": "talk"},
              "POST /channels/{channel_id}/followers": {"webhook_channel_id": w["cid"]},
              "POST /applications/{application_id}/entitlements": {"sku_id": "1234", "owner_id": w["gid"], "owner_type": 1},
              "PATCH /stage-instances/{channel_id}": {"topic": "talk"}}  # fmt: skip
    for method, template, status, code in ERRORS_ONLY:
        path = re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "1234"), template)
        response = await client.request(method, f"/api/v10{path}", headers=w["bot"].headers,
                                        json=bodies.get(f"{method} {template}"))  # fmt: skip
        body = await response.json()
        assert (response.status, body["code"]) == (status, code), f"{method} {template}: {body}"
        assert_error_matches_spec(method, template, status, body)


async def next_dispatch(ws: Any, name: str) -> dict[str, Any]:
    """The next gateway dispatch called ``name`` (uncompressed JSON frames)."""
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["op"] == 0 and frame["t"] == name:
            return dict(frame["d"])


async def test_the_bot_answers_an_interaction(client: Client, register: Any) -> None:
    w = await bot_guild(client, register)
    bot, human = w["bot"], w["human"]
    commands = f"/applications/{bot.id}/guilds/{w['gid']}/commands"
    (command,) = await call(client, bot, "PUT", commands, json=[{"name": "ping", "description": "Pong"}])
    ws = await client.ws_connect("/?v=10&encoding=json")
    assert (await ws.receive_json(timeout=10))["op"] == 10
    await ws.send_json({"op": 2, "d": {"token": bot.token, "intents": 1, "properties": {"os": "linux"}}})
    await next_dispatch(ws, "READY")
    invoke = {"type": 2, "application_id": bot.id, "guild_id": w["gid"], "channel_id": w["cid"],
              "session_id": "s", "nonce": "7", "data": {"id": command["id"], "name": "ping", "type": 1}}  # fmt: skip
    await call(client, human, "POST", "/interactions", 204, json=invoke)
    got = await next_dispatch(ws, "INTERACTION_CREATE")
    await ws.close()
    path = f"/interactions/{got['id']}/{got['token']}/callback?with_response=true"
    answer = await call(client, bot, "POST", path, json={"type": 4, "data": {"content": "pong"}})
    assert_matches_spec("POST", "/interactions/{interaction_id}/{interaction_token}/callback", 200, answer)
    assert answer["interaction"]["id"] == got["id"] and answer["resource"]["message"]["content"] == "pong"
    history = await call(client, human, "GET", f"/channels/{w['cid']}/messages")
    assert history[0]["content"] == "pong" and history[0]["interaction_metadata"]["id"] == got["id"]
