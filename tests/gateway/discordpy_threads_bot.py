"""A plain discord.py 2.x bot that works with threads (the subprocess of test_discordpy_threads.py).

argv: base URL, bot token, guild channel id, the id of a member to add to a private thread.
Starts a public thread from a message and posts in it, creates a private thread, adds the member,
posts in it, reads the members back, archives and locks it, lists active and archived threads.
Prints one JSON line with what it saw (ids as strings).
"""

from __future__ import annotations

import asyncio
import json
import sys

import discord
import yarl


def main() -> None:
    base, token, channel_id, member_id = sys.argv[1:5]
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())
    seen: dict[str, object] = {}

    @client.event
    async def on_ready() -> None:
        channel = client.get_channel(int(channel_id))
        assert isinstance(channel, discord.TextChannel), channel
        starter = await channel.send("a topic")
        created = client.wait_for("thread_create", timeout=10)
        public = await starter.create_thread(name="py-public", auto_archive_duration=60)
        heard = await created
        seen["public"] = str(public.id)
        seen["public_is_thread"] = isinstance(public, discord.Thread) and public.parent_id == channel.id
        seen["thread_create"] = str(heard.id)
        arrived = client.wait_for("message", check=lambda m: m.channel.id == public.id, timeout=10)
        sent = await public.send("hello from the public thread")
        seen["public_message"] = str(sent.id)
        got = await arrived
        seen["own_message_in_thread"] = got.id == sent.id and isinstance(got.channel, discord.Thread)

        private = await channel.create_thread(
            name="py-private", type=discord.ChannelType.private_thread, invitable=False
        )
        seen["private"] = str(private.id)
        seen["private_type"] = private.type == discord.ChannelType.private_thread and not private.invitable
        await private.add_user(discord.Object(int(member_id)))
        secret = await private.send("for members only")
        seen["private_message"] = str(secret.id)
        seen["members"] = sorted(str(m.id) for m in await private.fetch_members())
        seen["active"] = sorted(str(t.id) for t in await channel.guild.active_threads())
        archived = await private.edit(archived=True, locked=True)
        seen["archived"] = archived.archived and archived.locked
        seen["archived_private"] = [str(t.id) async for t in channel.archived_threads(private=True)]
        await public.edit(archived=True)
        seen["archived_public"] = [str(t.id) async for t in channel.archived_threads()]
        await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
