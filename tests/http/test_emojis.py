"""Guild emojis over REST: create from a data URI, list, get, modify, delete; validation,
permissions, audit entries; 2xx bodies checked against Discord's OpenAPI description."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from tests.http.helpers import NewGuild, audit_kinds, call
from tests.http.spec import assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


async def test_emoji_lifecycle(client: Client, register: Any, new_guild: NewGuild) -> None:
    owner, member = await register("owner"), await register("member")
    gid = (await new_guild("Emojis", owner, member)).id
    created = await call(
        client, owner, "POST", f"/guilds/{gid}/emojis", 201, json={"name": "party", "image": PNG}
    )
    assert_matches_spec("POST", "/guilds/{guild_id}/emojis", 201, created)
    assert created["name"] == "party" and created["user"]["id"] == owner.id and created["animated"] is False
    listed = await call(client, member, "GET", f"/guilds/{gid}/emojis")
    assert_matches_spec("GET", "/guilds/{guild_id}/emojis", 200, listed)
    assert [e["id"] for e in listed] == [created["id"]]
    path = f"/guilds/{gid}/emojis/{created['id']}"
    one = await call(client, member, "GET", path)
    assert_matches_spec("GET", "/guilds/{guild_id}/emojis/{emoji_id}", 200, one)
    renamed = await call(client, owner, "PATCH", path, json={"name": "party2"})
    assert_matches_spec("PATCH", "/guilds/{guild_id}/emojis/{emoji_id}", 200, renamed)
    assert renamed["name"] == "party2"
    for body, field in (
        ({"name": "x", "image": PNG}, "name"),
        ({"name": "ok", "image": "not a uri"}, "image"),
    ):
        bad = await call(client, owner, "POST", f"/guilds/{gid}/emojis", 400, json=body)
        assert bad["code"] == 50035 and field in bad["errors"]
    big = "data:image/png;base64," + base64.b64encode(b"\x00" * (256 * 1024 + 1)).decode()
    too_big = await call(
        client, owner, "POST", f"/guilds/{gid}/emojis", 413, json={"name": "big", "image": big}
    )
    assert too_big["code"] == 40005
    refused = await call(
        client, member, "POST", f"/guilds/{gid}/emojis", 403, json={"name": "nope", "image": PNG}
    )
    assert refused["code"] == 50013
    assert (await call(client, member, "DELETE", path, 403))["code"] == 50013
    await call(client, owner, "DELETE", path, 204)
    assert_no_content("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}", 204)
    assert (await call(client, owner, "GET", path, 404))["code"] == 10014
    assert (await audit_kinds(client, owner, gid))[:3] == [62, 61, 60]


async def test_application_emojis(client: Client, register: Any) -> None:
    bot, other = await register("appbot", bot=True), await register("other", bot=True)
    base = f"/applications/{bot.id}/emojis"
    created = await call(client, bot, "POST", base, 201, json={"name": "wave", "image": PNG})
    assert_matches_spec("POST", "/applications/{application_id}/emojis", 201, created)
    listed = await call(client, bot, "GET", base)
    assert_matches_spec("GET", "/applications/{application_id}/emojis", 200, listed)
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    one = await call(client, bot, "GET", f"{base}/{created['id']}")
    assert_matches_spec("GET", "/applications/{application_id}/emojis/{emoji_id}", 200, one)
    renamed = await call(client, bot, "PATCH", f"{base}/{created['id']}", json={"name": "waves"})
    assert_matches_spec("PATCH", "/applications/{application_id}/emojis/{emoji_id}", 200, renamed)
    assert renamed["name"] == "waves"
    assert (await call(client, other, "GET", base, 404))["code"] == 10002
    await call(client, bot, "DELETE", f"{base}/{created['id']}", 204)
    assert_no_content("DELETE", "/applications/{application_id}/emojis/{emoji_id}", 204)
    assert (await call(client, bot, "GET", f"{base}/{created['id']}", 404))["code"] == 10014


async def test_role_member_counts(client: Client, register: Any, new_guild: NewGuild) -> None:
    owner, member = await register("owner"), await register("member")
    gid = (await new_guild("Counts", owner, member)).id
    role = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "one"})
    await call(client, owner, "PATCH", f"/guilds/{gid}/members/{member.id}", json={"roles": [role["id"]]})
    counts = await call(client, member, "GET", f"/guilds/{gid}/roles/member-counts")
    assert_matches_spec("GET", "/guilds/{guild_id}/roles/member-counts", 200, counts)
    assert counts == {gid: 2, role["id"]: 1}
    mine = await call(client, member, "GET", f"/users/@me/applications/{owner.id}/entitlements")
    assert_matches_spec("GET", "/users/@me/applications/{application_id}/entitlements", 200, mine)


async def test_sticker_lifecycle(client: Client, register: Any) -> None:
    owner, outsider = await register("owner"), await register("outsider")
    guild = await call(client, owner, "POST", "/guilds", 201, json={"name": "Stickers"})
    gid = guild["id"]
    assert (await call(client, outsider, "GET", f"/guilds/{gid}/stickers", 403))["code"] == 50001
    form = aiohttp.FormData()
    form.add_field("name", "cat")
    form.add_field("tags", "cat,cute")
    form.add_field("description", "a cat")
    form.add_field("file", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, filename="cat.png", content_type="image/png")
    created = await call(client, owner, "POST", f"/guilds/{gid}/stickers", 201, data=form)
    assert_matches_spec("POST", "/guilds/{guild_id}/stickers", 201, created)
    assert created["name"] == "cat" and created["format_type"] == 1 and created["user"]["id"] == owner.id
    listed = await call(client, owner, "GET", f"/guilds/{gid}/stickers")
    assert_matches_spec("GET", "/guilds/{guild_id}/stickers", 200, listed)
    path = f"/guilds/{gid}/stickers/{created['id']}"
    one = await call(client, owner, "GET", path)
    assert_matches_spec("GET", "/guilds/{guild_id}/stickers/{sticker_id}", 200, one)
    edited = await call(client, owner, "PATCH", path, json={"name": "kitty", "description": None})
    assert_matches_spec("PATCH", "/guilds/{guild_id}/stickers/{sticker_id}", 200, edited)
    assert edited["name"] == "kitty" and edited["description"] is None
    bad = await call(client, owner, "PATCH", path, 400, json={"name": "x"})
    assert bad["code"] == 50035 and "name" in bad["errors"]
    no_file = await call(
        client, owner, "POST", f"/guilds/{gid}/stickers", 400, json={"name": "dog", "tags": "dog"}
    )
    assert no_file["code"] == 50035 and "file" in no_file["errors"]
    await call(client, owner, "DELETE", path, 204)
    assert_no_content("DELETE", "/guilds/{guild_id}/stickers/{sticker_id}", 204)
    assert (await call(client, owner, "GET", path, 404))["code"] == 10060
    assert (await audit_kinds(client, owner, gid))[:3] == [92, 91, 90]
