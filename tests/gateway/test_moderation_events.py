"""The gateway events of moderation and management reach a session that may see them, in the
order the actions were taken: INVITE_CREATE / INVITE_DELETE, GUILD_MEMBER_UPDATE (a timeout),
GUILD_ROLE_UPDATE / GUILD_ROLE_DELETE, MESSAGE_DELETE_BULK, GUILD_BAN_ADD / GUILD_BAN_REMOVE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Edge = Any
EXPECTED = [
    "INVITE_CREATE", "GUILD_MEMBER_UPDATE", "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE",
    "MESSAGE_DELETE_BULK", "GUILD_BAN_ADD", "GUILD_BAN_REMOVE", "INVITE_DELETE",
]  # fmt: skip


async def test_moderation_events_reach_the_owner_in_order(edge: Edge) -> None:
    token, owner, guild, general = await edge.guild_with_bot()
    gid, cid = guild["id"], general["id"]
    session = await edge.connect()
    await session.identify(token)
    await session.dispatch("GUILD_CREATE")
    invite = await edge.rest("POST", f"/channels/{cid}/invites", owner, json={})
    _, member, member_headers = await edge.register("member")
    await edge.rest("POST", f"/invites/{invite['code']}", member_headers)
    until = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    await edge.rest(
        "PATCH", f"/guilds/{gid}/members/{member['id']}", owner, json={"communication_disabled_until": until}
    )
    role = await edge.rest("POST", f"/guilds/{gid}/roles", owner, json={"name": "temp"})
    await edge.rest("PATCH", f"/guilds/{gid}/roles/{role['id']}", owner, json={"name": "renamed"})
    await edge.rest("DELETE", f"/guilds/{gid}/roles/{role['id']}", owner)
    sent = [
        await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": f"m{i}"})
        for i in range(2)
    ]
    await edge.rest(
        "POST", f"/channels/{cid}/messages/bulk-delete", owner, json={"messages": [m["id"] for m in sent]}
    )
    await edge.rest("PUT", f"/guilds/{gid}/bans/{member['id']}", owner, json={})
    await edge.rest("DELETE", f"/guilds/{gid}/bans/{member['id']}", owner)
    await edge.rest("DELETE", f"/invites/{invite['code']}", owner)
    seen: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    while len(order) < len(EXPECTED):
        frame = await session.recv()
        if frame["op"] == 0 and frame["t"] in EXPECTED and frame["t"] not in seen:
            seen[frame["t"]] = frame["d"]
            order.append(frame["t"])
    assert order == EXPECTED
    assert seen["INVITE_CREATE"]["code"] == invite["code"] and seen["INVITE_DELETE"]["code"] == invite["code"]
    assert seen["GUILD_MEMBER_UPDATE"]["user"]["id"] == member["id"]
    assert seen["GUILD_MEMBER_UPDATE"]["communication_disabled_until"] is not None
    assert seen["GUILD_ROLE_UPDATE"]["role"]["name"] == "renamed"
    assert seen["GUILD_ROLE_DELETE"] == {"guild_id": gid, "role_id": role["id"]}
    assert sorted(seen["MESSAGE_DELETE_BULK"]["ids"]) == sorted(m["id"] for m in sent)
    assert seen["GUILD_BAN_ADD"]["user"]["id"] == seen["GUILD_BAN_REMOVE"]["user"]["id"] == member["id"]


async def test_audit_log_entries_reach_only_members_who_may_view_the_log(edge: Edge) -> None:
    token, owner, guild, general = await edge.guild_with_bot()
    gid = guild["id"]
    invite = await edge.rest("POST", f"/channels/{general['id']}/invites", owner, json={})
    member_token, member, member_headers = await edge.register("member")
    await edge.rest("POST", f"/invites/{invite['code']}", member_headers)
    sessions = []
    for who in (token, member_token):
        session = await edge.connect()
        await session.identify(who)
        await session.dispatch("GUILD_CREATE")
        sessions.append(session)
    owner_session, member_session = sessions
    await edge.rest(
        "PATCH", f"/guilds/{gid}", {**owner, "X-Audit-Log-Reason": "first"}, json={"name": "Renamed"}
    )
    role = await edge.rest(
        "POST", f"/guilds/{gid}/roles", owner, json={"name": "auditor", "permissions": str(1 << 7)}
    )
    await edge.rest("PATCH", f"/guilds/{gid}/members/{member['id']}", owner, json={"roles": [role["id"]]})
    seen_by_owner = [(await owner_session.dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE"))["d"] for _ in range(3)]
    assert [e["action_type"] for e in seen_by_owner] == [1, 30, 25]
    assert seen_by_owner[0]["reason"] == "first" and seen_by_owner[0]["guild_id"] == gid
    # The member could not view the log for the first two entries; the first they hear of is the
    # role update that made them an auditor (deliveries to one user keep their order).
    first_for_member = (await member_session.dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE"))["d"]
    assert first_for_member["action_type"] == 25 and first_for_member["target_id"] == member["id"]
