"""Guild settings over REST: preview, widget, vanity URL, welcome screen, onboarding, invite lists,
channel positions, overwrites, voice regions; validation, permissions, audit entries, and every
2xx body checked against Discord's OpenAPI description."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.http import test_moderation
from tests.http.helpers import Client, NewGuild, audit_kinds, call
from tests.http.spec import assert_matches_spec, assert_no_content

limit_scale = test_moderation.limit_scale  # the edge with scaled-up limits


@pytest.fixture
async def world(register: Any, new_guild: NewGuild) -> dict[str, Any]:
    owner, member = await register("owner"), await register("member")
    guild = await new_guild("Settings", owner, member)
    return {
        "owner": owner,
        "member": member,
        "gid": guild.id,
        "general": guild.channel,
        "invite": guild.invite,
    }


async def check(client: Client, who: Any, method: str, template: str, path: str, **kw: Any) -> Any:
    body = await call(client, who, method, path, **kw)
    assert_matches_spec(method, template, 200, body)
    return body


async def test_preview_vanity_and_regions(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid = world["owner"], world["member"], world["gid"]
    shown = await check(client, member, "GET", "/guilds/{guild_id}/preview", f"/guilds/{gid}/preview")
    assert shown["name"] == "Settings" and shown["approximate_member_count"] == 2
    assert await check(client, owner, "GET", "/guilds/{guild_id}/vanity-url", f"/guilds/{gid}/vanity-url") == {
        "code": None, "uses": 0,
    }  # fmt: skip
    assert (await call(client, member, "GET", f"/guilds/{gid}/vanity-url", 403))["code"] == 50013
    assert await check(client, member, "GET", "/guilds/{guild_id}/regions", f"/guilds/{gid}/regions") == []
    assert await check(client, member, "GET", "/voice/regions", "/voice/regions") == []


async def test_widget_settings_and_widget_json(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, cid = world["owner"], world["member"], world["gid"], world["general"]["id"]
    assert (await call(client, owner, "GET", f"/guilds/{gid}/widget.json", 403))["code"] == 50004
    settings = await check(client, owner, "GET", "/guilds/{guild_id}/widget", f"/guilds/{gid}/widget")
    assert settings == {"enabled": False, "channel_id": None}
    changed = await check(client, owner, "PATCH", "/guilds/{guild_id}/widget", f"/guilds/{gid}/widget",
                          json={"enabled": True, "channel_id": cid})  # fmt: skip
    assert changed == {"enabled": True, "channel_id": cid}
    shown = await check(client, member, "GET", "/guilds/{guild_id}/widget.json", f"/guilds/{gid}/widget.json")
    assert shown["id"] == gid and shown["name"] == "Settings"
    bad = await call(client, owner, "PATCH", f"/guilds/{gid}/widget", 400, json={"channel_id": "12345"})
    assert bad["code"] == 50035 and "channel_id" in bad["errors"]
    assert (await call(client, member, "PATCH", f"/guilds/{gid}/widget", 403, json={"enabled": False}))[
        "code"
    ] == 50013
    log = await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?action_type=1")
    assert {c["key"] for c in log["audit_log_entries"][0]["changes"]} == {
        "widget.enabled",
        "widget.channel_id",
    }


async def test_welcome_screen_and_onboarding_are_kept(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, cid = world["owner"], world["member"], world["gid"], world["general"]["id"]
    empty = await check(
        client, member, "GET", "/guilds/{guild_id}/welcome-screen", f"/guilds/{gid}/welcome-screen"
    )
    assert empty == {"description": None, "welcome_channels": []}
    body = {"description": "Welcome!", "welcome_channels": [{"channel_id": cid, "description": "say hi"}]}
    set_screen = await check(client, owner, "PATCH", "/guilds/{guild_id}/welcome-screen",
                             f"/guilds/{gid}/welcome-screen", json=body)  # fmt: skip
    assert set_screen["welcome_channels"][0]["channel_id"] == cid
    again = await call(client, member, "GET", f"/guilds/{gid}/welcome-screen")
    assert again == set_screen
    too_many = {"welcome_channels": [{"channel_id": cid, "description": "x"}] * 6}
    bad = await call(client, owner, "PATCH", f"/guilds/{gid}/welcome-screen", 400, json=too_many)
    assert bad["code"] == 50035 and "welcome_channels" in bad["errors"]
    shown = await check(client, member, "GET", "/guilds/{guild_id}/onboarding", f"/guilds/{gid}/onboarding")
    assert shown["enabled"] is False and shown["prompts"] == []
    put = await check(client, owner, "PUT", "/guilds/{guild_id}/onboarding", f"/guilds/{gid}/onboarding",
                      json={"enabled": True, "default_channel_ids": [cid], "mode": 1, "prompts": []})  # fmt: skip
    assert put["default_channel_ids"] == [cid] and put["mode"] == 1
    assert (await call(client, member, "GET", f"/guilds/{gid}/onboarding"))["enabled"] is True
    refused = await call(client, member, "PUT", f"/guilds/{gid}/onboarding", 403, json={"enabled": False})
    assert refused["code"] == 50013


async def test_invite_lists_and_channel_positions(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, general = world["owner"], world["member"], world["gid"], world["general"]
    second = await call(client, owner, "POST", f"/guilds/{gid}/channels", 201, json={"name": "second"})
    other = await call(client, owner, "POST", f"/channels/{second['id']}/invites", json={})
    listed = await check(client, owner, "GET", "/guilds/{guild_id}/invites", f"/guilds/{gid}/invites")
    assert sorted(i["code"] for i in listed) == sorted([world["invite"]["code"], other["code"]])
    in_second = await check(
        client, owner, "GET", "/channels/{channel_id}/invites", f"/channels/{second['id']}/invites"
    )
    assert [i["code"] for i in in_second] == [other["code"]]
    assert (await call(client, member, "GET", f"/guilds/{gid}/invites", 403))["code"] == 50013
    await call(client, owner, "PATCH", f"/guilds/{gid}/channels", 204,
               json=[{"id": second["id"], "position": 0}, {"id": general["id"], "position": 1}])  # fmt: skip
    assert_no_content("PATCH", "/guilds/{guild_id}/channels", 204)
    channels = await call(client, owner, "GET", f"/guilds/{gid}/channels")
    assert {c["id"]: c["position"] for c in channels} == {second["id"]: 0, general["id"]: 1}
    unknown = await call(
        client, owner, "PATCH", f"/guilds/{gid}/channels", 404, json=[{"id": "1", "position": 0}]
    )
    assert unknown["code"] == 10003


async def test_permission_overwrites_hide_a_channel(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, cid = world["owner"], world["member"], world["gid"], world["general"]["id"]
    await call(client, member, "GET", f"/channels/{cid}")
    await call(client, owner, "PUT", f"/channels/{cid}/permissions/{member.id}", 204,
               json={"type": 1, "deny": str(1 << 10)}, headers={"X-Audit-Log-Reason": "private"})  # fmt: skip
    assert_no_content("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", 204)
    assert (await call(client, member, "GET", f"/channels/{cid}", 403))["code"] == 50001
    bad = await call(client, owner, "PUT", f"/channels/{cid}/permissions/{member.id}", 400, json={"type": 7})
    assert bad["code"] == 50035 and "type" in bad["errors"]
    missing = await call(client, owner, "PUT", f"/channels/{cid}/permissions/1234", 404, json={"type": 0})
    assert missing["code"] == 10011
    await call(client, owner, "DELETE", f"/channels/{cid}/permissions/{member.id}", 204)
    assert_no_content("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", 204)
    await call(client, member, "GET", f"/channels/{cid}")
    kinds = await audit_kinds(client, owner, gid)
    assert kinds[:2] == [15, 13]


async def test_guild_patch_keeps_every_field_a_bot_may_set(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, cid = world["owner"], world["member"], world["gid"], world["general"]["id"]
    voice = await call(
        client, owner, "POST", f"/guilds/{gid}/channels", 201, json={"name": "talk", "type": 2}
    )
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\x00" * 16).decode()
    body = {
        "verification_level": 2, "default_message_notifications": 1, "explicit_content_filter": 2,
        "afk_channel_id": voice["id"], "afk_timeout": 900, "system_channel_id": cid,
        "system_channel_flags": 3, "rules_channel_id": cid, "public_updates_channel_id": cid,
        "safety_alerts_channel_id": cid, "preferred_locale": "fr", "premium_progress_bar_enabled": True,
        "banner": png, "splash": None, "features": ["COMMUNITY"], "description": "ours",
    }  # fmt: skip
    patched = await check(client, owner, "PATCH", "/guilds/{guild_id}", f"/guilds/{gid}", json=body)
    read = await check(client, member, "GET", "/guilds/{guild_id}", f"/guilds/{gid}")
    for shown in (patched, read):
        for key, value in body.items():
            if key not in ("banner", "splash"):
                assert shown[key] == value, key
        assert shown["banner"] and shown["splash"] is None
    for bad_body, field in (
        ({"afk_timeout": 61}, "afk_timeout"), ({"afk_channel_id": cid}, "afk_channel_id"),
        ({"verification_level": 5}, "verification_level"), ({"features": ["VERIFIED"]}, "features"),
        ({"banner": "nope"}, "banner"),
    ):  # fmt: skip
        bad = await call(client, owner, "PATCH", f"/guilds/{gid}", 400, json=bad_body)
        assert bad["code"] == 50035 and field in bad["errors"]
    log = await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?action_type=1")
    assert "verification_level" in {c["key"] for c in log["audit_log_entries"][0]["changes"]}


async def test_channel_patch_keeps_every_field(client: Client, world: dict[str, Any]) -> None:
    owner, member, gid, cid = world["owner"], world["member"], world["gid"], world["general"]["id"]
    body = {"nsfw": True, "rate_limit_per_user": 30, "default_auto_archive_duration": 1440, "topic": "t"}
    patched = await check(client, owner, "PATCH", "/channels/{channel_id}", f"/channels/{cid}", json=body)
    read = await check(client, member, "GET", "/channels/{channel_id}", f"/channels/{cid}")
    listed = [c for c in await call(client, member, "GET", f"/guilds/{gid}/channels") if c["id"] == cid]
    for shown in (patched, read, *listed):
        assert {k: shown[k] for k in body} == body
    for bad_body, field in (
        ({"rate_limit_per_user": 21601}, "rate_limit_per_user"),
        ({"nsfw": "yes"}, "nsfw"),
    ):
        bad = await call(client, owner, "PATCH", f"/channels/{cid}", 400, json=bad_body)
        assert bad["code"] == 50035 and field in bad["errors"]
    assert (await call(client, member, "PATCH", f"/channels/{cid}", 403, json={"nsfw": False}))[
        "code"
    ] == 50013
