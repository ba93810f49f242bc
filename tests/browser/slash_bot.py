"""A plain discord.py 2.x bot with one slash command, run against a rayguild edge by
test_bots_day.py. argv: base URL, bot token, guild id. Prints "synced" once its command is
registered in the guild, then answers ``/echo text`` with ``echo: <text>`` until terminated.
"""

from __future__ import annotations

import asyncio
import sys

import discord
import yarl
from discord import app_commands


def main() -> None:
    base, token, guild_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())
    tree = app_commands.CommandTree(client)
    guild = discord.Object(id=guild_id)

    @tree.command(name="echo", description="Repeat what you say", guild=guild)
    @app_commands.describe(text="What to repeat")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"echo: {text}")

    @client.event
    async def on_ready() -> None:
        await tree.sync(guild=guild)
        print("synced", flush=True)

    asyncio.run(client.start(token))


if __name__ == "__main__":
    main()
