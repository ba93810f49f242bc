"""A plain discord.py 2.x bot that lives through its guild going unavailable (test_guild_loss.py).

argv: base URL (http://host:port), bot token, channel id. Prints ``ready`` once connected and
``available`` once its guild is back (after reading the channel's history, as a bot catching up
does); closes on the message ``back`` and prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import discord
import yarl


def main() -> None:
    base, token, channel_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    seen: dict[str, Any] = {"ready": [], "unavailable": [], "available": [], "live": []}

    @client.event
    async def on_ready() -> None:
        seen["ready"].append(client.ws.session_id)  # on_ready again would mean a new session
        print("ready", flush=True)

    @client.event
    async def on_guild_unavailable(guild: discord.Guild) -> None:
        seen["unavailable"].append(guild.id)

    @client.event
    async def on_guild_available(guild: discord.Guild) -> None:
        if not seen["unavailable"]:  # discord.py also says so for each guild of READY
            return
        channel = guild.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel), channel
        seen["available"].append(guild.id)
        seen["last_message_id"] = channel.last_message_id
        seen["history"] = [m.content async for m in channel.history(limit=10)]
        print("available", flush=True)

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen["live"].append(message.content)
        if message.content == "back":
            await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
