"""A plain discord.py 2.x moderation bot run against a rayguild edge (the subprocess of
test_discordpy_moderation.py). It owns the guild and, through discord.py's own calls: times bob
out, bans alice deleting her last hour of messages, bulk deletes three of its messages, hides the
secret channel from carol with a member overwrite, then reads the audit log back.

argv: base URL, bot token, guild id, general channel id, secret channel id, alice, bob, carol.
Prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from datetime import timedelta

import discord
import yarl

DEADLINE_S = 30.0


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    guild_id, general_id, secret_id, alice, bob, carol = (int(a) for a in sys.argv[3:9])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())  # includes moderation (bans)
    seen: dict[str, object] = {}
    banned, bulk = asyncio.Event(), asyncio.Event()

    @client.event
    async def on_member_ban(guild: discord.Guild, user: discord.abc.User) -> None:
        seen["banned"] = str(user.id)
        banned.set()

    @client.event
    async def on_raw_bulk_message_delete(payload: discord.RawBulkMessageDeleteEvent) -> None:
        seen.setdefault("bulk_events", []).append(sorted(str(i) for i in payload.message_ids))  # type: ignore[union-attr]
        bulk.set()

    @client.event
    async def on_ready() -> None:
        try:
            await moderate()
        except Exception:
            seen["error"] = traceback.format_exc()
        finally:
            await client.close()

    async def moderate() -> None:
        guild = client.get_guild(guild_id)
        assert guild is not None
        general, secret = guild.get_channel(general_id), guild.get_channel(secret_id)
        assert isinstance(general, discord.TextChannel) and isinstance(secret, discord.TextChannel)
        await secret.send("before")
        member = await guild.fetch_member(bob)
        await member.timeout(timedelta(minutes=10), reason="calm down")
        seen["bob_timed_out"] = (await guild.fetch_member(bob)).is_timed_out()
        await guild.ban(discord.Object(alice), reason="spam", delete_message_seconds=3600)
        await asyncio.wait_for(banned.wait(), DEADLINE_S)
        sent = [await general.send(f"bulk {i}") for i in range(3)]
        seen["bulk_sent"] = sorted(str(m.id) for m in sent)
        await general.delete_messages(sent, reason="cleanup")
        await asyncio.wait_for(bulk.wait(), DEADLINE_S)
        await secret.set_permissions(await guild.fetch_member(carol), view_channel=False, reason="private")
        await secret.send("after")
        await general.send("marker")
        seen["audit"] = [
            [entry.action.name, entry.reason, str(entry.target.id) if entry.target else None]
            async for entry in guild.audit_logs(limit=50)
        ]
        seen["bans"] = [str(ban.user.id) async for ban in guild.bans()]

    asyncio.run(asyncio.wait_for(client.start(token), timeout=40))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
