"""DMs end to end on one edge: open (one channel per pair, reused), who may DM whom, messages
delivered to both users' sessions through the user path (DIRECT_MESSAGES, content shown without
MESSAGE_CONTENT), CHANNEL_CREATE to the opener, and a push for an offline recipient."""

from __future__ import annotations

from typing import Any

import orjson

from rayguild.benchmarks.webhook_sink import WebhookSink
from rayguild.fanout.events import DIRECT_MESSAGES, GUILD_MESSAGES, GUILDS
from tests.http.test_openapi_shapes import assert_matches_spec

from .conftest import API, Edge, EdgeFactory


async def _status(edge: Edge, method: str, path: str, headers: dict[str, str], **kw: Any) -> tuple[int, Any]:
    response = await edge.client.request(method, f"{API}{path}", headers=headers, **kw)
    return response.status, (await response.json() if response.status != 204 else None)


async def _pair(
    edge: Edge,
) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any], dict[str, str], dict[str, Any]]:
    """A bot owning a guild and a human member of it: (bot token, bot, bot headers, human,
    human headers, channel)."""
    token, headers, _, channel = await edge.guild_with_bot()
    bot = await edge.rest("GET", "/users/@me", headers)
    _, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    return token, bot, headers, human, human_headers, channel


async def test_dm_round_trip_reaches_both_users(edge: Edge) -> None:
    token, bot, headers, human, human_headers, _ = await _pair(edge)
    human_token = human_headers["Authorization"]
    bot_gw, human_gw = await edge.connect(), await edge.connect()
    await bot_gw.identify(token, intents=GUILDS | DIRECT_MESSAGES)
    await human_gw.identify(human_token, intents=DIRECT_MESSAGES)  # no MESSAGE_CONTENT

    dm = await edge.rest("POST", "/users/@me/channels", headers, json={"recipient_id": human["id"]})
    assert_matches_spec("POST", "/users/@me/channels", 200, dm)
    assert dm["type"] == 1 and [u["id"] for u in dm["recipients"]] == [human["id"]]
    created = await bot_gw.dispatch("CHANNEL_CREATE")
    assert created["d"]["id"] == dm["id"]
    again = await edge.rest("POST", "/users/@me/channels", human_headers, json={"recipient_id": bot["id"]})
    assert again["id"] == dm["id"] and [u["id"] for u in again["recipients"]] == [bot["id"]]
    assert [c["id"] for c in await edge.rest("GET", "/users/@me/channels", human_headers)] == [dm["id"]]
    fetched = await edge.rest("GET", f"/channels/{dm['id']}", human_headers)
    assert_matches_spec("GET", "/channels/{channel_id}", 200, fetched)
    assert fetched == again

    sent = await edge.rest("POST", f"/channels/{dm['id']}/messages", headers, json={"content": "psst"})
    assert_matches_spec("POST", "/channels/{channel_id}/messages", 200, sent)
    assert "guild_id" not in sent and "member" not in sent
    for gw in (bot_gw, human_gw):
        got = (await gw.dispatch("MESSAGE_CREATE"))["d"]
        assert got["id"] == sent["id"] and got["content"] == "psst" and "guild_id" not in got
    reply = await edge.rest("POST", f"/channels/{dm['id']}/messages", human_headers, json={"content": "hi"})
    assert (await bot_gw.dispatch("MESSAGE_CREATE"))["d"]["id"] == reply["id"]
    history = await edge.rest("GET", f"/channels/{dm['id']}/messages", human_headers)
    assert_matches_spec("GET", "/channels/{channel_id}/messages", 200, history)
    assert [m["content"] for m in history] == ["hi", "psst"]
    edited = await edge.rest(
        "PATCH", f"/channels/{dm['id']}/messages/{sent['id']}", headers, json={"content": "p2"}
    )
    assert_matches_spec("PATCH", "/channels/{channel_id}/messages/{message_id}", 200, edited)
    assert edited["content"] == "p2"
    assert (await human_gw.dispatch("MESSAGE_UPDATE"))["d"]["content"] == "p2"
    await edge.rest("DELETE", f"/channels/{dm['id']}/messages/{sent['id']}", headers)
    deleted = (await human_gw.dispatch("MESSAGE_DELETE"))["d"]
    assert deleted == {"id": sent["id"], "channel_id": dm["id"]}
    # The human may not delete the bot's message, nor edit it.
    status, body = await _status(edge, "DELETE", f"/channels/{dm['id']}/messages/{reply['id']}", headers)
    assert status == 403 and body["code"] == 50013


async def test_who_may_dm_whom(edge: Edge) -> None:
    _, bot, headers, human, human_headers, channel = await _pair(edge)
    _, other_bot, other_headers = await edge.register("otherbot")
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    _, _, stranger_headers = await edge.register("stranger", bot=False)
    cases = [
        (headers, {"recipient_id": bot["id"]}, 403, 50007),  # oneself
        (headers, {"recipient_id": other_bot["id"]}, 403, 50007),  # a bot to a bot
        (stranger_headers, {"recipient_id": human["id"]}, 403, 50007),  # no shared guild
        (headers, {"recipient_id": "12345"}, 400, 50033),  # nobody
        (headers, {}, 400, 50035),
    ]
    for who, body, status, code in cases:
        got_status, got = await _status(edge, "POST", "/users/@me/channels", who, json=body)
        assert (got_status, got["code"]) == (status, code), (body, got)
    dm = await edge.rest("POST", "/users/@me/channels", headers, json={"recipient_id": human["id"]})
    for method, path in (("GET", f"/channels/{dm['id']}/messages"), ("GET", f"/channels/{dm['id']}"),
                         ("POST", f"/channels/{dm['id']}/messages")):  # fmt: skip
        status, got = await _status(edge, method, path, stranger_headers, json={"content": "x"})
        assert (status, got["code"]) == (403, 50001)
    # Once they share no guild any more, the DM stays readable but takes no new messages.
    await edge.rest("DELETE", f"/users/@me/guilds/{channel['guild_id']}", human_headers)
    status, got = await _status(
        edge, "POST", f"/channels/{dm['id']}/messages", headers, json={"content": "x"}
    )
    assert (status, got["code"]) == (403, 50007)
    assert await edge.rest("GET", f"/channels/{dm['id']}/messages", human_headers) == []


async def test_sessions_without_direct_messages_hear_nothing(edge: Edge) -> None:
    _, _, headers, human, human_headers, channel = await _pair(edge)
    gw = await edge.connect()
    await gw.identify(human_headers["Authorization"], intents=GUILDS | GUILD_MESSAGES)
    dm = await edge.rest("POST", "/users/@me/channels", headers, json={"recipient_id": human["id"]})
    await edge.rest("POST", f"/channels/{dm['id']}/messages", headers, json={"content": "dm"})
    guild_message = await edge.rest(
        "POST", f"/channels/{channel['id']}/messages", headers, json={"content": "g"}
    )
    assert (await gw.dispatch("MESSAGE_CREATE"))["d"]["id"] == guild_message["id"]


async def test_an_offline_recipient_gets_a_push(make_edge: EdgeFactory) -> None:
    hook = WebhookSink()
    await hook.start()
    try:
        edge = await make_edge()
        _, _, headers, human, human_headers, _ = await _pair(edge)
        await edge.rest(
            "POST", "/users/@me/devices", human_headers, json={"provider": "webhook", "token": hook.url}
        )
        dm = await edge.rest("POST", "/users/@me/channels", headers, json={"recipient_id": human["id"]})
        sent = await edge.rest(
            "POST", f"/channels/{dm['id']}/messages", headers, json={"content": "are you there"}
        )
        await hook.wait_accepted(1)
        ((key, body),) = hook.accepted.items()
        assert key.startswith(f"{sent['id']}:{human['id']}:")
        pushed = orjson.loads(body)
        assert pushed["kind"] == "dm" and pushed["data"]["content"] == "are you there"
        assert pushed["data"]["channel_id"] == dm["id"]
    finally:
        await hook.stop()
