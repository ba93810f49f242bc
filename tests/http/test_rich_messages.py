"""Rich messages over REST: embeds and components validated to Discord's limits (400 50035 with
the field's path), content optional beside them, replies, mentions and allowed_mentions,
SUPPRESS_EMBEDS; every 2xx body matches Discord's OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from rayguild.http_api import message_core
from rayguild.http_api.keys import CTX
from rayguild.http_api.message_core import parse_body
from tests.http.test_openapi_shapes import assert_matches_spec

API = "/api/v10"
Client = TestClient[Any, Any]
CREATE = "/channels/{channel_id}/messages"
ONE = "/channels/{channel_id}/messages/{message_id}"


async def call(client: Client, account: Any, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=account.headers, **kw)
    assert response.status == status, await response.text()
    return await response.json() if response.status != 204 else None


@pytest.fixture
async def room(client: Client, register: Any) -> dict[str, Any]:
    owner, bot = await register("owner"), await register("robot", bot=True)
    guild = await call(client, owner, "POST", "/guilds", 201, json={"name": "Rich"})
    channel = (await call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await call(client, bot, "POST", f"/invites/{invite['code']}")
    return {"owner": owner, "bot": bot, "guild": guild, "cid": channel["id"]}


def field_error(body: dict[str, Any], path: str) -> str:
    node = body["errors"]
    for part in path.split("."):
        node = node[part]
    return str(node["_errors"][0]["code"])


async def test_embed_only_message(client: Client, room: dict[str, Any]) -> None:
    embed = {
        "title": "Status", "description": "All good", "color": 0x00FF00,
        "timestamp": "2026-01-02T03:04:05+00:00", "footer": {"text": "f", "icon_url": "https://x/i.png"},
        "author": {"name": "me"}, "fields": [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "inline": True}],
        "image": {"url": "https://x/a.png"}, "url": "https://example.com",
    }  # fmt: skip
    sent = await call(
        client, room["bot"], "POST", f"/channels/{room['cid']}/messages", json={"embeds": [embed]}
    )
    assert_matches_spec("POST", CREATE, 200, sent)
    assert sent["content"] == ""
    (shown,) = sent["embeds"]
    assert shown["type"] == "rich" and shown["title"] == "Status"
    assert shown["fields"][0] == {"name": "a", "value": "1", "inline": False}
    got = await call(client, room["owner"], "GET", f"/channels/{room['cid']}/messages/{sent['id']}")
    assert_matches_spec("GET", ONE, 200, got)
    assert got["embeds"] == sent["embeds"]


@pytest.mark.parametrize(
    ("embeds", "path", "code"),
    [
        ([{"title": "x"}] * 11, "embeds", "BASE_TYPE_MAX_LENGTH"),
        ([{"title": "t" * 257}], "embeds.0.title", "BASE_TYPE_MAX_LENGTH"),
        ([{"description": "d" * 4097}], "embeds.0.description", "BASE_TYPE_MAX_LENGTH"),
        ([{"fields": [{"name": "n", "value": "v"}] * 26}], "embeds.0.fields", "BASE_TYPE_MAX_LENGTH"),
        ([{"fields": [{"name": "n", "value": "v"}] * 3 + [{"name": "n", "value": "v" * 1025}]}],
         "embeds.0.fields.3.value", "BASE_TYPE_MAX_LENGTH"),
        ([{"title": "ok"}, {"fields": [{"name": "n" * 257, "value": "v"}]}], "embeds.1.fields.0.name",
         "BASE_TYPE_MAX_LENGTH"),
        ([{"fields": [{"value": "v"}]}], "embeds.0.fields.0.name", "BASE_TYPE_REQUIRED"),
        ([{"footer": {"text": "f" * 2049}}], "embeds.0.footer.text", "BASE_TYPE_MAX_LENGTH"),
        ([{"author": {"name": "a" * 257}}], "embeds.0.author.name", "BASE_TYPE_MAX_LENGTH"),
        ([{"description": "d" * 4000}, {"description": "d" * 2001}], "embeds", "MAX_EMBED_SIZE_EXCEEDED"),
        ([{"color": 0x1000000}], "embeds.0.color", "NUMBER_TYPE_MAX"),
        ([{"url": "not a url"}], "embeds.0.url", "URL_TYPE_INVALID_URL"),
        ([{"timestamp": "yesterday"}], "embeds.0.timestamp", "DATE_TYPE_PARSE"),
        (["text"], "embeds.0", "DICT_TYPE_CONVERT"),
    ],
)  # fmt: skip
async def test_bad_embeds_name_their_field(
    client: Client, room: dict[str, Any], embeds: list[Any], path: str, code: str
) -> None:
    body = await call(
        client, room["bot"], "POST", f"/channels/{room['cid']}/messages", 400, json={"embeds": embeds}
    )
    assert body["code"] == 50035
    assert field_error(body, path) == code


async def test_six_thousand_characters_fit(client: Client, room: dict[str, Any]) -> None:
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2000}]
    await call(client, room["bot"], "POST", f"/channels/{room['cid']}/messages", json={"embeds": embeds})


async def test_components_are_validated_numbered_and_stored(client: Client, room: dict[str, Any]) -> None:
    rows = [
        {"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Yes", "custom_id": "yes"},
            {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"},
        ]},
        {"type": 1, "components": [{"type": 3, "custom_id": "pick", "options": [
            {"label": "A", "value": "a"}, {"label": "B", "value": "b"}], "max_values": 2}]},
        {"type": 1, "components": [{"type": 5, "custom_id": "who"}]},
    ]  # fmt: skip
    sent = await call(
        client, room["bot"], "POST", f"/channels/{room['cid']}/messages", json={"components": rows}
    )
    assert_matches_spec("POST", CREATE, 200, sent)
    assert [c["id"] for c in sent["components"]] == [1, 4, 6]
    assert sent["components"][1]["components"][0]["min_values"] == 1
    history = await call(client, room["owner"], "GET", f"/channels/{room['cid']}/messages")
    assert_matches_spec("GET", CREATE, 200, history)
    assert history[0]["components"] == sent["components"]


@pytest.mark.parametrize(
    ("rows", "path"),
    [
        ([{"type": 1, "components": [{"type": 2, "style": 7, "label": "x", "custom_id": "a"}]}],
         "components.0.components.0.style"),
        ([{"type": 1, "components": [{"type": 2, "style": 1, "label": "x"}]}], "components.0.components.0.custom_id"),
        ([{"type": 1, "components": [{"type": 2, "style": 5, "label": "x", "custom_id": "a"}]}],
         "components.0.components.0.url"),
        ([{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "a", "url": "https://x"}]}],
         "components.0.components.0.url"),
        ([{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": []}]}],
         "components.0.components.0.options"),
        ([{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}] * 26}]}],
         "components.0.components.0.options"),
        ([{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": f"b{i}"} for i in range(6)]}],
         "components.0.components"),
        ([{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]},
                                     {"type": 2, "style": 1, "label": "x", "custom_id": "b"}]}], "components.0.components"),
        ([{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "d"}]},
          {"type": 1, "components": [{"type": 2, "style": 1, "label": "y", "custom_id": "d"}]}],
         "components.1.components.0.custom_id"),
        ([{"type": 1, "components": [{"type": 4, "custom_id": "t", "style": 1, "label": "x"}]}],
         "components.0.components.0.type"),
        ([{"type": 2, "style": 1, "label": "x", "custom_id": "a"}], "components.0.type"),
        ([{"type": 1, "components": []}] * 6, "components"),
    ],
)  # fmt: skip
async def test_bad_components_name_their_field(
    client: Client, room: dict[str, Any], rows: Any, path: str
) -> None:
    body = await call(client, room["bot"], "POST", f"/channels/{room['cid']}/messages", 400,
                      json={"content": "x", "components": rows})  # fmt: skip
    assert body["code"] == 50035
    field_error(body, path)


async def test_empty_message_is_50006(client: Client, room: dict[str, Any]) -> None:
    for body in ({}, {"content": ""}, {"embeds": []}, {"components": []}):
        error = await call(client, room["bot"], "POST", f"/channels/{room['cid']}/messages", 400, json=body)
        assert error["code"] == 50006


async def test_reply_mentions_and_allowed_mentions(client: Client, room: dict[str, Any]) -> None:
    owner, bot, cid = room["owner"], room["bot"], room["cid"]
    first = await call(client, owner, "POST", f"/channels/{cid}/messages", json={"content": "question"})
    reply = await call(client, bot, "POST", f"/channels/{cid}/messages", json={
        "content": f"answer <@{owner.id}> @everyone", "message_reference": {"message_id": first["id"]},
    })  # fmt: skip
    assert_matches_spec("POST", CREATE, 200, reply)
    assert reply["type"] == 19
    assert reply["referenced_message"]["id"] == first["id"]
    assert reply["message_reference"]["message_id"] == first["id"]
    assert [u["id"] for u in reply["mentions"]] == [owner.id]
    assert reply["mention_everyone"] is False  # the bot lacks MENTION_EVERYONE
    quiet = await call(client, bot, "POST", f"/channels/{cid}/messages", json={
        "content": f"hi <@{owner.id}>", "allowed_mentions": {"parse": []},
        "message_reference": {"message_id": first["id"]},
    })  # fmt: skip
    assert quiet["mentions"] == []
    loud = await call(client, owner, "POST", f"/channels/{cid}/messages", json={"content": "@everyone look"})
    assert loud["mention_everyone"] is True  # the owner has every permission
    history = await call(client, owner, "GET", f"/channels/{cid}/messages")
    assert_matches_spec("GET", CREATE, 200, history)
    assert history[2]["referenced_message"]["content"] == "question"
    await call(client, owner, "DELETE", f"/channels/{cid}/messages/{first['id']}", 204)
    gone = await call(client, owner, "GET", f"/channels/{cid}/messages/{reply['id']}")
    assert gone["referenced_message"] is None
    missing = {"content": "x", "message_reference": {"message_id": first["id"]}}
    error = await call(client, bot, "POST", f"/channels/{cid}/messages", 400, json=missing)
    assert field_error(error, "message_reference.message_id") == "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
    missing["message_reference"]["fail_if_not_exists"] = False  # type: ignore[index]
    plain = await call(client, bot, "POST", f"/channels/{cid}/messages", json=missing)
    assert plain["type"] == 0 and "message_reference" not in plain


async def test_suppress_embeds(client: Client, room: dict[str, Any]) -> None:
    owner, bot, cid = room["owner"], room["bot"], room["cid"]
    sent = await call(client, bot, "POST", f"/channels/{cid}/messages",
                      json={"content": "see", "embeds": [{"title": "t"}]})  # fmt: skip
    path = f"/channels/{cid}/messages/{sent['id']}"
    suppressed = await call(client, owner, "PATCH", path, json={"flags": 4})
    assert_matches_spec("PATCH", ONE, 200, suppressed)
    assert (suppressed["flags"], suppressed["embeds"], suppressed["content"]) == (4, [], "see")
    assert "member" not in suppressed  # the owner's member record is not the author's
    error = await call(client, owner, "PATCH", path, 403, json={"content": "mine now"})
    assert error["code"] == 50005
    shown = await call(client, bot, "PATCH", path, json={"flags": 0, "content": "again"})
    assert shown["embeds"][0]["title"] == "t" and shown["edited_timestamp"] is not None
    error = await call(
        client, bot, "POST", f"/channels/{cid}/messages", 400, json={"content": "x", "flags": 64}
    )
    assert field_error(error, "flags") == "MESSAGE_FLAGS_INVALID"


@pytest.mark.parametrize(
    "body",
    [
        {"content": 5}, {"content": "x", "flags": "4"}, {"content": "x", "nonce": True},
        {"embeds": "x"}, {"embeds": [{"fields": "x"}]}, {"embeds": [{"footer": "x"}]},
        {"embeds": [{"image": {"url": 5}}]}, {"embeds": [{"image": {}}]}, {"embeds": [{"type": 5}]},
        {"embeds": [{"fields": [{"name": "a", "value": "b", "inline": "yes"}]}]},
        {"embeds": [{"fields": [5]}]}, {"embeds": [{"author": {}}]}, {"embeds": [{"footer": {"text": ""}}]},
        {"content": "x", "allowed_mentions": "all"}, {"content": "x", "allowed_mentions": {"parse": "users"}},
        {"content": "x", "allowed_mentions": {"parse": ["nobody"]}},
        {"content": "x", "allowed_mentions": {"users": ["abc"]}},
        {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        {"content": "x", "allowed_mentions": {"replied_user": "no"}},
        {"content": "x", "message_reference": "1"}, {"content": "x", "message_reference": {}},
        {"content": "x", "message_reference": {"message_id": "abc"}},
        {"content": "x", "message_reference": {"message_id": "1", "type": 1}},
        {"content": "x", "message_reference": {"message_id": "1", "fail_if_not_exists": "no"}},
        {"components": "x"}, {"components": [5]}, {"components": [{"type": 1, "components": [5]}]},
        {"components": [{"type": 1, "components": [{"type": 2, "style": "1", "label": "x", "custom_id": "a"}]}]},
        {"components": [{"type": 1, "components": [{"type": 3, "custom_id": "a", "options": ["x"]}]}]},
        {"components": [{"type": 1, "components": [{"type": 3, "custom_id": "a", "options": [{"label": 1, "value": "v"}]}]}]},
        {"components": [{"type": 1, "components": [{"type": 3, "custom_id": "a", "min_values": 3, "max_values": 2,
                                                     "options": [{"label": "l", "value": "v"}]}]}]},
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "a", "emoji": "x"}]}]},
        {"components": [{"type": 1, "components": [{"type": 2, "style": 6, "label": "buy"}]}]},
        {"components": [{"type": 1, "components": [{"type": 6, "custom_id": "r", "options": []}]}]},
        {"sticker_ids": ["1"]}, {"sticker_ids": "1"},
    ],
)  # fmt: skip
async def test_malformed_bodies_are_400_never_500(
    client: Client, room: dict[str, Any], body: dict[str, Any]
) -> None:
    error = await call(client, room["bot"], "POST", f"/channels/{room['cid']}/messages", 400, json=body)
    assert error["code"] in (50035, 50006)


async def test_the_core_for_interactions_and_webhooks(client: Client, room: dict[str, Any]) -> None:
    """What H2a's interactions and webhooks pass to ``message_core.create_message``: a webhook
    author, interaction metadata, an ephemeral flag (stored, never listed or dispatched)."""
    ctx = client.app[CTX]
    channel = await ctx.storage.get_channel(int(room["cid"]))
    bot = await ctx.storage.get_user(int(room["bot"].id))
    assert channel is not None and bot is not None
    hooked = await message_core.create_message(
        ctx, channel, bot, parse_body({"content": "from a hook"}), webhook_id=77,
        author_override={"username": "Captain Hook", "avatar": None}, application_id=bot.id,
    )  # fmt: skip
    assert_matches_spec("POST", CREATE, 200, hooked)
    assert hooked["author"]["id"] == "77" and hooked["author"]["username"] == "Captain Hook"
    assert hooked["webhook_id"] == "77" and "member" not in hooked
    metadata = {"id": "5", "type": 2, "user": {"id": room["owner"].id}, "authorizing_integration_owners": {}}
    secret = await message_core.create_message(
        ctx, channel, bot, parse_body({"content": "only you"}), flags=message_core.EPHEMERAL,
        interaction_metadata=metadata, application_id=bot.id, message_type=20,
    )  # fmt: skip
    assert (secret["flags"], secret["type"], secret["interaction_metadata"]) == (64, 20, metadata)
    listed = await call(client, room["owner"], "GET", f"/channels/{room['cid']}/messages")
    assert [m["id"] for m in listed] == [hooked["id"]]
    await call(client, room["owner"], "GET", f"/channels/{room['cid']}/messages/{secret['id']}", 404)
    stored = await ctx.storage.get_message(channel.id, int(secret["id"]))
    assert stored is not None and stored.interaction_metadata == metadata


async def test_role_mentions(client: Client, room: dict[str, Any]) -> None:
    owner, bot, cid, gid = room["owner"], room["bot"], room["cid"], room["guild"]["id"]
    open_role = await call(
        client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "open", "mentionable": True}
    )
    closed = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "closed"})
    content = f"<@&{open_role['id']}> <@&{closed['id']}> <@&1>"
    by_bot = await call(client, bot, "POST", f"/channels/{cid}/messages", json={"content": content})
    assert by_bot["mention_roles"] == [open_role["id"]]  # a closed role needs MENTION_EVERYONE
    by_owner = await call(client, owner, "POST", f"/channels/{cid}/messages", json={"content": content})
    assert by_owner["mention_roles"] == [open_role["id"], closed["id"]]
    only = {"content": content, "allowed_mentions": {"roles": [closed["id"]]}}
    limited = await call(client, owner, "POST", f"/channels/{cid}/messages", json=only)
    assert limited["mention_roles"] == [closed["id"]]
    edited = await call(client, owner, "PATCH", f"/channels/{cid}/messages/{limited['id']}",
                        json={"content": "no roles now"})  # fmt: skip
    assert edited["mention_roles"] == []
