"""A user entered or left a guild: that user's sessions on one session shard follow.

The edge that handled the join or leave asks EVERY session shard (one call each, never one per
session), so the user's sessions on other edges get GUILD_CREATE / GUILD_DELETE too, as a
Discord client connected anywhere would.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from rayguild.actors.commands import SessionJoin
from rayguild.actors.session import SessionShardCore, SessionState
from rayguild.errors import RayguildError

log = structlog.get_logger("rayguild.membership")


class GuildConnector(Protocol):
    async def connect(self, guild_id: int, join: SessionJoin) -> object: ...

    async def disconnect(self, guild_id: int, session_id: str) -> None: ...


async def join_user_sessions(
    core: SessionShardCore, guilds: GuildConnector, user_id: int, guild_id: int
) -> int:
    """Connect the user's live sessions on ``core`` to the guild (it sends them GUILD_CREATE)."""
    joined = 0
    for session in list(core.sessions.values()):
        if (
            session.user_id != user_id
            or session.state is SessionState.CLOSED
            or guild_id in session.guild_ids
        ):
            continue
        session.guild_ids.add(guild_id)
        join = SessionJoin(
            guild_id=guild_id, session_id=session.session_id, shard=core.index,
            slot=session.slot, user_id=user_id, intents=session.intents, bot=session.bot,
        )  # fmt: skip
        try:
            await guilds.connect(guild_id, join)
            joined += 1
        except RayguildError as exc:
            log.warning("connect.failed", guild_id=guild_id, session_id=session.session_id, error=str(exc))
    return joined


async def leave_user_sessions(
    core: SessionShardCore, guilds: GuildConnector, user_id: int, guild_id: int
) -> int:
    """Disconnect the user's sessions on ``core`` from the guild, then send each GUILD_DELETE
    (after the guild stopped sending to it: Discord's order)."""
    left = 0
    for session in list(core.sessions.values()):
        if session.user_id == user_id and guild_id in session.guild_ids:
            session.guild_ids.discard(guild_id)
            try:
                await guilds.disconnect(guild_id, session.session_id)
            except RayguildError as exc:
                log.warning("disconnect.failed", guild_id=guild_id, error=str(exc))
            core.send(session, "GUILD_DELETE", {"id": str(guild_id)})
            left += 1
    return left
