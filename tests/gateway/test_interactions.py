"""Interactions end to end on two edges of one cluster: the user invokes through edge 1 (as
Discord's client: POST /interactions, 204), the bot's session on edge 0 receives INTERACTION_CREATE
and answers on edge 0; replies, deferrals, ephemerals, followups, components, autocomplete,
modals, the 3 s deadline and the single acknowledgement, each with Discord's codes and shapes."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestClient

from rayguild.storage.bots_protocol import INTERACTION_TTL_S
from tests.http.test_openapi_shapes import assert_matches_spec

from .conftest import API, Edge, Gateway

ECHO = {"name": "echo", "description": "Say it back", "options": [
    {"type": 3, "name": "text", "description": "what", "required": True, "autocomplete": True},
    {"type": 4, "name": "times", "description": "how often", "min_value": 1, "max_value": 3}]}  # fmt: skip
BUTTONS = [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "again", "label": "Again"}]}]


@dataclass
class World:
    bot_edge: Edge
    user_edge: Edge
    bot: Gateway
    user: Gateway
    bot_id: str
    bot_headers: dict[str, str]
    user_headers: dict[str, str]
    guild_id: str
    channel_id: str
    command: dict[str, Any]
    other: Gateway


async def _call(client: TestClient[Any, Any], method: str, path: str, headers: dict[str, str] | None = None,
                status: int = 200, **kw: Any) -> Any:  # fmt: skip
    response = await client.request(method, f"{API}{path}", headers=headers or {}, **kw)
    assert response.status == status, await response.text()
    return None if status == 204 else await response.json()


async def settled(gateway: Gateway) -> Gateway:
    """Once a heartbeat sent after READY is acknowledged, the edge has finished the Identify
    (frames of one connection are handled in order), so the user path knows the session."""
    await gateway.send({"op": 1, "d": gateway.seq})
    while (await gateway.recv())["op"] != 11:
        pass
    return gateway


@pytest.fixture
async def world(two_edges: tuple[Edge, Edge]) -> World:
    bot_edge, user_edge = two_edges
    bot_token, bot_user, bot_headers = await bot_edge.register("helper")
    user_token, _, user_headers = await user_edge.register("alice", bot=False)
    other_token, _, other_headers = await user_edge.register("bob", bot=False)
    guild = await user_edge.rest("POST", "/guilds", user_headers, json={"name": "Slash"})
    channel = (await user_edge.rest("GET", f"/guilds/{guild['id']}/channels", user_headers))[0]
    invite = await user_edge.rest("POST", f"/channels/{channel['id']}/invites", user_headers, json={})
    await bot_edge.rest("POST", f"/invites/{invite['code']}", bot_headers)
    await user_edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    path = f"/applications/{bot_user['id']}/guilds/{guild['id']}/commands"
    (command,) = await bot_edge.rest("PUT", path, bot_headers, json=[ECHO])
    bot = await bot_edge.connect()
    await bot.identify(bot_token)
    user = await user_edge.connect()
    await user.identify(user_token)
    other = await user_edge.connect()
    await other.identify(other_token)
    for gateway in (bot, user, other):
        await settled(gateway)
    return World(bot_edge, user_edge, bot, user, bot_user["id"], bot_headers, user_headers, guild["id"],
                 channel["id"], command, other)  # fmt: skip


async def invoke(
    w: World, options: list[dict[str, Any]] | None = None, kind: int = 2, **extra: Any
) -> dict[str, Any]:
    """The user runs /echo (or sends ``kind``); the INTERACTION_CREATE the bot received."""
    data = {"version": w.command["version"], "id": w.command["id"], "name": "echo", "type": 1,
            "options": options if options is not None else [{"type": 3, "name": "text", "value": "hi"}]}  # fmt: skip
    body = {"type": kind, "application_id": w.bot_id, "guild_id": w.guild_id, "channel_id": w.channel_id,
            "session_id": "s", "nonce": "42", "data": data, **extra}  # fmt: skip
    await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 204, json=body)
    created = (await w.bot.dispatch("INTERACTION_CREATE"))["d"]
    told = (await w.user.dispatch("INTERACTION_CREATE"))["d"]
    assert told == {"id": created["id"], "nonce": "42"}
    return dict(created)


def callback(
    w: World, interaction: dict[str, Any], body: dict[str, Any], status: int = 204, query: str = ""
) -> Any:
    path = f"/interactions/{interaction['id']}/{interaction['token']}/callback{query}"
    return _call(w.bot_edge.client, "POST", path, None, status, json=body)


async def test_command_reply_reaches_the_channel(world: World) -> None:
    w = world
    got = await invoke(
        w, [{"type": 3, "name": "text", "value": "hi"}, {"type": 4, "name": "times", "value": 2}]
    )
    assert got["type"] == 2 and got["application_id"] == w.bot_id and got["version"] == 1
    assert got["data"] == {"id": w.command["id"], "name": "echo", "type": 1, "guild_id": w.guild_id,
                           "options": [{"type": 3, "name": "text", "value": "hi"},
                                       {"type": 4, "name": "times", "value": 2}]}  # fmt: skip
    assert got["member"]["user"]["username"] == "alice" and got["channel"]["id"] == w.channel_id
    assert {"app_permissions", "locale", "entitlements", "authorizing_integration_owners", "context"} <= set(
        got
    )
    answer = await callback(w, got, {"type": 4, "data": {"content": "hi hi", "components": BUTTONS}}, 200,
                            "?with_response=true")  # fmt: skip
    assert_matches_spec("POST", "/interactions/{interaction_id}/{interaction_token}/callback", 200, answer)
    message = answer["resource"]["message"]
    assert message["interaction_metadata"]["name"] == "echo" and message["webhook_id"] == w.bot_id
    assert message["type"] == 20 and message["author"]["id"] == w.bot_id
    seen = (await w.other.dispatch("MESSAGE_CREATE"))["d"]
    assert seen["id"] == message["id"] and seen["interaction_metadata"]["user"]["username"] == "alice"
    assert (await w.user.dispatch("INTERACTION_SUCCESS"))["d"]["nonce"] == "42"
    again = await callback(w, got, {"type": 4, "data": {"content": "twice"}}, 400)
    assert again["code"] == 40060
    original = f"/webhooks/{w.bot_id}/{got['token']}/messages/@original"
    read = await _call(w.user_edge.client, "GET", original)
    assert_matches_spec("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", 200, read)
    history = await w.user_edge.rest("GET", f"/channels/{w.channel_id}/messages", w.user_headers)
    assert [m["id"] for m in history] == [message["id"]]
    click = await invoke(
        w, kind=3, message_id=message["id"], data={"component_type": 2, "custom_id": "again"}
    )
    assert (
        click["data"] == {"custom_id": "again", "component_type": 2}
        and click["message"]["id"] == message["id"]
    )
    await callback(w, click, {"type": 7, "data": {"content": "updated", "components": []}})
    updated = (await w.other.dispatch("MESSAGE_UPDATE"))["d"]
    assert updated["id"] == message["id"] and updated["content"] == "updated" and updated["components"] == []


async def test_deferred_then_edited_and_followups(world: World) -> None:
    w = world
    got = await invoke(w)
    await callback(w, got, {"type": 5})
    loading = (await w.other.dispatch("MESSAGE_CREATE"))["d"]
    assert loading["flags"] & 128 and loading["content"] == ""
    original = f"/webhooks/{w.bot_id}/{got['token']}/messages/@original"
    edited = await _call(w.bot_edge.client, "PATCH", original, json={"content": "done"})
    assert_matches_spec("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", 200, edited)
    assert edited["id"] == loading["id"] and edited["content"] == "done" and not edited["flags"] & 128
    assert (await w.other.dispatch("MESSAGE_UPDATE"))["d"]["content"] == "done"
    hook = f"/webhooks/{w.bot_id}/{got['token']}"
    followup = await _call(w.bot_edge.client, "POST", hook, json={"content": "and another"})
    assert_matches_spec("POST", "/webhooks/{webhook_id}/{webhook_token}", 200, followup)
    assert followup["interaction_metadata"]["original_response_message_id"] == loading["id"]
    secret = await _call(w.bot_edge.client, "POST", hook, json={"content": "psst", "flags": 64})
    seen = [(await w.user.dispatch("MESSAGE_CREATE"))["d"]["id"] for _ in range(3)]
    assert seen == [loading["id"], followup["id"], secret["id"]]
    assert (await w.other.dispatch("MESSAGE_CREATE"))["d"]["id"] == followup["id"]
    path = f"{hook}/messages/{followup['id']}"
    fetched = await _call(w.user_edge.client, "GET", path)
    assert_matches_spec("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", 200, fetched)
    await _call(w.user_edge.client, "DELETE", path, status=204)
    after = await w.other.recv()
    while after["op"] != 0:
        after = await w.other.recv()
    assert after["t"] == "MESSAGE_DELETE" and after["d"]["id"] == followup["id"]  # never the ephemeral one
    history = await w.user_edge.rest("GET", f"/channels/{w.channel_id}/messages", w.user_headers)
    assert [m["id"] for m in history] == [loading["id"]]  # the ephemeral one never entered history


async def test_ephemeral_reply_reaches_only_the_invoker(world: World) -> None:
    w = world
    got = await invoke(w)
    await callback(w, got, {"type": 4, "data": {"content": "only you", "flags": 64}})
    mine = (await w.user.dispatch("MESSAGE_CREATE"))["d"]
    assert mine["content"] == "only you" and mine["flags"] & 64
    history = await w.user_edge.rest("GET", f"/channels/{w.channel_id}/messages", w.user_headers)
    assert history == []
    public = await invoke(w)
    await callback(w, public, {"type": 4, "data": {"content": "everyone"}})
    assert (await w.other.dispatch("MESSAGE_CREATE"))["d"]["content"] == "everyone"  # not "only you"


async def test_autocomplete_and_modal(world: World) -> None:
    w = world
    typing = await invoke(w, [{"type": 3, "name": "text", "value": "h", "focused": True}], kind=4)
    assert typing["type"] == 4 and typing["data"]["options"][0]["focused"] is True
    bad = await callback(w, typing, {"type": 4, "data": {"content": "x"}}, 400)
    assert bad["code"] == 50035 and "type" in bad["errors"]
    await callback(w, typing, {"type": 8, "data": {"choices": [{"name": "hello", "value": "hello"}]}})
    choices = (await w.user.dispatch("APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE"))["d"]
    assert choices["choices"] == [{"name": "hello", "value": "hello"}] and choices["nonce"] == "42"
    form = await invoke(w)
    modal = {"title": "Tell me", "custom_id": "form", "components": [{"type": 1, "components": [
        {"type": 4, "custom_id": "answer", "label": "Answer", "style": 1}]}]}  # fmt: skip
    await callback(w, form, {"type": 9, "data": modal})
    shown = (await w.user.dispatch("INTERACTION_MODAL_CREATE"))["d"]
    assert shown["custom_id"] == "form" and shown["id"] == form["id"]
    submit = {"id": form["id"], "custom_id": "form", "components": [{"type": 1, "components": [
        {"type": 4, "custom_id": "answer", "value": "42"}]}]}  # fmt: skip
    submitted = await invoke(w, kind=5, data=submit)
    assert submitted["data"]["components"][0]["components"][0]["value"] == "42"
    assert "message" not in submitted  # the chain began with a command, not on a message
    await callback(w, submitted, {"type": 7, "data": {"content": "x"}}, 400)  # nothing to update


async def test_a_modal_submit_must_match_the_modal_the_bot_opened(world: World) -> None:
    w = world
    form = await invoke(w)
    inputs = [{"type": 4, "custom_id": "answer", "label": "Answer", "style": 1, "min_length": 2},
              {"type": 4, "custom_id": "note", "label": "Note", "style": 2, "required": False}]  # fmt: skip
    modal = {
        "title": "Tell me",
        "custom_id": "form",
        "components": [{"type": 1, "components": [i]} for i in inputs],
    }
    await callback(w, form, {"type": 9, "data": modal})
    await w.user.dispatch("INTERACTION_MODAL_CREATE")

    def submit(custom_id: str = "form", modal_id: str = form["id"], **values: str) -> dict[str, Any]:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        return {"id": modal_id, "custom_id": custom_id, "components": rows}

    base = {"type": 5, "application_id": w.bot_id, "channel_id": w.channel_id, "nonce": "7"}
    never_opened = await invoke(w)  # an interaction whose callback opened no modal
    wrong = [
        (submit(modal_id=never_opened["id"], answer="42"), ("data", "id")),
        (submit(custom_id="other", answer="42"), ("data", "custom_id")),
        (submit(answer="42", invented="x"), ("data", "components", "1", "components", "0", "custom_id")),
        (submit(note="only the optional one"), ("data", "components")),
        (submit(answer="4"), ("data", "components", "0", "components", "0", "value")),
        ({"custom_id": "form", "components": []}, ("id",)),
    ]
    for data, path in wrong:
        refused = await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 400,
                              json={**base, "data": data})  # fmt: skip
        errors = refused["errors"]
        for key in path:
            errors = errors[key]
        assert refused["code"] == 50035 and "_errors" in errors, (data, refused)
    by_other = await w.user_edge.rest("POST", "/auth/register", {}, json={"username": "carol", "bot": False})
    other_headers = {"Authorization": by_other["token"]}
    invite = await w.user_edge.rest("POST", f"/channels/{w.channel_id}/invites", w.user_headers, json={})
    await w.user_edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    stolen = await _call(w.user_edge.client, "POST", "/interactions", other_headers, 400,
                         json={**base, "data": submit(answer="42")})  # fmt: skip
    assert "id" in stolen["errors"]["data"]  # the modal was opened for alice, not carol
    done = await invoke(w, kind=5, data=submit(answer="42", note=""))
    assert [r["components"][0]["custom_id"] for r in done["data"]["components"]] == ["answer", "note"]


async def test_invalid_interactions_get_discords_errors(world: World) -> None:
    w = world
    client = w.user_edge.client
    base = {"type": 2, "application_id": w.bot_id, "channel_id": w.channel_id, "nonce": "1"}
    data = {"id": w.command["id"], "name": "echo", "type": 1}
    missing = await _call(client, "POST", "/interactions", w.user_headers, 400, json={**base, "data": data})
    assert missing["code"] == 50035 and "data" in missing["errors"]
    too_big = {
        **data,
        "options": [{"type": 3, "name": "text", "value": "x"}, {"type": 4, "name": "times", "value": 9}],
    }
    out_of_range = await _call(
        client, "POST", "/interactions", w.user_headers, 400, json={**base, "data": too_big}
    )
    assert "value" in out_of_range["errors"]["data"]["options"]["1"]
    unknown = {**data, "id": "1234"}
    assert (
        await _call(client, "POST", "/interactions", w.user_headers, 404, json={**base, "data": unknown})
    )["code"] == 10063
    click = {**base, "type": 3, "message_id": "1", "data": {"component_type": 2, "custom_id": "x"}}
    assert (await _call(client, "POST", "/interactions", w.user_headers, 404, json=click))["code"] == 10008


async def test_an_unanswered_interaction_expires_after_3_seconds(world: World) -> None:
    got = await invoke(world)
    failed = (await world.user.dispatch("INTERACTION_FAILURE"))["d"]  # sent once the 3 s have passed
    assert failed["id"] == got["id"] and failed["nonce"] == "42"
    late = await callback(world, got, {"type": 4, "data": {"content": "too late"}}, 404)
    assert late["code"] == 10062
    hook = f"/webhooks/{world.bot_id}/{got['token']}"
    assert (await _call(world.bot_edge.client, "POST", hook, status=404, json={"content": "x"}))[
        "code"
    ] == 10015


async def test_two_callbacks_on_two_edges_one_wins(world: World) -> None:
    w = world
    got = await invoke(w)
    path = f"/interactions/{got['id']}/{got['token']}/callback"
    bodies = [{"type": 4, "data": {"content": f"answer {i}"}} for i in range(2)]
    responses = await asyncio.gather(*(
        edge.client.post(f"{API}{path}", json=body) for edge, body in zip((w.bot_edge, w.user_edge), bodies, strict=True)
    ))  # fmt: skip
    statuses = sorted(r.status for r in responses)
    assert statuses == [204, 400]
    loser = next(r for r in responses if r.status == 400)
    assert (await loser.json())["code"] == 40060


async def test_multipart_invocation(world: World) -> None:
    w = world
    data = {
        "id": w.command["id"],
        "name": "echo",
        "type": 1,
        "options": [{"type": 3, "name": "text", "value": "mp"}],
    }
    payload = {"type": 2, "application_id": w.bot_id, "channel_id": w.channel_id, "nonce": "9", "data": data}
    form = aiohttp.FormData()
    form.add_field("payload_json", orjson.dumps(payload).decode(), content_type="application/json")
    response = await w.user_edge.client.post(f"{API}/interactions", data=form, headers=w.user_headers)
    assert response.status == 204, await response.text()
    got = (await w.bot.dispatch("INTERACTION_CREATE"))["d"]
    assert got["data"]["options"] == [{"type": 3, "name": "text", "value": "mp"}]


async def test_click_on_a_message_the_bot_sent_itself(world: World) -> None:
    w = world
    select = [{"type": 1, "components": [{"type": 3, "custom_id": "pick", "options": [
        {"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}]}]}]  # fmt: skip
    sent = await w.bot_edge.rest("POST", f"/channels/{w.channel_id}/messages", w.bot_headers,
                                 json={"content": "choose", "components": select})  # fmt: skip
    base = {
        "type": 3,
        "application_id": w.bot_id,
        "channel_id": w.channel_id,
        "message_id": sent["id"],
        "nonce": "3",
    }
    wrong = {**base, "data": {"component_type": 3, "custom_id": "pick", "values": ["green"]}}
    refused = await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 400, json=wrong)
    assert "values" in refused["errors"]["data"]
    unknown = {**base, "data": {"component_type": 2, "custom_id": "nope"}}
    assert "custom_id" in (await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 400,
                                       json=unknown))["errors"]["data"]  # fmt: skip
    got = await invoke(w, kind=3, message_id=sent["id"], data={"component_type": 3, "custom_id": "pick",
                                                                 "values": ["blue"]})  # fmt: skip
    assert got["data"] == {"custom_id": "pick", "component_type": 3, "values": ["blue"]}
    await callback(w, got, {"type": 7, "data": {"content": "blue it is", "components": []}})
    updated = (await w.other.dispatch("MESSAGE_UPDATE"))["d"]
    assert updated["id"] == sent["id"] and updated["content"] == "blue it is"


async def test_a_command_in_the_bots_dm(world: World) -> None:
    w = world
    dm = await w.user_edge.rest(
        "POST", "/users/@me/channels", w.user_headers, json={"recipient_id": w.bot_id}
    )
    (command,) = await w.bot_edge.rest("PUT", f"/applications/{w.bot_id}/commands", w.bot_headers,
                                       json=[{"name": "hello", "description": "Hi"}])  # fmt: skip
    body = {"type": 2, "application_id": w.bot_id, "channel_id": dm["id"], "nonce": "dm",
            "data": {"id": command["id"], "name": "hello", "type": 1}}  # fmt: skip
    await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 204, json=body)
    got = (await w.bot.dispatch("INTERACTION_CREATE"))["d"]
    assert got["context"] == 1 and got["user"]["username"] == "alice" and "member" not in got
    assert "guild_id" not in got and got["channel_id"] == dm["id"]
    await callback(w, got, {"type": 4, "data": {"content": "hi in private"}})
    reply = (await w.user.dispatch("MESSAGE_CREATE"))["d"]
    assert reply["content"] == "hi in private" and reply["channel_id"] == dm["id"]
    assert reply["interaction_metadata"]["user"]["username"] == "alice" and "guild_id" not in reply
    guild_only = {**body, "data": {**body["data"], "id": w.command["id"], "name": "echo"}}
    assert (await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 404, json=guild_only))[
        "code"
    ] == 10063


async def test_a_reply_with_a_file(world: World) -> None:
    w = world
    got = await invoke(w)
    answer = {"type": 4, "data": {"content": "", "attachments": [{"id": 0, "filename": "hi.txt"}]}}
    form = aiohttp.FormData()
    form.add_field("payload_json", orjson.dumps(answer).decode(), content_type="application/json")
    form.add_field("files[0]", b"file body", filename="hi.txt", content_type="text/plain")
    path = f"{API}/interactions/{got['id']}/{got['token']}/callback?with_response=true"
    response = await w.bot_edge.client.post(path, data=form)
    assert response.status == 200, await response.text()
    message = (await response.json())["resource"]["message"]
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "hi.txt" and attachment["size"] == len(b"file body")
    download = await w.user_edge.client.get(
        attachment["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])
    )
    assert await download.read() == b"file body"


async def test_a_token_older_than_15_minutes_is_refused(world: World) -> None:
    w = world
    got = await invoke(w)
    await callback(w, got, {"type": 4, "data": {"content": "in time"}})
    state = await w.bot_edge.ctx.storage.get_interaction(got["token"])
    assert state is not None
    aged = dataclasses.replace(state, created_at_ms=state.created_at_ms - (INTERACTION_TTL_S + 1) * 1000)
    await w.bot_edge.ctx.storage.put_interaction(aged)  # as if the 15 minutes had passed
    hook = f"/webhooks/{w.bot_id}/{got['token']}"
    late = await _call(w.bot_edge.client, "POST", hook, status=401, json={"content": "too late"})
    assert late["code"] == 50027
    assert (await _call(w.bot_edge.client, "GET", f"{hook}/messages/@original", status=401))["code"] == 50027


MALFORMED = [
    [], "x", {"type": "2"}, {"type": 2}, {"type": 2, "application_id": "x"},
    {"type": 2, "channel_id": "1", "application_id": "1"}, {"type": 3, "data": []},
]  # fmt: skip


async def test_malformed_requests_get_4xx_never_5xx(world: World) -> None:
    w = world
    for body in MALFORMED:
        response = await w.user_edge.client.post(f"{API}/interactions", json=body, headers=w.user_headers)
        assert 400 <= response.status < 500, (body, await response.text())
    got = await invoke(w)
    shapes = [[], {"type": 4, "data": []}, {"type": 4, "data": {"content": 5}}, {"type": 8, "data": {}},
              {"type": 9, "data": {"title": ""}}, {"type": 4, "data": {"components": [{"type": 2}]}}]  # fmt: skip
    for body in shapes:
        path = f"{API}/interactions/{got['id']}/{got['token']}/callback"
        response = await w.bot_edge.client.post(path, json=body)
        assert 400 <= response.status < 500, (body, await response.text())
    for body in (
        {"type": 1, "data": {"id": w.command["id"], "name": "echo", "type": 1, "options": "x"}},
        {
            "type": 2,
            "data": {"id": w.command["id"], "name": "echo", "type": 1, "options": [1, {"name": "text"}]},
        },
    ):
        full = {"application_id": w.bot_id, "channel_id": w.channel_id, **body}
        response = await w.user_edge.client.post(f"{API}/interactions", json=full, headers=w.user_headers)
        assert 400 <= response.status < 500, (body, await response.text())


async def test_resolved_members_and_channels_carry_their_permissions(world: World) -> None:
    w = world
    who = {"name": "who", "description": "Point at someone", "options": [
        {"type": 6, "name": "user", "description": "who", "required": True},
        {"type": 7, "name": "where", "description": "where", "required": True}]}  # fmt: skip
    path = f"/applications/{w.bot_id}/guilds/{w.guild_id}/commands"
    command = await w.bot_edge.rest("POST", path, w.bot_headers, json=who)
    quiet = {"name": "quiet", "permission_overwrites": [{"id": w.bot_id, "type": 1, "deny": str(1 << 11)}]}
    hidden = await w.user_edge.rest("POST", f"/guilds/{w.guild_id}/channels", w.user_headers, json=quiet)
    data = {"id": command["id"], "name": "who", "type": 1,
            "options": [{"type": 6, "name": "user", "value": w.bot_id},
                        {"type": 7, "name": "where", "value": w.channel_id}]}  # fmt: skip
    body = {"type": 2, "application_id": w.bot_id, "channel_id": hidden["id"], "nonce": "1", "data": data}
    await _call(w.user_edge.client, "POST", "/interactions", w.user_headers, 204, json=body)
    got = (await w.bot.dispatch("INTERACTION_CREATE"))["d"]
    resolved = got["data"]["resolved"]
    member_bits = int(resolved["members"][w.bot_id]["permissions"])  # the bot's, in #quiet
    assert member_bits & (1 << 10) and not member_bits & (1 << 11)  # it views but may not send there
    assert member_bits == int(got["app_permissions"])
    channel_bits = int(resolved["channels"][w.channel_id]["permissions"])  # alice's, in #general
    assert channel_bits == int(got["member"]["permissions"]) and channel_bits & (1 << 11)
