"""A plain discord.py 2.x bot run against a rayguild edge (the subprocess of test_discordpy.py).

argv: base URL (http://host:port), bot token, channel id. With RAYGUILD_TEST_NO_ZSTD=1 the
``zstandard`` import is blocked before discord.py loads, so discord.py picks zlib-stream exactly
as it does on a machine without zstandard. Prints one JSON line with what the bot saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

if os.environ.get("RAYGUILD_TEST_NO_ZSTD") == "1":
    sys.modules["zstandard"] = None  # type: ignore[assignment]  # "import zstandard" now fails

import discord
import yarl

MESSAGE = "hello from discord.py"


def main() -> None:
    base, token, channel_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True  # makes discord.py chunk the guild with op 8 before on_ready
    client = discord.Client(intents=intents)
    seen: dict[str, object] = {"compress": discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE}

    @client.event
    async def on_ready() -> None:
        seen["user"] = client.user.name if client.user else None
        seen["guilds"] = [g.name for g in client.guilds]
        seen["members"] = sorted(m.name for g in client.guilds for m in g.members)
        channel = client.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel), channel
        seen["sent_id"] = (await channel.send(MESSAGE)).id

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.content != MESSAGE:
            return
        seen["received_id"] = message.id
        seen["received_guild"] = message.guild.name if message.guild else None
        seen["history"] = [m.content async for m in message.channel.history(limit=10)]
        await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
