"""A guild of N bot accounts, each with its own token, written straight to a node's storage.

For benchmarks of many gateway sessions: 50,000 sessions on Discord are 50,000 accounts (one
bot's identifies are limited per day and per 5 s), and ``POST /auth/register`` is rate-limited
per address, so the accounts are created through the storage API before the node starts, the
way ``rayguild user create`` creates one: an account row with its token's hash (the token itself
is returned once), then a membership of the one guild. They are bots because a bot's session is
always an active recipient, as on Discord; a user's session in a guild this large starts passive
(PASSIVE_UPDATE_V1 summaries, no MESSAGE_CREATE) until its client subscribes. Each bot's own
session-start record is counted at its identify, as any bot's is. The guild is what ``POST /guilds`` writes
(guild, @everyone role, text channel "general", its owner as first member), owned by a bot that
posts the benchmark's messages. Joined before the node starts, the members are loaded with the
guild by its guild shard: no GUILD_MEMBER_ADD, no sessions to tell.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from rayguild.actors.hosts import snowflakes_for
from rayguild.benchmarks.report import progress
from rayguild.config import Config
from rayguild.fanout.permissions import DEFAULT_EVERYONE
from rayguild.http_api.auth import create_user
from rayguild.storage import open_storage
from rayguild.storage.models import Channel, Guild, Member, Role

BATCH = 500  # users written concurrently


@dataclass(frozen=True, slots=True)
class Crowd:
    owner_token: str  # a bot's: ``Authorization: Bot <owner_token>``
    guild_id: int
    channel_id: int
    tokens: tuple[str, ...]  # the member bots', in creation order


async def seed(config: Config, users: int, progress_every: int = 10_000) -> Crowd:
    """Create the guild and ``users`` member bots in ``config``'s storage (the node must not run yet)."""
    storage = open_storage(config)
    await storage.start()
    snowflakes = snowflakes_for(3, 1)  # the CLI's user create uses (3, 0)
    try:
        owner, owner_token = await create_user(storage, snowflakes, "crowd-owner", bot=True)
        guild = Guild(id=snowflakes.next(), name="crowd", owner_id=owner.id)
        general = Channel(id=snowflakes.next(), guild_id=guild.id, name="general")
        await storage.put_guild(guild)
        await storage.put_role(
            Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=DEFAULT_EVERYONE)
        )
        await storage.put_channel(general)
        joined_ms = time.time_ns() // 1_000_000
        await storage.put_member(Member(guild.id, owner.id, joined_ms))

        async def one(i: int) -> str:
            user, token = await create_user(storage, snowflakes, f"crowd{i}", bot=True)
            await storage.put_member(Member(guild.id, user.id, joined_ms))
            return token

        tokens: list[str] = []
        for start in range(0, users, BATCH):
            tokens += await asyncio.gather(*(one(i) for i in range(start, min(users, start + BATCH))))
            if progress_every and len(tokens) % progress_every < BATCH:
                progress(f"    seeded {len(tokens):,} / {users:,} bots")
        return Crowd(owner_token, guild.id, general.id, tuple(tokens))
    finally:
        await storage.close()
