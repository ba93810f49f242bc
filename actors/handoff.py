"""Handing a session from its shard to another one: the old shard's half of a resume on another edge.

The new edge holds the session in a new slot, asks every guild of the session to ``move`` it
there, then ``take``s it from here. Each guild, in the ordered stream it uses towards this shard,
sends the old slot a moved marker behind every event it sent there, and sends later events to
the new slot. So once the markers of every moved guild have arrived, this shard holds every event
that will ever come to the old slot: ``take`` waits for them (at most ``MOVE_TIMEOUT_S``), then
hands over the events after the client's seq and lets the session go. The new shard numbers them
from the client's seq and its held events after them: no gap, no duplicate, seq continuous.

A failed take (markers missing in time, session gone, guilds joined meanwhile) closes the session
here too: its guilds already point elsewhere, so it could not continue; the client re-identifies.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rayguild.actors.session import Session, SessionShardCore, SessionState
from rayguild.fanout.events import Dispatch
from rayguild.ids import SessionId

# How long the old shard waits for the guilds' moved markers: two or three actor hops each, which
# take seconds on a loaded box when a drain moves every session of an edge at once (was 5 s).
MOVE_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a new edge needs to hold a session before taking it."""

    user_id: int
    intents: int
    bot: bool
    guild_ids: tuple[int, ...]
    seq: int  # the last seq the session was given


@dataclass(frozen=True, slots=True)
class HandedOver:
    """A taken session: every event after the client's seq, in order; its last seq here."""

    events: tuple[Dispatch, ...]
    seq: int
    guild_ids: tuple[int, ...]


class Handoffs:
    """The sessions of one shard as other shards take them; one per ``SessionShardCore``."""

    def __init__(self, core: SessionShardCore) -> None:
        self.core = core
        self._waiting: dict[SessionId, asyncio.Event] = {}
        core.on_marker = self._arrived

    def _arrived(self, session: Session) -> None:
        waiter = self._waiting.get(session.session_id)
        if waiter is not None:
            waiter.set()

    def _resumable(self, session_id: str, user_id: int) -> Session | None:
        session = self.core.sessions.get(SessionId(session_id))
        live = (SessionState.CONNECTED, SessionState.DETACHED)
        return (
            session if session is not None and session.user_id == user_id and session.state in live else None
        )

    def describe(self, session_id: str, user_id: int) -> SessionSummary | None:
        session = self._resumable(session_id, user_id)
        if session is None:
            return None
        seq = self.core.seq_of(session.slot)
        return SessionSummary(user_id, session.intents, session.bot, tuple(sorted(session.guild_ids)), seq)

    async def take(
        self, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        """Wait for the markers of the ``moved`` guilds, then hand the session over (or None).

        ``known`` are the guilds the new edge saw in ``describe``: a guild joined since then was
        not moved, so the session can not be handed over whole.
        """
        session = self._resumable(session_id, user_id)
        if session is None or session.session_id in self._waiting:
            return None
        arrived = await self._markers(session, set(moved), MOVE_TIMEOUT_S)
        # No await from here on: nothing can reach the session between the replay and the handover.
        events = self.core.events_after(session, seq) if arrived else None
        if events is None or session.state is SessionState.CLOSED or not session.guild_ids <= set(known):
            self.core.close_session(session.session_id)
            return None
        self.core.move_out(session.session_id)
        return HandedOver(tuple(events), seq + len(events), tuple(sorted(session.guild_ids)))

    async def _markers(self, session: Session, guild_ids: set[int], timeout_s: float) -> bool:
        waiter = self._waiting[session.session_id] = asyncio.Event()
        try:
            async with asyncio.timeout(timeout_s):
                while not guild_ids <= session.moved_guilds:
                    await waiter.wait()
                    waiter.clear()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting.pop(session.session_id, None)
