"""A plain discord.py 2.x slash-command bot (a subprocess of test_slash_bots.py).

argv: base URL, bot token, guild id. ``app_commands.CommandTree`` syncs one global command
(/echo, answered at once with a button, its option autocompleted) and guild commands (/ask: a
modal; /slow: deferred then edited; /secret: ephemeral, then a followup; /stop). Once ready, prints "SYNCED" when both syncs returned; at the
end one JSON line with what the bot saw.
"""

from __future__ import annotations

import asyncio
import json
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
    seen: dict[str, object] = {"invoked": []}

    def invoked(interaction: discord.Interaction) -> None:
        name = interaction.command.name if interaction.command else None
        seen["invoked"].append([name, interaction.user.name])  # type: ignore[union-attr]

    class Again(discord.ui.View):
        @discord.ui.button(label="Again", custom_id="again", style=discord.ButtonStyle.primary)
        async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Again]) -> None:
            seen["clicked_by"] = interaction.user.name
            await interaction.response.edit_message(content="clicked", view=None)

    @tree.command(name="echo", description="Say it back")
    @app_commands.describe(text="what to say")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        invoked(interaction)
        callback = await interaction.response.send_message(f"echo: {text}", view=Again())
        seen["echo_message_id"] = callback.message_id

    @echo.autocomplete("text")
    async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current}-suggested", value=f"{current}-suggested")]

    class Ask(discord.ui.Modal, title="Tell me"):
        answer: discord.ui.TextInput[Ask] = discord.ui.TextInput(label="Answer", custom_id="answer")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"you said {self.answer.value}")

    @tree.command(name="ask", description="A modal", guild=guild)
    async def ask(interaction: discord.Interaction) -> None:
        invoked(interaction)
        await interaction.response.send_modal(Ask())

    @tree.command(name="slow", description="Deferred, then edited", guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        invoked(interaction)
        await interaction.response.defer()
        edited = await interaction.edit_original_response(content="done slowly")
        seen["slow_edited"] = edited.content

    @tree.command(name="secret", description="Ephemeral, then a followup", guild=guild)
    async def secret(interaction: discord.Interaction) -> None:
        invoked(interaction)
        await interaction.response.send_message("only you", ephemeral=True)
        followup = await interaction.followup.send("and a followup", wait=True)
        seen["followup_interaction"] = (
            followup.interaction_metadata.id if followup.interaction_metadata else None
        )

    @tree.command(name="stop", description="Stop the bot", guild=guild)
    async def stop(interaction: discord.Interaction) -> None:
        invoked(interaction)
        await interaction.response.send_message("bye")
        await client.close()

    @client.event
    async def on_ready() -> None:
        seen["global"] = [c.name for c in await tree.sync()]
        seen["guild"] = sorted(c.name for c in await tree.sync(guild=guild))
        fetched = await tree.fetch_commands(guild=guild)
        assert sorted(c.name for c in fetched) == seen["guild"], fetched
        print("SYNCED", flush=True)

    asyncio.run(asyncio.wait_for(client.start(token), timeout=90))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
