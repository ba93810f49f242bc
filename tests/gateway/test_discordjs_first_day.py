"""A real discord.js 14 bot's first day against an edge: embed, reply, reaction (and its event),
typing (and TYPING_START), pins through /messages/pins, a member role (and GUILD_MEMBER_UPDATE)."""

from __future__ import annotations

from tests.clients import discordjs_bots

from .conftest import Edge


async def test_discordjs_bot_first_day(edge: Edge) -> None:
    base = edge.for_libraries()
    token, headers, _, channel = await edge.guild_with_bot()
    _, other, other_headers = await edge.register("helper-to-be", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", other_headers)
    seen = await discordjs_bots.run("first_day.mjs", base, token, channel["id"], other["id"])
    assert seen["content"] == ""
    embed = seen["embed"]
    assert (embed["title"], embed["description"], embed["color"]) == ("Status", "all good", 0x00FF00)
    assert [f["name"] for f in embed["fields"]] == ["uptime", "load"] and embed["footer"][
        "text"
    ] == "rayguild"
    assert seen["reply"]["type"] == 19 and seen["reply"]["reference"] == seen["sent_id"]
    assert seen["reaction"] == {"emoji": "\N{THUMBS UP SIGN}", "user": seen["me"], "count": 1}
    assert seen["counts"] == [["\N{THUMBS UP SIGN}", 1, True]]
    assert seen["typing"] == seen["me"]
    assert seen["pins"] == [seen["sent_id"]]
    assert seen["roles"] == ["@everyone", "helper"]
