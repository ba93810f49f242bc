"""A plain discord.py 2.x bot that uses a webhook (a subprocess of test_webhooks.py).

argv: base URL, bot token, channel id. The bot creates a webhook in the channel, executes it under
another name, sees the webhook's message as on_message, edits it through the webhook, sends a
file through it and downloads it again, lists the channel's webhooks and deletes the webhook.
Prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys

import discord
import yarl


def main() -> None:
    base, token, channel_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    seen: dict[str, object] = {}
    received: asyncio.Queue[discord.Message] = asyncio.Queue()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.webhook_id is not None:
            await received.put(message)

    @client.event
    async def on_ready() -> None:
        channel = client.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel), channel
        webhook = await channel.create_webhook(name="Relay")
        seen["created"] = webhook.name
        sent = await webhook.send("from the hook", username="Courier", wait=True)
        message = await asyncio.wait_for(received.get(), timeout=10)
        seen["received"] = [message.id == sent.id, message.author.name, message.webhook_id == webhook.id]
        edited = await webhook.edit_message(sent.id, content="edited by the hook")
        seen["edited"] = edited.content
        note = discord.File(io.BytesIO(b"hello from a file"), filename="note.txt")
        with_file = await webhook.send("with a file", file=note, wait=True)
        attachment = with_file.attachments[0]
        seen["file"] = [attachment.filename, (await attachment.read()).decode()]
        seen["listed"] = [w.name for w in await channel.webhooks()]
        await webhook.delete()
        seen["after_delete"] = [w.name for w in await channel.webhooks()]
        await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
