"""A plain discord.py 2.x bot that uploads files and DMs a user (the subprocess of
test_discordpy_files_dms.py).

argv: base URL, bot token, guild channel id, the user id to DM, path of a PNG to upload.
Uploads a random blob and the PNG with ``discord.File``, downloads both again from their
attachment URLs (``Attachment.read``), then ``user.send`` (create_dm + send) with a file.
Prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys

import discord
import yarl

DM_TEXT = "hello from discord.py in a DM"


def main() -> None:
    base, token, channel_id, user_id, png_path = sys.argv[1:6]
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())
    seen: dict[str, object] = {}
    blob = os.urandom(3 * 1024 * 1024 + 17)  # several blob-store chunks
    with open(png_path, "rb") as f:
        png = f.read()

    @client.event
    async def on_ready() -> None:
        channel = client.get_channel(int(channel_id))
        assert isinstance(channel, discord.TextChannel), channel
        files = [discord.File(io.BytesIO(blob), filename="blob.bin"),
                 discord.File(io.BytesIO(png), filename="pic.png", spoiler=True, description="grey")]  # fmt: skip
        message = await channel.send("two files", files=files)
        stored_blob, stored_png = message.attachments
        seen["blob_equal"] = await stored_blob.read() == blob
        seen["blob_sha"] = (
            hashlib.sha256(await stored_blob.read()).hexdigest() == hashlib.sha256(blob).hexdigest()
        )
        seen["png_equal"] = await stored_png.read() == png
        seen["png"] = {
            "filename": stored_png.filename, "spoiler": stored_png.is_spoiler(),
            "size": [stored_png.width, stored_png.height], "content_type": stored_png.content_type,
            "description": stored_png.description,
        }  # fmt: skip
        user = await client.fetch_user(int(user_id))
        dm_message = await user.send(DM_TEXT, file=discord.File(io.BytesIO(b"dm file"), filename="note.txt"))
        seen["dm_channel"] = str(dm_message.channel.id)
        seen["dm_is_dm"] = isinstance(dm_message.channel, discord.DMChannel)
        seen["dm_message"] = str(dm_message.id)
        seen["dm_file_equal"] = await dm_message.attachments[0].read() == b"dm file"
        await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
