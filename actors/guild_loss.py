"""A lost guild shard as its sessions see it: GUILD_DELETE unavailable at once, GUILD_CREATE when back.

Discord's answer to a guild node going down: the session keeps its id, seq and every other guild;
each guild of the lost shard is sent ``GUILD_DELETE {id, unavailable: true}`` now, and the session
is joined again to the rebuilt guild process (its ``SessionJoin`` re-sent), which sends
``GUILD_CREATE`` through the normal ordered delivery path. Clients then fetch what they missed by
each channel's ``last_message_id``. The loss is known at the restart announcement, or earlier when
a call of this edge to the shard fails (``suspect``); a session is told once per loss. Guarantees:
the GUILD_DELETE is written before anything the new incarnation sends (the restart announcement
is answered before it publishes); a join that
cannot be delivered is retried with back-off (also while storage is down), and a session whose
guild is not back within ``REJOIN_GIVE_UP_S`` is told to re-identify (op 9), never left silently
without it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Protocol

import numpy as np
import structlog

from rayguild.actors import commands as c
from rayguild.actors.session import SessionShardCore, SessionState
from rayguild.errors import RayguildError
from rayguild.ring import RingSnapshot, shard_name

log = structlog.get_logger("rayguild.session")

REJOIN_BACKOFF_S = 0.25  # doubled per failed attempt, at most REJOIN_BACKOFF_MAX_S
REJOIN_BACKOFF_MAX_S = 5.0
# The guild may need its storage to come back too (a node and the database lost together): the
# sessions stay told it is unavailable this long before op 9.
REJOIN_GIVE_UP_S = 300.0
REJOIN_CONCURRENCY = 256


class GuildConnector(Protocol):
    """Where a session's join goes (the ``Directory`` on Ray and in process)."""

    async def connect(self, guild_id: int, join: c.SessionJoin) -> bool: ...


class GuildLoss:
    """One session shard's answer to guild shard restarts."""

    def __init__(self, core: SessionShardCore, guild_ring: RingSnapshot) -> None:
        self.core = core
        self.guild_ring = guild_ring
        self.guilds: GuildConnector | None = None  # set by whoever hosts the shard
        self.backoff_s = REJOIN_BACKOFF_S
        self.backoff_max_s = REJOIN_BACKOFF_MAX_S
        self.give_up_s = REJOIN_GIVE_UP_S
        self.rejoined = 0
        self._pending: set[tuple[str, int]] = set()  # (session, guild): told, its join under way
        self._tasks: set[asyncio.Task[None]] = set()

    def suspect(self, index: int) -> int:
        """A call to guild shard ``index`` failed (it died, or is restarting): its sessions are told
        now rather than at the restart announcement, which then skips the ones already under way.
        After a transient failure the re-join finds the same guild and re-sends GUILD_CREATE."""
        return self.lost(index, time.time_ns())

    def lost(self, index: int, since_ns: int) -> int:
        """Guild shard ``index`` restarted empty at ``since_ns``: sessions opened before then that
        are in its guilds get GUILD_DELETE unavailable per guild now and are joined again in the
        background (sessions opened since joined the new incarnation). Returns how many sessions."""
        name, owner = shard_name("guild", index), self.guild_ring.owner
        joins: list[c.SessionJoin] = []
        sessions = 0
        for session in list(self.core.sessions.values()):
            if session.opened_ns >= since_ns or session.state not in (
                SessionState.CONNECTED,
                SessionState.DETACHED,
            ):
                continue
            lost = sorted(
                g
                for g in session.guild_ids
                if owner(g) == name and (session.session_id, g) not in self._pending
            )
            for guild_id in lost:
                self._pending.add((session.session_id, guild_id))
                self.core.send(session, "GUILD_DELETE", {"id": str(guild_id), "unavailable": True})
                joins.append(
                    c.SessionJoin(
                        guild_id,
                        session.session_id,
                        self.core.index,
                        session.slot,
                        session.user_id,
                        session.intents,
                        session.bot,
                        session.large_threshold,
                    )
                )
            sessions += bool(lost)
        if joins:
            task = asyncio.ensure_future(self._rejoin(joins))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if sessions:
            log.warning(
                "guild shard lost; its guilds unavailable until rebuilt", shard=index, sessions=sessions
            )
        return sessions

    async def idle(self) -> None:
        """Wait for every re-join under way (tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def _rejoin(self, joins: list[c.SessionJoin]) -> None:
        try:
            await self._rejoin_or_invalidate(joins)
        finally:
            self._pending.difference_update((j.session_id, j.guild_id) for j in joins)

    async def _rejoin_or_invalidate(self, joins: list[c.SessionJoin]) -> None:
        pending, delay_s = joins, self.backoff_s
        give_up_at = time.monotonic() + self.give_up_s
        while True:
            pending = await self._try(pending)
            if not pending or time.monotonic() >= give_up_at:
                break
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, self.backoff_max_s)
        if not pending:
            return
        slots = sorted({s.slot for j in pending if (s := self.core.sessions.get(j.session_id)) is not None})
        log.error("guild shard not back; its sessions must re-identify", sessions=len(slots))
        self.core.invalidate(np.asarray(slots, dtype=np.int32))

    async def _try(self, joins: list[c.SessionJoin]) -> list[c.SessionJoin]:
        """Send each join still wanted (the session may have moved slot, closed or left); the failed."""
        failed: list[c.SessionJoin] = []
        semaphore = asyncio.Semaphore(REJOIN_CONCURRENCY)

        async def one(join: c.SessionJoin) -> None:
            session = self.core.sessions.get(join.session_id)
            if session is None or join.guild_id not in session.guild_ids or self.guilds is None:
                return
            async with semaphore:
                try:
                    await self.guilds.connect(join.guild_id, replace(join, slot=session.slot))
                    self.rejoined += 1
                except RayguildError as exc:
                    log.info("rejoin.retry", guild_id=join.guild_id, error=str(exc))
                    failed.append(join)

        await asyncio.gather(*(one(join) for join in joins))
        return failed
