"""The gateway events of scheduled events and auto-moderation: GUILD_SCHEDULED_EVENT_CREATE /
UPDATE / USER_ADD / DELETE reach a member of the guild; AUTO_MODERATION_RULE_CREATE and
AUTO_MODERATION_ACTION_EXECUTION reach the owner (who may MANAGE_GUILD) but not a plain member."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

Edge = Any
EVENTS = ["GUILD_SCHEDULED_EVENT_CREATE", "GUILD_SCHEDULED_EVENT_UPDATE", "GUILD_SCHEDULED_EVENT_USER_ADD",
          "GUILD_SCHEDULED_EVENT_DELETE"]  # fmt: skip


async def _member_session(
    edge: Edge, cid: str, owner: dict[str, str]
) -> tuple[Any, dict[str, Any], dict[str, str]]:
    invite = await edge.rest("POST", f"/channels/{cid}/invites", owner, json={})
    token, member, headers = await edge.register("watcher")
    await edge.rest("POST", f"/invites/{invite['code']}", headers)
    session = await edge.connect()
    await session.identify(token)
    await session.dispatch("GUILD_CREATE")
    return session, member, headers


async def test_scheduled_event_dispatches(edge: Edge) -> None:
    _, owner, guild, general = await edge.guild_with_bot()
    gid = guild["id"]
    session, _, member_headers = await _member_session(edge, general["id"], owner)
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "name": "Party",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": (start + timedelta(hours=1)).isoformat(),
        "entity_metadata": {"location": "x"},
    }
    event = await edge.rest("POST", f"/guilds/{gid}/scheduled-events", owner, json=body)
    path = f"/guilds/{gid}/scheduled-events/{event['id']}"
    await edge.rest("PATCH", path, owner, json={"name": "Bigger party"})
    await edge.rest("PUT", f"{path}/users/@me", member_headers)
    await edge.rest("DELETE", path, owner)
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < len(EVENTS):
        frame = await session.recv()
        if frame["op"] == 0 and frame["t"] in EVENTS:
            seen[frame["t"]] = frame["d"]
    assert list(seen) == EVENTS
    assert seen["GUILD_SCHEDULED_EVENT_CREATE"]["id"] == event["id"]
    assert seen["GUILD_SCHEDULED_EVENT_UPDATE"]["name"] == "Bigger party"
    assert seen["GUILD_SCHEDULED_EVENT_USER_ADD"]["guild_scheduled_event_id"] == event["id"]
    assert seen["GUILD_SCHEDULED_EVENT_DELETE"]["guild_id"] == gid


async def test_automod_dispatches_reach_managers_only(edge: Edge) -> None:
    token, owner, guild, general = await edge.guild_with_bot()
    gid, cid = guild["id"], general["id"]
    manager = await edge.connect()
    await manager.identify(token)
    await manager.dispatch("GUILD_CREATE")
    member, _, member_headers = await _member_session(edge, cid, owner)
    rule = await edge.rest("POST", f"/guilds/{gid}/auto-moderation/rules", owner, json={
        "name": "words", "event_type": 1, "trigger_type": 1, "enabled": True,
        "trigger_metadata": {"keyword_filter": ["forbidden"]}, "actions": [{"type": 1, "metadata": {}}],
    })  # fmt: skip
    created = await manager.dispatch("AUTO_MODERATION_RULE_CREATE")
    assert created["d"]["id"] == rule["id"]
    response = await edge.client.post(f"/api/v10/channels/{cid}/messages", headers=member_headers,
                                      json={"content": "a forbidden word"})  # fmt: skip
    assert response.status == 400 and (await response.json())["code"] == 200000
    executed = await manager.dispatch("AUTO_MODERATION_ACTION_EXECUTION")
    assert executed["d"]["rule_id"] == rule["id"] and executed["d"]["matched_keyword"] == "forbidden"
    assert executed["d"]["matched_content"] == "forbidden"
    await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": "marker"})
    while True:  # the member's session sees the marker message but neither automod event
        frame = await member.recv()
        assert frame.get("t") not in ("AUTO_MODERATION_RULE_CREATE", "AUTO_MODERATION_ACTION_EXECUTION")
        if frame.get("t") == "MESSAGE_CREATE" and frame["d"]["content"] == "marker":
            break


async def test_guild_create_carries_the_kept_settings(edge: Edge) -> None:
    token, owner, guild, general = await edge.guild_with_bot()
    gid, cid = guild["id"], general["id"]
    await edge.rest("PATCH", f"/guilds/{gid}", owner, json={"verification_level": 2, "afk_timeout": 900})
    await edge.rest("PATCH", f"/channels/{cid}", owner, json={"rate_limit_per_user": 15, "nsfw": True})
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
    emoji = await edge.rest("POST", f"/guilds/{gid}/emojis", owner, json={"name": "wave", "image": png})
    start = datetime.now(UTC) + timedelta(hours=1)
    event = await edge.rest("POST", f"/guilds/{gid}/scheduled-events", owner, json={
        "name": "Soon", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": (start + timedelta(hours=1)).isoformat(), "entity_metadata": {"location": "x"},
    })  # fmt: skip
    session = await edge.connect()
    await session.identify(token)
    created = (await session.dispatch("GUILD_CREATE"))["d"]
    assert (created["verification_level"], created["afk_timeout"]) == (2, 900)
    channel = next(c for c in created["channels"] if c["id"] == cid)
    assert (channel["rate_limit_per_user"], channel["nsfw"]) == (15, True)
    assert [e["id"] for e in created["emojis"]] == [emoji["id"]]
    assert [e["id"] for e in created["guild_scheduled_events"]] == [event["id"]]
    assert created["guild_scheduled_events"][0]["entity_metadata"] == {"location": "x"}


async def test_thread_list_sync_on_gaining_access(edge: Edge) -> None:
    _, owner, guild, general = await edge.guild_with_bot()
    gid = guild["id"]
    hidden = [{"id": gid, "type": 0, "allow": "0", "deny": str(1 << 10)}]  # @everyone may not view
    secret = await edge.rest(
        "POST", f"/guilds/{gid}/channels", owner, json={"name": "secret", "permission_overwrites": hidden}
    )
    staff = await edge.rest(
        "POST", f"/guilds/{gid}/channels", owner, json={"name": "staff", "permission_overwrites": hidden}
    )
    threads = {}
    for channel in (secret, staff):
        threads[channel["id"]] = await edge.rest("POST", f"/channels/{channel['id']}/threads", owner,
                                                 json={"name": f"in {channel['name']}", "type": 11})  # fmt: skip
    session, member, _ = await _member_session(edge, general["id"], owner)
    await edge.rest("PUT", f"/channels/{secret['id']}/permissions/{member['id']}", owner,
                    json={"type": 1, "allow": str(1 << 10), "deny": "0"})  # fmt: skip
    synced = (await session.dispatch("THREAD_LIST_SYNC"))["d"]
    assert synced["channel_ids"] == [secret["id"]] and synced["guild_id"] == gid
    assert [t["id"] for t in synced["threads"]] == [threads[secret["id"]]["id"]]
    role = await edge.rest("POST", f"/guilds/{gid}/roles", owner, json={"name": "staff"})
    await edge.rest("PUT", f"/channels/{staff['id']}/permissions/{role['id']}", owner,
                    json={"type": 0, "allow": str(1 << 10), "deny": "0"})  # fmt: skip
    await edge.rest("PUT", f"/guilds/{gid}/members/{member['id']}/roles/{role['id']}", owner)
    by_role = (await session.dispatch("THREAD_LIST_SYNC"))["d"]
    assert by_role["channel_ids"] == [staff["id"]]
    assert [t["id"] for t in by_role["threads"]] == [threads[staff["id"]]["id"]]
