"""A discord.py 2.x bot's first day (the subprocess of test_discordpy_rich.py): it sends an embed,
replies to it, reacts and sees the reaction event, types and sees TYPING_START, pins, and gives a
member a role and sees GUILD_MEMBER_UPDATE, all through the unmodified library.

argv: base URL (http://host:port), bot token, channel id, the id of another member. Prints one
JSON line with what the bot saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from typing import Any

import discord
import yarl

THUMBS = "\N{THUMBS UP SIGN}"
WAIT_S = 20


async def first_day(client: discord.Client, channel: discord.TextChannel, other_id: int) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    me = client.user.id if client.user else None

    def waiting(event: str, check: Any) -> asyncio.Future[Any]:
        """Listen BEFORE acting: the gateway event may arrive before the REST answer does."""
        return asyncio.ensure_future(client.wait_for(event, check=check, timeout=WAIT_S))

    embed = discord.Embed(title="Status", description="all good", colour=0x00FF00)
    embed.add_field(name="uptime", value="3 days").add_field(name="load", value="low", inline=True)
    embed.set_footer(text="rayguild")
    heard = waiting("message", lambda m: m.author.id == me and bool(m.embeds))
    sent = await channel.send(embed=embed)
    received = await heard
    assert received.id == sent.id
    seen["content"] = received.content
    seen["embed"] = received.embeds[0].to_dict()

    heard = waiting("message", lambda m: m.author.id == me and m.content == "pong")
    reply = await received.reply("pong")
    got_reply = await heard
    assert got_reply.id == reply.id
    reference = got_reply.reference
    seen["reply"] = {
        "type": got_reply.type.name, "reference": reference.message_id if reference else None,
        "resolved": getattr(reference.resolved, "id", None) if reference else None,
        "mentions": [u.id for u in got_reply.mentions],
    }  # fmt: skip

    heard = waiting("raw_reaction_add", lambda p: p.message_id == sent.id)
    await sent.add_reaction(THUMBS)
    reaction = await heard
    seen["reaction"] = {"emoji": str(reaction.emoji), "user": reaction.user_id, "event": reaction.event_type}
    fetched = await channel.fetch_message(sent.id)
    seen["counts"] = [[str(r.emoji), r.count, r.me] for r in fetched.reactions]
    heard = waiting("raw_reaction_remove", lambda p: p.message_id == sent.id)
    await sent.remove_reaction(THUMBS, client.user)  # type: ignore[arg-type]
    removed = await heard
    seen["removed"] = str(removed.emoji)

    heard = waiting("raw_typing", lambda p: p.channel_id == channel.id)
    async with channel.typing():
        typing = await heard
    seen["typing"] = typing.user_id

    await sent.pin()
    seen["pins"] = [m.id async for m in channel.pins()]

    guild = channel.guild
    role = await guild.create_role(name="helper")
    member = guild.get_member(other_id) or await guild.fetch_member(other_id)
    heard = waiting("member_update", lambda before, after: after.id == other_id and role in after.roles)
    await member.add_roles(role)
    _, after = await heard
    seen["roles_after_add"] = sorted(r.name for r in after.roles)
    heard = waiting("member_update", lambda before, after: after.id == other_id and role not in after.roles)
    await member.remove_roles(role)
    _, after = await heard
    seen["roles_after_remove"] = sorted(r.name for r in after.roles)
    seen["sent_id"], seen["reply_id"], seen["me"] = sent.id, reply.id, me
    return seen


def main() -> None:
    base, token, channel_id, other_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    client = discord.Client(intents=intents)
    result: dict[str, Any] = {}

    @client.event
    async def on_ready() -> None:
        channel = client.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel), channel
        try:
            result.update(await first_day(client, channel, other_id))
        except BaseException:
            traceback.print_exc()  # discord.py's own logger has only a NullHandler: say which step failed
            raise
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(client.start(token), timeout=90))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
