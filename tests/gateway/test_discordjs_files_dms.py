"""The real discord.js 14 (unmodified but for its API base) uploads a file and downloads it from
its attachment URL, and DMs a user (``user.send``) whose own gateway session receives it."""

from __future__ import annotations

from rayguild.fanout.events import DIRECT_MESSAGES
from tests.clients import discordjs_bots

from .conftest import Edge


async def test_discordjs_uploads_downloads_and_dms(edge: Edge) -> None:
    base = edge.for_libraries()
    token, headers, _, channel = await edge.guild_with_bot()
    _, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    human_gw = await edge.connect()
    await human_gw.identify(human_headers["Authorization"], intents=DIRECT_MESSAGES)
    seen = await discordjs_bots.run("files_dms.mjs", base, token, channel["id"], human["id"])
    # The bot has finished; its DM is waiting in the human's session.
    received = (await human_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert seen["blob_equal"]
    assert seen["attachment"] == {"name": "blob.bin", "size": 600 * 1024 + 3, "description": "random"}
    assert seen["dm_type"] == 1 and seen["dm_file"] == "js dm"
    assert received["id"] == seen["dm_message"] and received["channel_id"] == seen["dm_channel"]
    assert received["content"] == "hello from discord.js in a DM"
