"""A plain discord.py 2.x bot that works with a guild's templates, soundboard sounds and archived
threads (the subprocess of test_discordpy_expressions.py).

argv: base URL, bot token, guild id, guild channel id.
Creates a template from its guild, lists it, adds a coloured role (then recolours it) and a
channel, syncs the template, edits and deletes it; uploads a soundboard
sound, lists, fetches, edits and deletes it; archives a thread and lists the channel's archived
threads. Prints one JSON line: the steps completed in order and what each parsed back (ids as
strings); a step that raised ends the run with its error recorded under ``error``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from typing import Any

import discord
import yarl

AUDIO = b"ID3\x03\x00\x00\x00" + bytes(range(200))


async def _templates(guild: discord.Guild, seen: dict[str, Any]) -> None:
    made = await guild.create_template(name="py-template", description="from discord.py")
    seen["template"] = {"code": made.code, "name": made.name, "description": made.description,
                        "source_guild": str(made.source_guild.id), "source_name": made.source_guild.name,
                        "uses": made.uses, "creator": str(made.creator.id) if made.creator else None,
                        "roles": sorted((r.name, r.colour.value) for r in made.source_guild.roles),
                        "channels": sorted(c.name for c in made.source_guild.channels)}  # fmt: skip
    seen["steps"].append("create_template")
    listed = await guild.templates()
    seen["templates_listed"] = [t.code for t in listed]
    seen["steps"].append("templates")
    role = await guild.create_role(name="py-role", colour=discord.Colour(0x3366FF))
    recoloured = await role.edit(colour=discord.Colour(0x00AA55))
    seen["role_colours"] = [role.colour.value, recoloured.colour.value if recoloured else None]
    await guild.create_text_channel("py-later")
    synced = await made.sync()
    seen["synced"] = {"code": synced.code, "is_dirty": synced.is_dirty,
                      "roles": sorted((r.name, r.colour.value) for r in synced.source_guild.roles),
                      "channels": sorted(c.name for c in synced.source_guild.channels),
                      "later": synced.updated_at is not None and made.updated_at is not None
                      and synced.updated_at >= made.updated_at}  # fmt: skip
    seen["steps"].append("sync_template")
    edited = await made.edit(name="py-renamed", description=None)
    seen["template_edited"] = {"code": edited.code, "name": edited.name, "description": edited.description}
    seen["steps"].append("edit_template")
    await edited.delete()
    seen["templates_after_delete"] = [t.code for t in await guild.templates()]
    seen["steps"].append("delete_template")


async def _sounds(guild: discord.Guild, seen: dict[str, Any]) -> None:
    made = await guild.create_soundboard_sound(name="py-honk", sound=AUDIO, volume=0.5, emoji="🔔")
    seen["sound"] = {"id": str(made.id), "name": made.name, "volume": made.volume,
                     "emoji": str(made.emoji) if made.emoji else None, "available": made.available,
                     "guild": str(made.guild.id)}  # fmt: skip
    seen["steps"].append("create_soundboard_sound")
    seen["sounds_listed"] = [str(s.id) for s in await guild.fetch_soundboard_sounds()]
    seen["steps"].append("fetch_soundboard_sounds")
    fetched = await guild.fetch_soundboard_sound(made.id)
    seen["sound_fetched"] = {"id": str(fetched.id), "name": fetched.name,
                             "user": str(fetched.user.id) if fetched.user else None}  # fmt: skip
    seen["steps"].append("fetch_soundboard_sound")
    edited = await made.edit(name="py-beep", volume=0.25, emoji=None)
    seen["sound_edited"] = {"id": str(edited.id), "name": edited.name, "volume": edited.volume,
                            "emoji": str(edited.emoji) if edited.emoji else None}  # fmt: skip
    seen["steps"].append("edit_soundboard_sound")
    await edited.delete()
    seen["sounds_after_delete"] = [str(s.id) for s in await guild.fetch_soundboard_sounds()]
    seen["steps"].append("delete_soundboard_sound")


async def _archived(channel: discord.TextChannel, seen: dict[str, Any]) -> None:
    threads = [await channel.create_thread(name=f"py-old-{i}", type=discord.ChannelType.public_thread)
               for i in range(2)]  # fmt: skip
    for thread in threads:
        archived = await thread.edit(archived=True)
        assert archived.archived, archived
    seen["archived_made"] = [str(t.id) for t in threads]
    listed = [t async for t in channel.archived_threads()]
    seen["archived_listed"] = [str(t.id) for t in listed]
    seen["archived_flags"] = [t.archived and t.parent_id == channel.id for t in listed]
    seen["steps"].append("archived_threads")
    paged = [str(t.id) async for t in channel.archived_threads(limit=1)]
    seen["archived_limited"] = paged
    seen["steps"].append("archived_threads_limit")


def main() -> None:
    base, token, guild_id, channel_id = sys.argv[1:5]
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())
    seen: dict[str, Any] = {"steps": []}

    @client.event
    async def on_ready() -> None:
        try:
            guild = client.get_guild(int(guild_id))
            assert guild is not None, guild_id
            channel = guild.get_channel(int(channel_id))
            assert isinstance(channel, discord.TextChannel), channel
            await _templates(guild, seen)
            await _sounds(guild, seen)
            await _archived(channel, seen)
        except Exception:  # the test reports the step that failed and why
            seen["error"] = traceback.format_exc()[-2000:]
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
