"""The real discord.py (unmodified but for its base URL) uploads files and downloads them from
their attachment URLs byte for byte, and DMs a user whose own gateway session receives it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from rayguild.fanout.events import DIRECT_MESSAGES
from tests.http.test_uploads import png

from .conftest import Edge

BOT = Path(__file__).with_name("discordpy_files_bot.py")


async def test_discordpy_uploads_downloads_and_dms(edge: Edge, tmp_path: Path) -> None:
    base = str(edge.client.make_url("")).rstrip("/")
    edge.ctx.resume_gateway_url = base.replace("http", "ws", 1)
    token, headers, _, channel = await edge.guild_with_bot()
    _, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    human_gw = await edge.connect()
    await human_gw.identify(human_headers["Authorization"], intents=DIRECT_MESSAGES)
    image = tmp_path / "pic.png"
    image.write_bytes(png(7, 5))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), base, token, channel["id"], human["id"], str(image),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-3000:]
    # The bot has finished; its DM is waiting in the human's session.
    received: dict[str, Any] = (await human_gw.dispatch("MESSAGE_CREATE"))["d"]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["blob_equal"] and seen["blob_sha"] and seen["png_equal"] and seen["dm_file_equal"]
    assert seen["png"] == {"filename": "SPOILER_pic.png", "spoiler": True, "size": [7, 5],
                           "content_type": "image/png", "description": "grey"}  # fmt: skip
    assert seen["dm_is_dm"]
    assert received["id"] == seen["dm_message"] and received["channel_id"] == seen["dm_channel"]
    assert received["content"] == "hello from discord.py in a DM"
    assert [a["filename"] for a in received["attachments"]] == ["note.txt"]
