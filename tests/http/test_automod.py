"""Auto-moderation rules over REST: create, list, get, modify, delete with MANAGE_GUILD, limits
and validation, audit entries; a keyword rule really blocks a member's message (400 200000),
spares exempt roles and managers, and its timeout action times the author out; 2xx bodies
checked against Discord's OpenAPI description."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http import test_moderation
from tests.http.helpers import call, joined_guild
from tests.http.spec import assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
limit_scale = test_moderation.limit_scale  # the edge with scaled-up limits: these tests post in bursts
BASE = "/guilds/{guild_id}/auto-moderation/rules"
ONE = BASE + "/{rule_id}"
KEYWORDS = {"name": "No swearing", "event_type": 1, "trigger_type": 1, "enabled": True,
            "trigger_metadata": {"keyword_filter": ["darn", "heck*"], "regex_patterns": [r"b[a4]d\s*word"],
                                 "allow_list": ["heckin"]},
            "actions": [{"type": 1, "metadata": {"custom_message": "Keep it clean"}}]}  # fmt: skip


async def _guild(client: Client, register: Any) -> tuple[Any, Any, str, str]:
    owner, member = await register("admin"), await register("talker")
    guild = await joined_guild(client, "AutoMod", owner, member)
    return owner, member, guild.id, guild.channel["id"]


async def test_rule_lifecycle(client: Client, register: Any) -> None:
    owner, member, gid, channel = await _guild(client, register)
    rules = f"/guilds/{gid}/auto-moderation/rules"
    created = await call(client, owner, "POST", rules, json=KEYWORDS)
    assert_matches_spec("POST", BASE, 200, created)
    assert created["trigger_metadata"]["keyword_filter"] == ["darn", "heck*"]
    mentions = {"name": "Mentions", "event_type": 1, "trigger_type": 5,
                "trigger_metadata": {"mention_total_limit": 3},
                "actions": [{"type": 2, "metadata": {"channel_id": channel}}]}  # fmt: skip
    second = await call(client, owner, "POST", rules, json=mentions)
    listed = await call(client, owner, "GET", rules)
    assert_matches_spec("GET", BASE, 200, listed)
    assert sorted(r["id"] for r in listed) == sorted([created["id"], second["id"]])
    assert (await call(client, owner, "POST", rules, 400, json=mentions))["code"] == 50035  # one per type
    path = f"{rules}/{created['id']}"
    one = await call(client, owner, "GET", path)
    assert_matches_spec("GET", ONE, 200, one)
    assert one == created
    renamed = await call(client, owner, "PATCH", path, json={"name": "Clean", "enabled": False})
    assert_matches_spec("PATCH", ONE, 200, renamed)
    assert renamed["name"] == "Clean" and renamed["enabled"] is False
    assert renamed["actions"] == created["actions"]
    immutable = await call(client, owner, "PATCH", path, 400, json={"trigger_type": 5})
    assert immutable["code"] == 50035
    for bad, field in (
        ({"event_type": 2}, "event_type"),
        ({"actions": []}, "actions"),
        ({"trigger_metadata": {"regex_patterns": ["("]}}, "regex_patterns"),
        ({"exempt_roles": ["1234"]}, "exempt_roles"),
        ({"trigger_type": 2}, "trigger_type"),
    ):
        refused = await call(client, owner, "POST", rules, 400, json={**KEYWORDS, **bad})
        assert refused["code"] == 50035 and field in refused["errors"], (bad, refused)
    assert (await call(client, member, "GET", rules, 403))["code"] == 50013
    assert (await call(client, member, "POST", rules, 403, json=KEYWORDS))["code"] == 50013
    await call(client, owner, "DELETE", path, 204)
    assert_no_content("DELETE", ONE, 204)
    gone = await call(client, owner, "GET", path, 404)
    assert (gone["code"], gone["message"]) == (0, "Unknown Auto Moderation Rule")
    entries = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs"))["audit_log_entries"]
    assert [e["action_type"] for e in entries][:4] == [142, 141, 140, 140]


async def test_keyword_rule_blocks_messages(client: Client, register: Any) -> None:
    owner, member, gid, channel = await _guild(client, register)
    rules = f"/guilds/{gid}/auto-moderation/rules"
    rule = await call(client, owner, "POST", rules, json=KEYWORDS)
    send = f"/channels/{channel}/messages"
    for content in ("oh darn it", "HECKING hell", "a bad word", "b4d   word!"):
        blocked = await call(client, member, "POST", send, 400, json={"content": content})
        assert blocked["code"] == 200000 and blocked["message"] == "Keep it clean", content
    for content in ("darned", "heckin good", "hello"):  # not whole words, allowed, clean
        await call(client, member, "POST", send, json={"content": content})
    clean = await call(client, member, "POST", send, json={"content": "all clean"})
    edited = await call(client, member, "PATCH", f"{send}/{clean['id']}", 400, json={"content": "darn it"})
    assert edited["code"] == 200000  # an edit is checked too
    await call(client, owner, "POST", send, json={"content": "darn"})  # managers are never checked
    role = await call(client, owner, "POST", f"/guilds/{gid}/roles", json={"name": "trusted"})
    await call(client, owner, "PUT", f"/guilds/{gid}/members/{member.id}/roles/{role['id']}", 204)
    await call(client, owner, "PATCH", f"{rules}/{rule['id']}", json={"exempt_roles": [role["id"]]})
    await call(client, member, "POST", send, json={"content": "darn"})
    await call(client, owner, "PATCH", f"{rules}/{rule['id']}", json={
        "exempt_roles": [], "actions": [{"type": 1, "metadata": {}}, {"type": 3, "metadata": {"duration_seconds": 60}}],
    })  # fmt: skip
    blocked = await call(client, member, "POST", send, 400, json={"content": "darn"})
    assert blocked["code"] == 200000 and blocked["message"] == "Message was blocked by automatic moderation"
    timed_out = await call(client, owner, "GET", f"/guilds/{gid}/members/{member.id}")
    assert timed_out["communication_disabled_until"] is not None
    assert (await call(client, member, "POST", send, 403, json={"content": "hello"}))["code"] == 50013
