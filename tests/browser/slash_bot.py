"""A plain discord.py 2.x bot with one slash command, run against a rayguild edge by
test_slash_commands.py. argv: base URL, bot token, guild id. Prints "synced" once its command is
registered in the guild, then answers until terminated: ``/echo text`` with ``echo: <text>`` and a
"Shout" button (which upper-cases the message), autocompleting ``text``; ``/whisper`` ephemerally, with a
colour select (answered ephemerally too).
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

    class Shout(discord.ui.View):
        @discord.ui.button(label="Shout", style=discord.ButtonStyle.primary, custom_id="shout")
        async def shout(self, interaction: discord.Interaction, button: discord.ui.Button[Shout]) -> None:
            content = interaction.message.content if interaction.message else ""
            await interaction.response.edit_message(content=content.upper(), view=None)

    class Colours(discord.ui.View):
        @discord.ui.select(placeholder="Pick a colour", custom_id="colour",
                           options=[discord.SelectOption(label=c, value=c) for c in ("red", "green")])  # fmt: skip
        async def colour(self, interaction: discord.Interaction, select: discord.ui.Select[Colours]) -> None:
            await interaction.response.send_message(f"you picked {select.values[0]}", ephemeral=True)

    @tree.command(name="echo", description="Repeat what you say", guild=guild)
    @app_commands.describe(text="What to repeat")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"echo: {text}", view=Shout())

    @echo.autocomplete("text")
    async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current} world", value=f"{current} world")]

    @tree.command(name="whisper", description="An answer only you see", guild=guild)
    async def whisper(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("just between us", ephemeral=True, view=Colours())

    @client.event
    async def on_ready() -> None:
        await tree.sync(guild=guild)
        print("synced", flush=True)

    asyncio.run(client.start(token))


if __name__ == "__main__":
    main()
