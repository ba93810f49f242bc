"""A real discord.js 14 bot (Node) bans a member with message deletion, hears GUILD_BAN_ADD, and
reads the ban and its reason back from the audit log and the ban list (in-process edge)."""

from __future__ import annotations

from tests.clients import discordjs_bots

from .conftest import Edge


async def test_a_discordjs_bot_bans_and_reads_the_audit_log(edge: Edge) -> None:
    base = edge.for_libraries()
    token, owner, guild, general = await edge.guild_with_bot()
    invite = await edge.rest("POST", f"/channels/{general['id']}/invites", owner, json={})
    _, spammer, spammer_headers = await edge.register("spammer")
    await edge.rest("POST", f"/invites/{invite['code']}", spammer_headers)
    spam = await edge.rest(
        "POST", f"/channels/{general['id']}/messages", spammer_headers, json={"content": "buy"}
    )
    seen = await discordjs_bots.run("moderator.mjs", base, token, guild["id"], spammer["id"])
    assert "error" not in seen, seen["error"]
    bot_id = (await edge.rest("GET", "/users/@me", owner))["id"]
    assert seen["ban_event"] == spammer["id"]
    assert seen["audit"] == [[22, "spam from discord.js", spammer["id"], bot_id]]
    assert seen["actions"][0] == 22
    assert seen["bans"] == [[spammer["id"], "spam from discord.js"]]
    history = await edge.rest("GET", f"/channels/{general['id']}/messages", owner)
    assert spam["id"] not in {m["id"] for m in history}
