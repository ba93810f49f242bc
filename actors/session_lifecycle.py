"""The session lifecycle, session-side: open, resume (here, or taken over from another edge),
detach, close and reap sessions, and keep each session's presence record current.

The edge keeps the socket, compression and the protocol state machine: it authenticates, checks
intents and the identify limits, writes READY's fields and turns an outcome into a frame or a
close code. Everything that changes a session's life runs here, beside the ``SessionShardCore``
holding it, as commands handled by one dispatch. The service lives in the process holding the
sockets (its commands carry the socket's ``FrameSink``), so they never cross a transport; the
edge reaches it through ``SessionLifecycleRef``.

Guarantees:
- OpenSession: the session is held (events recorded, not written) until its user's shard has
  its presence record, so an event addressed to the user after READY reaches it; READY is seq 1,
  ahead of anything held; then each guild is asked to connect it (each guild sends its own
  GUILD_CREATE through the delivery path, ordered with its later events).
- ResumeSession: between computing the replay and attaching there is no await, so no dispatch
  slips in between or is sent twice. A session another edge holds is taken over: held here, its
  guilds moved here, its missed events handed over (``rayguild.actors.handoff``); anything that
  fails on the way ends it everywhere (the client identifies again).
- Sessions never leak: a connection that ends detaches its session (or closes it for good),
  ``ReapExpired`` closes those detached longer than ``replay_window_s``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from rayguild.actors.commands import SessionJoin
from rayguild.actors.handoff import HandedOver, SessionSummary
from rayguild.actors.presence import SessionPresence
from rayguild.actors.session import FrameSink, Session, SessionShardCore, SessionState
from rayguild.actors.session_presence import Backlogged
from rayguild.config import Config
from rayguild.errors import RayguildError
from rayguild.fanout.events import GUILD_PRESENCES, Dispatch, encode
from rayguild.ids import SessionId, new_session_id, session_shard_index

log = structlog.get_logger("rayguild.gateway")

REPLACED_CLOSE = 4000  # the close code a socket gets when its session resumed on another one

Activities = tuple[dict[str, Any], ...]


# -- what the service reaches ----------------------------------------------------------------
class Guilds(Protocol):
    async def connect(self, guild_id: int, join: SessionJoin) -> object: ...

    async def disconnect(self, guild_id: int, session_id: str) -> None: ...

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool: ...


class Presences(Protocol):
    async def update(self, record: SessionPresence) -> None: ...

    async def disconnect(self, user_id: int, session_id: str) -> None: ...


class Peers(Protocol):
    async def describe(self, shard: int, session_id: str, user_id: int) -> SessionSummary | None: ...

    async def take(
        self, shard: int, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None: ...


# -- commands --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OpenSession:
    """Identify accepted: a new session in ``guild_ids``; ``ready`` is READY's body but its
    session_id. Answers the session, or None if it could not start (identify again)."""

    user_id: int
    intents: int
    bot: bool
    guild_ids: tuple[int, ...]
    large_threshold: int
    ready: dict[str, Any]
    sink: FrameSink
    status: str = "online"
    activities: Activities = ()


class Refused(enum.Enum):
    NOT_RESUMABLE = "not resumable"  # the client gets op 9 and identifies
    INVALID_SEQ = "invalid seq"  # the client's seq is ahead of the session's


@dataclass(frozen=True, slots=True)
class ResumeSession:
    """Resume the user's session after ``seq`` on ``sink``; answers the session or a ``Refused``."""

    session_id: SessionId
    user_id: int
    seq: int
    sink: FrameSink


@dataclass(frozen=True, slots=True)
class EndConnection:
    """The connection carrying ``session`` on ``sink`` ended: detach it, or close it if ``final``."""

    session: Session
    sink: FrameSink
    final: bool


@dataclass(frozen=True, slots=True)
class ChangePresence:
    """op 3 (``presence`` None: not a presence); answers False beyond the rate limit."""

    session: Session
    presence: tuple[str, Activities] | None


@dataclass(frozen=True, slots=True)
class ReapExpired:
    """Close every session detached longer than the replay window; answers how many."""


class SessionLifecycle:
    def __init__(
        self, core: SessionShardCore, guilds: Guilds, presence: Presences, peers: Peers | None, config: Config
    ) -> None:
        self.core = core
        self.guilds = guilds
        self.presence = presence
        self.peers = peers
        self.config = config

    async def handle(self, cmd: object) -> object:
        match cmd:
            case OpenSession():
                return await self.open(cmd)
            case ResumeSession(session_id, user_id, seq, sink):
                return await self.resume(session_id, user_id, seq, sink)
            case EndConnection(session, sink, final):
                await self.end(session, sink, final)
                return None
            case ChangePresence(session, presence):
                return await self.change_presence(session, presence)
            case ReapExpired():
                return await self.reap_expired()
        raise TypeError(f"the session lifecycle does not handle {type(cmd).__name__}")

    async def open(self, cmd: OpenSession) -> Session | None:
        core = self.core
        session = core.hold(cmd.user_id, cmd.intents, cmd.bot, new_session_id(core.index))
        session.guild_ids.update(cmd.guild_ids)
        session.large_threshold = cmd.large_threshold
        self._watch(session, cmd.sink)
        await self._report(self._record(session, status=cmd.status, activities=cmd.activities))
        ready = Dispatch(0, "READY", encode({**cmd.ready, "session_id": session.session_id}))
        frames = core.rebase(session, 0, [ready])
        if frames is None:  # more user events arrived meanwhile than the replay buffer holds
            await self.close_everywhere(session)
            return None
        # No await from here on: the frames are written before any later event.
        self._go_live(session, cmd.sink, frames)
        log.info("gateway.identified", session_id=session.session_id, user_id=cmd.user_id,
                 intents=cmd.intents, guilds=len(cmd.guild_ids))  # fmt: skip
        for guild_id in cmd.guild_ids:
            join = SessionJoin(
                guild_id=guild_id, session_id=session.session_id, shard=core.index,
                slot=session.slot, user_id=cmd.user_id, intents=cmd.intents, bot=cmd.bot,
                large_threshold=cmd.large_threshold,
            )  # fmt: skip
            await guarded(self.guilds.connect(guild_id, join), "connect", guild_id)
        return session

    async def resume(
        self, session_id: SessionId, user_id: int, seq: int, sink: FrameSink
    ) -> Session | Refused:
        core = self.core
        session = core.sessions.get(session_id)
        if session is None:
            return await self._resume_moved(session_id, user_id, seq, sink)
        if session.user_id != user_id or session.state not in (SessionState.CONNECTED, SessionState.DETACHED):
            return Refused.NOT_RESUMABLE
        if seq > core.seq_of(session.slot):
            return Refused.INVALID_SEQ
        frames = core.replay_after(session, seq)
        if frames is None:
            return Refused.NOT_RESUMABLE
        # No await from here on: nothing can be delivered between the replay and the attach.
        if session.state is SessionState.CONNECTED:
            previous = session.sink
            core.detach(session.session_id)
            if previous is not None:
                previous.close(REPLACED_CLOSE, "Session resumed on another connection")
        self._go_live(session, sink, frames)
        core.send(session, "RESUMED", {})
        log.info("gateway.resumed", session_id=session.session_id, replayed=len(frames))
        await self._connection(session, sink)
        return session

    async def _resume_moved(
        self, session_id: SessionId, user_id: int, seq: int, sink: FrameSink
    ) -> Session | Refused:
        """Every event after the client's seq arrives once, in order (the old shard's, then the
        held ones renumbered after them), then RESUMED."""
        found = await self._holder(session_id, user_id)
        if found is None:
            return Refused.NOT_RESUMABLE
        owner, summary = found
        if summary.seq - seq > self.config.replay_buffer_events:
            return Refused.NOT_RESUMABLE  # (out of the buffer: op 9 before anything moved)
        if seq > summary.seq:
            return Refused.INVALID_SEQ
        held = self.core.hold(user_id, summary.intents, summary.bot, session_id)
        held.guild_ids.update(summary.guild_ids)
        frames = None
        try:
            await self._connection(held, None)  # the user's events come here from now on
            frames = await self._take_over(owner, held, seq, summary)
        finally:
            if frames is None:
                await self.close_everywhere(held)
        if frames is None:
            return Refused.NOT_RESUMABLE
        # No await from here on: the session turns live with its replay written first.
        self._go_live(held, sink, frames)
        self.core.send(held, "RESUMED", {})
        log.info("gateway.resumed", session_id=held.session_id, replayed=len(frames), moved_from=owner)
        await self._connection(held, sink)
        return held

    async def _holder(self, session_id: SessionId, user_id: int) -> tuple[int, SessionSummary] | None:
        """The other shard holding the session: the one its id names first, then the others (a
        session that moved, e.g. across a rolling restart, is no longer where it was born)."""
        born = _shard_of(session_id)
        if self.peers is None or born is None:
            return None
        others = [i for i in range(self.config.session_shards) if i not in (born, self.core.index)]
        for shard in ([born] if born != self.core.index else []) + others:
            try:
                summary = await self.peers.describe(shard, session_id, user_id)
            except RayguildError as exc:
                log.warning("gateway.resume_lookup_failed", session_id=session_id, error=str(exc))
                continue
            if summary is not None:
                return shard, summary
        return None

    async def _take_over(
        self, owner: int, held: Session, seq: int, summary: SessionSummary
    ) -> list[bytes] | None:
        """Move the guilds to the held slot, take the session from ``owner``; the frames to write."""
        assert self.peers is not None
        guilds = list(summary.guild_ids)
        moves = await asyncio.gather(*(self._move(g, held) for g in guilds))
        moved = [g for g, ok in zip(guilds, moves, strict=True) if ok]
        try:
            handed = await self.peers.take(owner, held.session_id, held.user_id, seq, moved, guilds)
        except RayguildError as exc:
            log.warning("gateway.resume_take_failed", session_id=held.session_id, error=str(exc))
            return None
        if handed is None or held.state is not SessionState.HOLDING:
            return None
        held.guild_ids = set(handed.guild_ids)
        return self.core.rebase(held, seq, handed.events)

    async def _move(self, guild_id: int, session: Session) -> bool:
        try:
            return bool(await self.guilds.move(guild_id, session.session_id, self.core.index, session.slot))
        except (TimeoutError, RayguildError) as exc:
            log.warning("gateway.move_failed", guild_id=guild_id, error=str(exc))
            return False

    def _go_live(self, session: Session, sink: FrameSink, frames: list[bytes]) -> None:
        self.core.attach(session.session_id, sink)
        for frame in frames:
            sink.write(frame)

    async def end(self, session: Session, sink: FrameSink, final: bool) -> None:
        if session.state is SessionState.CLOSED:
            # Closed under us (invalidated as lagging): make sure no guild still sends to its slot,
            # which the shard may hand to a new session. Disconnecting twice is harmless.
            await self._disconnect_guilds(session)
            await self._ended(session)
            return
        if session.sink is not sink or session.state is not SessionState.CONNECTED:
            return  # resumed on another socket meanwhile
        if final:
            await self.close_everywhere(session)
        else:
            self.core.detach(session.session_id)
            await self._connection(session, None)

    async def close_everywhere(self, session: Session) -> None:
        self.core.close_session(session.session_id)
        await self._disconnect_guilds(session)
        await self._ended(session)

    async def _disconnect_guilds(self, session: Session) -> None:
        for guild_id in sorted(session.guild_ids):
            await guarded(self.guilds.disconnect(guild_id, session.session_id), "disconnect", guild_id)

    async def reap_expired(self) -> int:
        expired = self.core.expired(self.config.replay_window_s)
        for session in expired:
            await self.close_everywhere(session)
        return len(expired)

    # -- presence records (the user's presence shard knows where each session lives) ---------
    async def change_presence(self, session: Session, presence: tuple[str, Activities] | None) -> bool:
        presences = self.core.presence
        if not presences.allow_update(session.session_id):
            return False
        record = presences.records.get(session.session_id)
        if presence is not None and record is not None:
            status, activities = presence
            guild_ids = tuple(sorted(session.guild_ids))
            await self._report(replace(record, status=status, activities=activities, guild_ids=guild_ids))
        return True

    async def _report(self, record: SessionPresence) -> None:
        self.core.presence.records[record.session_id] = record
        try:
            await self.presence.update(record)
        except (TimeoutError, RayguildError) as exc:
            log.warning("presence.update_failed", user_id=record.user_id, error=str(exc))

    def _record(self, session: Session, **presence: Any) -> SessionPresence:
        """A new record of the session, with where it lives now (its user's events go there)."""
        return SessionPresence(
            session.user_id, session.session_id, tuple(sorted(session.guild_ids)), **presence,
            shard=self.core.index, slot=session.slot, intents=session.intents, bot=session.bot,
        )  # fmt: skip

    def _watch(self, session: Session, sink: FrameSink) -> None:
        if session.intents & GUILD_PRESENCES and isinstance(sink, Backlogged):
            self.core.presence.watch(session.slot, sink)

    async def _connection(self, session: Session, sink: FrameSink | None) -> None:
        """The session detached (``sink`` None: resumable, the user stays online), resumed, or is
        held here while it moves from another edge (``sink`` None: its events now come here)."""
        presences = self.core.presence
        record = presences.records.get(session.session_id)
        if sink is None:
            presences.unwatch(session.slot)
        else:
            self._watch(session, sink)
        if record is None:
            record = self._record(session)
        await self._report(replace(record, connected=sink is not None))

    async def _ended(self, session: Session) -> None:
        """The session is gone for good: the presence shard may fan the user's offline out."""
        self.core.presence.unwatch(session.slot)
        self.core.presence.forget(session.session_id)
        try:
            await self.presence.disconnect(session.user_id, session.session_id)
        except (TimeoutError, RayguildError) as exc:
            log.warning("presence.disconnect_failed", user_id=session.user_id, error=str(exc))


class SessionLifecycleRef:
    """The edge's typed client of the lifecycle service (in its own process)."""

    def __init__(self, body: SessionLifecycle) -> None:
        self.body = body

    async def open(self, cmd: OpenSession) -> Session | None:
        session = await self.body.handle(cmd)
        assert session is None or isinstance(session, Session)
        return session

    async def resume(self, session_id: str, user_id: int, seq: int, sink: FrameSink) -> Session | Refused:
        outcome = await self.body.handle(ResumeSession(SessionId(session_id), user_id, seq, sink))
        assert isinstance(outcome, Session | Refused)
        return outcome

    def end(self, session: Session, sink: FrameSink, *, final: bool) -> Awaitable[object]:
        return self.body.handle(EndConnection(session, sink, final))

    async def change_presence(self, session: Session, presence: tuple[str, Activities] | None) -> bool:
        return bool(await self.body.handle(ChangePresence(session, presence)))

    async def reap_expired(self) -> int:
        closed = await self.body.handle(ReapExpired())
        assert isinstance(closed, int)
        return closed


def _shard_of(session_id: str) -> int | None:
    try:
        return session_shard_index(session_id)
    except ValueError:
        return None


async def guarded(call: Awaitable[object], what: str, guild_id: int) -> None:
    """A guild call whose failure is logged: the session stays up (the shard may be back soon)."""
    try:
        await call
    except (TimeoutError, RayguildError) as exc:
        log.warning(f"gateway.{what}_failed", guild_id=guild_id, error=str(exc))
