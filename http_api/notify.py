"""After a durable write, tell the guild process so connected sessions hear of it.

The write is already acknowledged-worthy when these run: a failure to reach a guild shard is
logged, never turned into an error for a write that succeeded (the guild rebuilds its state from
storage when it comes back). Calls are awaited in order, so one caller's events reach the guild
in the order of its requests.
"""

from __future__ import annotations

import structlog

from rayguild.actors.commands import Publish
from rayguild.errors import RayguildError
from rayguild.http_api.context import EdgeContext

log = structlog.get_logger("rayguild.http")


async def publish(ctx: EdgeContext, event: Publish) -> None:
    try:
        await ctx.guilds.publish(event)
    except RayguildError as exc:
        log.warning("publish.failed", guild_id=event.guild_id, t=event.t, error=str(exc))


async def connect_user_sessions(ctx: EdgeContext, user_id: int, guild_id: int) -> None:
    """The user entered a guild: their sessions on every edge get GUILD_CREATE (the user path)."""
    await _membership(ctx, user_id, guild_id, joined=True)


async def disconnect_user_sessions(ctx: EdgeContext, user_id: int, guild_id: int) -> None:
    """The user left or was removed: their sessions on every edge get GUILD_DELETE."""
    await _membership(ctx, user_id, guild_id, joined=False)


async def _membership(ctx: EdgeContext, user_id: int, guild_id: int, joined: bool) -> None:
    try:
        await ctx.presence.membership(user_id, guild_id, joined)
    except RayguildError as exc:
        log.warning("membership.failed", guild_id=guild_id, joined=joined, error=str(exc))
