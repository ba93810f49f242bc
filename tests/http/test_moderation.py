"""Moderation over REST: bans (with message deletion), bulk ban, timeouts that really stop a
member, bulk delete, prune, member and role edits with the role hierarchy, and the audit log
with reasons. Every 2xx body is checked against Discord's OpenAPI description."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rayguild.ids import snowflake_at
from tests.http.helpers import Client, NewGuild, audit_kinds, call
from tests.http.spec import assert_matches_spec, assert_no_content

MOD_PERMS = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 7) | (1 << 10) | (1 << 11) | (1 << 13) | (1 << 16) | (1 << 27) | (1 << 28) | (1 << 40)  # fmt: skip


@pytest.fixture
def limit_scale() -> int:
    """Limits scaled up: these tests make more writes than Discord's buckets allow."""
    return 100


@pytest.fixture
async def world(client: Client, register: Any, new_guild: NewGuild) -> dict[str, Any]:
    """owner; mod (a bot holding the "mod" role); alice and bob, plain members; a channel."""
    owner, mod = await register("owner"), await register("mod", bot=True)
    alice, bob = await register("alice"), await register("bob")
    guild = await new_guild("Moderated", owner, mod, alice, bob)
    gid, channel, invite = guild.id, guild.channel, guild.invite
    role = await call(
        client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "mod", "permissions": str(MOD_PERMS)}
    )
    await call(client, owner, "PATCH", f"/guilds/{gid}/members/{mod.id}", json={"roles": [role["id"]]})
    return {"owner": owner, "mod": mod, "alice": alice, "bob": bob, "gid": gid, "cid": channel["id"],
            "invite": invite["code"], "role": role}  # fmt: skip


async def post(client: Client, who: Any, cid: str, content: str, status: int = 200) -> Any:
    return await call(client, who, "POST", f"/channels/{cid}/messages", status, json={"content": content})


async def test_ban_deletes_recent_messages_removes_the_member_and_keeps_them_out(
    client: Client, world: dict[str, Any]
) -> None:
    mod, alice, bob, gid, cid = world["mod"], world["alice"], world["bob"], world["gid"], world["cid"]
    spam = [await post(client, alice, cid, f"spam {i}") for i in range(3)]
    kept = await post(client, bob, cid, "not spam")
    reason = {"X-Audit-Log-Reason": "spam%20and%20%C3%A9moji"}
    await call(client, mod, "PUT", f"/guilds/{gid}/bans/{alice.id}", 204,
               json={"delete_message_seconds": 3600}, headers=reason)  # fmt: skip
    assert_no_content("PUT", "/guilds/{guild_id}/bans/{user_id}", 204)
    history = await call(client, bob, "GET", f"/channels/{cid}/messages?limit=100")
    ids = {m["id"] for m in history}
    assert kept["id"] in ids and not ids & {m["id"] for m in spam}
    error = await call(client, mod, "GET", f"/guilds/{gid}/members/{alice.id}", 404)
    assert error["code"] == 10007
    ban = await call(client, mod, "GET", f"/guilds/{gid}/bans/{alice.id}")
    assert_matches_spec("GET", "/guilds/{guild_id}/bans/{user_id}", 200, ban)
    assert ban["user"]["id"] == alice.id and ban["reason"] == "spam and émoji"
    refused = await call(client, alice, "POST", f"/invites/{world['invite']}", 403)
    assert refused["code"] == 40007
    log = await call(client, mod, "GET", f"/guilds/{gid}/audit-logs?action_type=22")
    assert_matches_spec("GET", "/guilds/{guild_id}/audit-logs", 200, log)
    (entry,) = log["audit_log_entries"]
    assert entry["target_id"] == alice.id and entry["user_id"] == mod.id
    assert entry["reason"] == "spam and émoji" and "options" not in entry
    assert {u["id"] for u in log["users"]} == {alice.id, mod.id}
    await call(client, mod, "DELETE", f"/guilds/{gid}/bans/{alice.id}", 204)
    assert_no_content("DELETE", "/guilds/{guild_id}/bans/{user_id}", 204)
    assert (await call(client, mod, "GET", f"/guilds/{gid}/bans/{alice.id}", 404))["code"] == 10026
    await call(client, alice, "POST", f"/invites/{world['invite']}")  # unbanned: may join again


async def test_ban_list_pages_and_bulk_ban(client: Client, world: dict[str, Any], register: Any) -> None:
    owner, mod, gid = world["owner"], world["mod"], world["gid"]
    outsiders = [await register(f"raider{i}") for i in range(4)]
    result = await call(client, owner, "POST", f"/guilds/{gid}/bulk-ban",
                        json={"user_ids": [o.id for o in outsiders] + [owner.id]})  # fmt: skip
    assert_matches_spec("POST", "/guilds/{guild_id}/bulk-ban", 200, result)
    assert sorted(result["banned_users"]) == sorted(o.id for o in outsiders)
    assert result["failed_users"] == [owner.id]
    ids = sorted((o.id for o in outsiders), key=int)
    everything = await call(client, mod, "GET", f"/guilds/{gid}/bans")
    assert_matches_spec("GET", "/guilds/{guild_id}/bans", 200, everything)
    assert [b["user"]["id"] for b in everything] == ids
    page = await call(client, mod, "GET", f"/guilds/{gid}/bans?limit=2&after={ids[0]}")
    assert [b["user"]["id"] for b in page] == ids[1:3]
    page = await call(client, mod, "GET", f"/guilds/{gid}/bans?limit=2&before={ids[3]}")
    assert [b["user"]["id"] for b in page] == ids[1:3]
    bad = await call(client, owner, "POST", f"/guilds/{gid}/bulk-ban", 400, json={"user_ids": ["x"]})
    assert bad["code"] == 50035 and "0" in bad["errors"]["user_ids"]


async def test_the_role_hierarchy_protects_members_above_the_caller(
    client: Client, world: dict[str, Any]
) -> None:
    owner, mod, alice, gid = world["owner"], world["mod"], world["alice"], world["gid"]
    await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "top"})  # above "mod"
    roles = await call(client, owner, "GET", f"/guilds/{gid}/roles")
    top = max(roles, key=lambda r: r["position"])
    await call(client, owner, "PATCH", f"/guilds/{gid}/members/{alice.id}", json={"roles": [top["id"]]})
    for method, path, body in (
        ("PUT", f"/guilds/{gid}/bans/{alice.id}", {}),
        ("PATCH", f"/guilds/{gid}/members/{alice.id}", {"nick": "x"}),
        ("DELETE", f"/guilds/{gid}/members/{alice.id}", None),
        ("PATCH", f"/guilds/{gid}/roles/{top['id']}", {"name": "mine"}),
        ("PUT", f"/guilds/{gid}/bans/{owner.id}", {}),
    ):
        refused = await call(client, mod, method, path, 403, json=body)
        assert refused["code"] == 50013
    assert (await call(client, alice, "GET", f"/guilds/{gid}/bans", 403))["code"] == 50013


async def test_a_timed_out_member_cannot_post_until_the_timeout_is_lifted(
    client: Client, world: dict[str, Any]
) -> None:
    mod, alice, gid, cid = world["mod"], world["alice"], world["gid"], world["cid"]
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    member = await call(client, mod, "PATCH", f"/guilds/{gid}/members/{alice.id}",
                        json={"communication_disabled_until": until}, headers={"X-Audit-Log-Reason": "cool%20off"})  # fmt: skip
    assert_matches_spec("PATCH", "/guilds/{guild_id}/members/{user_id}", 200, member)
    assert member["communication_disabled_until"] is not None
    refused = await post(client, alice, cid, "let me talk", 403)
    assert refused["code"] == 50013
    earlier = await post(client, mod, cid, "react to me")
    for method, path in (("POST", f"/channels/{cid}/typing"),
                         ("PUT", f"/channels/{cid}/messages/{earlier['id']}/reactions/%F0%9F%91%8D/@me")):  # fmt: skip
        assert (await call(client, alice, method, path, 403))["code"] == 50013
    await call(client, alice, "GET", f"/channels/{cid}/messages")  # may still read
    too_long = (datetime.now(UTC) + timedelta(days=29)).isoformat()
    bad = await call(client, mod, "PATCH", f"/guilds/{gid}/members/{alice.id}", 400,
                     json={"communication_disabled_until": too_long})  # fmt: skip
    assert bad["code"] == 50035 and "communication_disabled_until" in bad["errors"]
    owner_timeout = await call(client, world["owner"], "PATCH", f"/guilds/{gid}/members/{world['owner'].id}", 403,
                               json={"communication_disabled_until": until})  # fmt: skip
    assert owner_timeout["code"] == 50013
    log = await call(client, mod, "GET", f"/guilds/{gid}/audit-logs?action_type=24&target_id={alice.id}")
    (entry,) = log["audit_log_entries"]
    assert entry["reason"] == "cool off" and entry["changes"][0]["key"] == "communication_disabled_until"
    lifted = await call(client, mod, "PATCH", f"/guilds/{gid}/members/{alice.id}",
                        json={"communication_disabled_until": None})  # fmt: skip
    assert lifted["communication_disabled_until"] is None
    await post(client, alice, cid, "thanks")


async def test_bulk_delete_bounds_and_effect(client: Client, world: dict[str, Any]) -> None:
    mod, alice, cid = world["mod"], world["alice"], world["cid"]
    messages = [await post(client, alice, cid, f"m{i}") for i in range(3)]
    one = await call(client, mod, "POST", f"/channels/{cid}/messages/bulk-delete", 400,
                     json={"messages": [messages[0]["id"]]})  # fmt: skip
    assert one["code"] == 50035 and "messages" in one["errors"]
    old = str(snowflake_at(int((datetime.now(UTC) - timedelta(days=15)).timestamp() * 1000)))
    too_old = await call(client, mod, "POST", f"/channels/{cid}/messages/bulk-delete", 400,
                         json={"messages": [messages[0]["id"], old]})  # fmt: skip
    assert too_old["code"] == 50034
    refused = await call(client, alice, "POST", f"/channels/{cid}/messages/bulk-delete", 403,
                         json={"messages": [m["id"] for m in messages]})  # fmt: skip
    assert refused["code"] == 50013
    await call(client, mod, "POST", f"/channels/{cid}/messages/bulk-delete", 204,
               json={"messages": [m["id"] for m in messages[:2]]})  # fmt: skip
    assert_no_content("POST", "/channels/{channel_id}/messages/bulk-delete", 204)
    left = await call(client, mod, "GET", f"/channels/{cid}/messages")
    assert [m["id"] for m in left] == [messages[2]["id"]]
    await call(client, mod, "DELETE", f"/channels/{cid}/messages/{messages[2]['id']}", 204)
    assert_no_content("DELETE", "/channels/{channel_id}/messages/{message_id}", 204)
    assert await call(client, mod, "GET", f"/channels/{cid}/messages") == []


async def test_prune_counts_and_removes_roleless_members(client: Client, world: dict[str, Any]) -> None:
    owner, gid = world["owner"], world["gid"]
    counted = await call(client, owner, "GET", f"/guilds/{gid}/prune?days=1")
    assert_matches_spec("GET", "/guilds/{guild_id}/prune", 200, counted)
    assert counted == {"pruned": 0}  # everyone joined just now
    bad = await call(client, owner, "GET", f"/guilds/{gid}/prune?days=31", 400)
    assert bad["code"] == 50035 and "days" in bad["errors"]
    pruned = await call(client, owner, "POST", f"/guilds/{gid}/prune", json={"days": 1})
    assert_matches_spec("POST", "/guilds/{guild_id}/prune", 200, pruned)
    assert pruned == {"pruned": 0}
    await call(client, world["bob"], "DELETE", f"/users/@me/guilds/{gid}", 204)
    assert_no_content("DELETE", "/users/@me/guilds/{guild_id}", 204)
    assert (await call(client, owner, "GET", f"/guilds/{gid}/members/{world['bob'].id}", 404))[
        "code"
    ] == 10007


async def test_member_and_role_edits(client: Client, world: dict[str, Any]) -> None:
    owner, mod, alice, gid = world["owner"], world["mod"], world["alice"], world["gid"]
    me = await call(client, alice, "PATCH", f"/guilds/{gid}/members/@me", json={"nick": "Al"})
    assert_matches_spec("PATCH", "/guilds/{guild_id}/members/@me", 200, me)
    assert me["nick"] == "Al"
    own = await call(client, alice, "GET", f"/users/@me/guilds/{gid}/member")
    assert_matches_spec("GET", "/users/@me/guilds/{guild_id}/member", 200, own)
    found = await call(client, mod, "GET", f"/guilds/{gid}/members/search?query=al&limit=5")
    assert_matches_spec("GET", "/guilds/{guild_id}/members/search", 200, found)
    assert [m["user"]["id"] for m in found] == [alice.id]
    helper = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "helper"})
    edited = await call(
        client, owner, "PATCH", f"/guilds/{gid}/roles/{helper['id']}", json={"name": "helpers", "color": 255}
    )
    assert_matches_spec("PATCH", "/guilds/{guild_id}/roles/{role_id}", 200, edited)
    one = await call(client, mod, "GET", f"/guilds/{gid}/roles/{helper['id']}")
    assert_matches_spec("GET", "/guilds/{guild_id}/roles/{role_id}", 200, one)
    assert one["name"] == "helpers" and one["color"] == 255
    recoloured = await call(  # how discord.py 2.6+ sends a colour
        client,
        owner,
        "PATCH",
        f"/guilds/{gid}/roles/{helper['id']}",
        json={"colors": {"primary_color": 0x123456}},
    )
    assert recoloured["color"] == 0x123456 and recoloured["colors"]["primary_color"] == 0x123456
    ordered = await call(
        client, owner, "PATCH", f"/guilds/{gid}/roles", json=[{"id": helper["id"], "position": 1}]
    )
    assert_matches_spec("PATCH", "/guilds/{guild_id}/roles", 200, ordered)
    bad = await call(
        client, owner, "PATCH", f"/guilds/{gid}/roles/{helper['id']}", 400, json={"color": "red"}
    )
    assert bad["code"] == 50035 and "color" in bad["errors"]
    await call(client, owner, "PATCH", f"/guilds/{gid}/members/{alice.id}", json={"roles": [helper["id"]]})
    await call(client, owner, "DELETE", f"/guilds/{gid}/roles/{helper['id']}", 204)
    assert_no_content("DELETE", "/guilds/{guild_id}/roles/{role_id}", 204)
    assert (await call(client, owner, "GET", f"/guilds/{gid}/members/{alice.id}"))["roles"] == []
    assert (await call(client, owner, "GET", f"/guilds/{gid}/roles/{helper['id']}", 404))["code"] == 10011
    everyone = await call(client, owner, "DELETE", f"/guilds/{gid}/roles/{gid}", 400)
    assert everyone["code"] == 50028
    kinds = await audit_kinds(client, owner, gid)
    assert {24, 25, 30, 31, 32} <= set(kinds)


async def test_the_audit_log_filters_and_needs_its_permission(client: Client, world: dict[str, Any]) -> None:
    owner, mod, alice, gid, cid = world["owner"], world["mod"], world["alice"], world["gid"], world["cid"]
    await call(
        client,
        owner,
        "PATCH",
        f"/guilds/{gid}",
        json={"name": "Renamed"},
        headers={"X-Audit-Log-Reason": "rebrand"},
    )
    await call(client, owner, "PATCH", f"/channels/{cid}", json={"topic": "rules"})
    await call(
        client, mod, "DELETE", f"/guilds/{gid}/members/{alice.id}", 204, headers={"X-Audit-Log-Reason": "bye"}
    )
    assert_no_content("DELETE", "/guilds/{guild_id}/members/{user_id}", 204)
    everything = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs"))["audit_log_entries"]
    kinds = [e["action_type"] for e in everything]
    assert kinds[:3] == [20, 11, 1]  # newest first: kick, channel update, guild update
    by_mod = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?user_id={mod.id}"))[
        "audit_log_entries"
    ]
    assert [e["action_type"] for e in by_mod] == [20] and by_mod[0]["reason"] == "bye"
    older = await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?before={everything[0]['id']}&limit=2")
    assert [e["id"] for e in older["audit_log_entries"]] == [everything[1]["id"], everything[2]["id"]]
    newer = await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?after={everything[2]['id']}&limit=1")
    assert [e["id"] for e in newer["audit_log_entries"]] == [everything[1]["id"]]
    refused = await call(client, world["bob"], "GET", f"/guilds/{gid}/audit-logs", 403)
    assert refused["code"] == 50013
    bad = await call(client, owner, "GET", f"/guilds/{gid}/audit-logs?limit=101", 400)
    assert bad["code"] == 50035
