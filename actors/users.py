"""The user path: an event addressed to a user reaches every live session of that user, wherever it is.

The shard that owns a user id on the ring (the presence shard) keeps, in each session's
``SessionPresence`` record, where that session lives (session shard, slot) and its intents; the
session lifecycle (identify, resume, detach, close) keeps those records current. An event for a
set of users is encoded once and goes out through the shard's outbox with the fan-out rules: one
batch per session shard per tick, the batches to a shard applied in the order they were sent. So
a user's sessions see the events addressed to that user in the order ``deliver`` was called, and
a call costs O(session shards) messages, never one per session.

Joining or leaving a guild is addressed to the user too: on a join, each of the user's sessions
is connected to the guild (the guild sends its GUILD_CREATE through its own ordered path) and
its guild list follows; on a leave, the guild stops sending to them first, then each gets
GUILD_DELETE. A user with no registered session is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import structlog

from rayguild.actors.commands import SessionJoin
from rayguild.actors.outbox import Outbox
from rayguild.errors import RayguildError
from rayguild.fanout.events import GUILD_JOINED, GUILD_LEFT, Dispatch, encode
from rayguild.fanout.partition import Slots
from rayguild.ids import SessionId

if TYPE_CHECKING:
    from rayguild.actors.presence import SessionPresence

log = structlog.get_logger("rayguild.users")


class GuildConnector(Protocol):
    async def connect(self, guild_id: int, join: SessionJoin) -> object: ...

    async def disconnect(self, guild_id: int, session_id: str) -> None: ...


def locate(records: Iterable[SessionPresence], intent: int = 0) -> dict[int, Slots]:
    """The slots, per session shard, of the sessions that asked for ``intent`` (0: every one)."""
    by_shard: dict[int, list[int]] = {}
    for record in records:
        if record.shard >= 0 and (intent == 0 or record.intents & intent):
            by_shard.setdefault(record.shard, []).append(record.slot)
    return {shard: np.asarray(slots, dtype=np.int32) for shard, slots in by_shard.items()}


class UserPath:
    """The sending half a user's shard holds: its outbox and the guilds sessions join or leave."""

    def __init__(self, outbox: Outbox | None = None, guilds: GuildConnector | None = None) -> None:
        self.outbox = outbox
        self.guilds = guilds
        self.delivered = 0

    def send(self, records: Iterable[SessionPresence], dispatch: Dispatch, intent: int = 0) -> int:
        """Queue ``dispatch`` for the sessions of ``records``; returns how many sessions."""
        groups = locate(records, intent)
        if self.outbox is None:
            return 0
        for shard, slots in groups.items():
            self.outbox.add(shard, dispatch, slots)
        sessions = sum(s.size for s in groups.values())
        self.delivered += sessions
        return sessions

    @staticmethod
    def dispatch(t: str, d: dict[str, Any], intent: int = 0) -> Dispatch:
        """One user-addressed event, encoded once. Not a guild's: ``guild_id`` 0. A DM's message
        content is never stripped (Discord shows it in DMs whatever the intents); a guild's
        message sent this way (a private thread's) follows MESSAGE_CONTENT as in the guild."""
        if "guild_id" in d:
            return Dispatch.of(0, t, d, intent=intent)
        return Dispatch(0, t, encode(d), intent=intent)

    async def join(self, records: list[SessionPresence], guild_id: int) -> list[SessionPresence]:
        """Connect the sessions not yet in the guild to it; returns them (now in the guild)."""
        fresh = [r for r in records if r.shard >= 0 and guild_id not in r.guild_ids]
        self.send(fresh, Dispatch(guild_id, GUILD_JOINED, b""))
        if self.guilds is not None:
            for record in fresh:
                join = SessionJoin(
                    guild_id=guild_id, session_id=SessionId(record.session_id), shard=record.shard,
                    slot=record.slot, user_id=record.user_id, intents=record.intents, bot=record.bot,
                )  # fmt: skip
                try:
                    await self.guilds.connect(guild_id, join)
                except RayguildError as exc:
                    log.warning(
                        "connect.failed", guild_id=guild_id, session_id=record.session_id, error=str(exc)
                    )
        return fresh

    async def leave(self, records: list[SessionPresence], guild_id: int) -> list[SessionPresence]:
        """Disconnect the sessions in the guild from it, then send each GUILD_DELETE (after the
        guild stopped sending to it: Discord's order); returns them."""
        members = [r for r in records if r.shard >= 0 and guild_id in r.guild_ids]
        if self.guilds is not None:
            for record in members:
                try:
                    await self.guilds.disconnect(guild_id, record.session_id)
                except RayguildError as exc:
                    log.warning("disconnect.failed", guild_id=guild_id, error=str(exc))
        self.send(members, Dispatch(guild_id, GUILD_LEFT, b""))
        self.send(members, self.dispatch("GUILD_DELETE", {"id": str(guild_id)}))
        return members
