"""After a durable write, tell the guild process so connected sessions hear of it.

The write is already acknowledged-worthy when these run: a failure to reach a guild shard is
logged, never turned into an error for a write that succeeded (the guild rebuilds its state from
storage when it comes back). Calls are awaited in order, so one caller's events reach the guild
in the order of its requests.
"""

from __future__ import annotations

import structlog

from rayguild.actors.commands import Publish, SessionJoin
from rayguild.actors.session import SessionState
from rayguild.errors import RayguildError
from rayguild.http_api.context import EdgeContext

log = structlog.get_logger("rayguild.http")


async def publish(ctx: EdgeContext, event: Publish) -> None:
    try:
        await ctx.guilds.publish(event)
    except RayguildError as exc:
        log.warning("publish.failed", guild_id=event.guild_id, t=event.t, error=str(exc))


async def connect_user_sessions(ctx: EdgeContext, user_id: int, guild_id: int) -> None:
    """Join this edge's live sessions of ``user_id`` to a guild they just entered (GUILD_CREATE).

    Sessions of the same user on other edges learn of the guild when they next identify.
    """
    for session in list(ctx.sessions.sessions.values()):
        if session.user_id != user_id or session.state is SessionState.CLOSED:
            continue
        if guild_id in session.guild_ids:
            continue
        session.guild_ids.add(guild_id)
        join = SessionJoin(
            guild_id=guild_id, session_id=session.session_id, shard=ctx.sessions.index,
            slot=session.slot, user_id=user_id, intents=session.intents, bot=session.bot,
        )  # fmt: skip
        try:
            await ctx.guilds.connect(guild_id, join)
        except RayguildError as exc:
            log.warning("connect.failed", guild_id=guild_id, session_id=session.session_id, error=str(exc))


async def disconnect_user_sessions(ctx: EdgeContext, user_id: int, guild_id: int) -> None:
    """Remove this edge's sessions of ``user_id`` from a guild they left or were removed from.

    Each then gets GUILD_DELETE, after the guild stopped sending to it (Discord's order).
    """
    for session in list(ctx.sessions.sessions.values()):
        if session.user_id == user_id and guild_id in session.guild_ids:
            session.guild_ids.discard(guild_id)
            try:
                await ctx.guilds.disconnect(guild_id, session.session_id)
            except RayguildError as exc:
                log.warning("disconnect.failed", guild_id=guild_id, error=str(exc))
            ctx.sessions.send(session, "GUILD_DELETE", {"id": str(guild_id)})
