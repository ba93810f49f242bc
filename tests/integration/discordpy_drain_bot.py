"""A plain discord.py 2.x bot that rides through a drain (the subprocess of test_drain_on_ray.py).

argv: base URL (http://host:port), bot token, how many messages to wait for. Prints ``ready``
once connected, then one JSON line: the messages it received in order, how many READY and
RESUMED it got.
"""

from __future__ import annotations

import asyncio
import json
import sys

import discord
import yarl


def main() -> None:
    base, token, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    messages: list[str] = []
    counts = {"ready": 0, "resumed": 0}

    @client.event
    async def on_ready() -> None:
        counts["ready"] += 1
        print("ready", flush=True)

    @client.event
    async def on_resumed() -> None:
        counts["resumed"] += 1

    @client.event
    async def on_message(message: discord.Message) -> None:
        messages.append(message.content)
        if len(messages) == expected:
            await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=90))
    print(json.dumps({"messages": messages, **counts}), flush=True)


if __name__ == "__main__":
    main()
