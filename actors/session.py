"""SessionShard: hosts many gateway sessions; per session it keeps the seq counter and replay buffer.

Guarantees: every frame a session receives carries seq = previous + 1; frames reach a session's
sink in the order ``deliver`` / ``send`` were called; a resume within the replay buffer returns
every missed frame in order, or None (never a partial replay). A session moving here from another
shard is first HELD (its events are recorded, not written) and then ``rebase``d behind the events
its old shard handed over, so its seq continues with no gap and no duplicate (see handoff.py).

State is columnar so a shard holds a million sessions: per slot one int64 seq and a
ring of ``replay_events`` uint32 references into the shard-wide ``EventLog`` (events are shared,
never copied per session). Real sessions add a ``Session`` object with their socket's sink.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rayguild.actors.session_presence import PRESENCE_UPDATE, SessionPresences
from rayguild.fanout.events import (
    GUILD_JOINED,
    GUILD_LEFT,
    MESSAGE_CONTENT,
    MOVED_MARKER,
    Dispatch,
    SharedBodies,
    encode,
    frame,
)
from rayguild.fanout.partition import Slots
from rayguild.ids import SessionId, new_session_id

_REF_MASK = 0xFFFFFFFF
SLOT_REUSE_DELAY_S = 30.0  # documented bound: a freed slot is reused after this long


class FrameSink(Protocol):
    """Where a session's frames go: a websocket in the edge, a counter in a benchmark's edge."""

    def write(self, frame: bytes) -> None:
        """Queue one frame; must not block. Frames leave in the order written."""
        ...

    def close(self, code: int, reason: str) -> None: ...


class SessionState(enum.Enum):
    CONNECTED = "connected"  # a socket is attached
    DETACHED = "detached"  # the socket dropped; resumable until the replay window ends
    HOLDING = "holding"  # arriving from another shard: events are recorded, not written, until rebased
    MOVED = "moved"  # handed over to another shard: its guilds send there now
    CLOSED = "closed"


@dataclass(slots=True, eq=False)
class Session:
    """One real gateway session (a Discord 'session process')."""

    session_id: SessionId
    slot: int
    user_id: int
    intents: int
    bot: bool
    sink: FrameSink | None
    guild_ids: set[int] = field(default_factory=set)
    state: SessionState = SessionState.CONNECTED
    detached_at: float = 0.0
    replay_floor: int = 0  # no resume from a seq below this (the buffer began here after a move)
    moved_guilds: set[int] = field(default_factory=set)  # guilds whose moved marker arrived
    opened_ns: int = field(default_factory=time.time_ns)  # wall clock: compared across processes
    large_threshold: int = 50  # from identify: its guilds' GUILD_CREATE, also when re-sent after a loss

    def detach(self) -> None:
        if self.state is not SessionState.CONNECTED:
            raise RuntimeError(f"cannot detach a {self.state.value} session")
        self.state, self.sink, self.detached_at = SessionState.DETACHED, None, time.monotonic()

    def attach(self, sink: FrameSink) -> None:
        if self.state is not SessionState.DETACHED:
            raise RuntimeError(f"cannot attach to a {self.state.value} session")
        self.state, self.sink = SessionState.CONNECTED, sink


class _NullSink:
    """A detached session's sink: frames are kept in the replay buffer only."""

    def write(self, frame: bytes) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass


NULL_SINK = _NullSink()


class EventLog:
    """The shard-wide bounded log of dispatches; a session's replay ring refers into it."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[Dispatch] = deque(maxlen=capacity)
        self._next = 0  # index the next append gets

    def append(self, item: Dispatch) -> int:
        self._items.append(item)
        self._next += 1
        return self._next - 1

    def resolve(self, ref: int) -> Dispatch | None:
        """The item whose index has low 32 bits ``ref``, if still held."""
        index = self._next - ((self._next - ref) & _REF_MASK)
        offset = index - (self._next - len(self._items))
        return self._items[offset] if 0 <= offset < len(self._items) and index < self._next else None

    def __len__(self) -> int:
        return len(self._items)


class SessionShardCore:
    """All sessions of one shard: slots, seq counters, replay rings and the shard's event log."""

    def __init__(
        self,
        index: int,
        replay_events: int = 256,
        log_events: int = 1 << 16,
        presence: SessionPresences | None = None,
    ) -> None:
        self.index = index
        self.presence = presence or SessionPresences()  # presence records, op 3 limit, lag bound
        self.replay_events = replay_events
        self.log = EventLog(log_events)
        self.guild_creates = SharedBodies("GUILD_CREATE")  # one body for a guild's equal GUILD_CREATEs
        self._seq = np.zeros(0, dtype=np.int64)
        self._ring = np.zeros((0, replay_events), dtype=np.uint32)
        self._sinks: list[FrameSink] = []
        self._content: list[bool] = []
        self._user: list[int] = []  # each slot's user, for MESSAGE_CONTENT exemptions
        # Freed slots wait SLOT_REUSE_DELAY_S before reuse: a guild may still hold the closed
        # session's row until its disconnect arrives, and must not reach the slot's next owner.
        self._free: deque[tuple[float, int]] = deque()
        self.slot_reuse_delay_s = SLOT_REUSE_DELAY_S
        self.sessions: dict[SessionId, Session] = {}
        self.frames_out = 0
        self.invalidated = 0
        self.on_marker: Callable[[Session], None] | None = None  # called when a moved marker arrives
        # Called with each applied batch of a sender and its delivered count (metrics, an edge's
        # delivery trace); never with a single ``send``.
        self.observers: list[Callable[[Sequence[tuple[Dispatch, Slots]], int], None]] = []

    # -- slots -----------------------------------------------------------------------------
    def _allocate(self, count: int) -> list[int]:
        reused: list[int] = []
        ripe = time.monotonic() - self.slot_reuse_delay_s
        while self._free and len(reused) < count and self._free[0][0] <= ripe:
            reused.append(self._free.popleft()[1])
        fresh = count - len(reused)
        start = len(self._sinks)
        if start + fresh > self._seq.size:
            capacity = max(1024, self._seq.size * 2, start + fresh)
            self._seq = np.resize(self._seq, capacity)
            self._ring = np.resize(self._ring, (capacity, self.replay_events))
        self._sinks.extend([NULL_SINK] * fresh)
        self._content.extend([False] * fresh)
        self._user.extend([0] * fresh)
        slots = reused + list(range(start, start + fresh))
        self._seq[slots] = 0
        return slots

    def _release(self, slot: int) -> None:
        self._sinks[slot] = NULL_SINK
        self._free.append((time.monotonic(), slot))

    @property
    def slot_count(self) -> int:
        return len(self._sinks) - len(self._free)

    # -- real sessions -----------------------------------------------------------------------
    def open_session(
        self,
        user_id: int,
        intents: int,
        bot: bool,
        sink: FrameSink,
        session_id: SessionId | None = None,
    ) -> Session:
        (slot,) = self._allocate(1)
        session = Session(session_id or new_session_id(self.index), slot, user_id, intents, bot, sink)
        self.sessions[session.session_id] = session
        self._sinks[slot] = sink
        self._content[slot] = bool(intents & MESSAGE_CONTENT)
        self._user[slot] = user_id
        return session

    def hold(self, user_id: int, intents: int, bot: bool, session_id: SessionId) -> Session:
        """A session arriving from another shard: it gets events now, writes none until ``rebase``."""
        session = self.open_session(user_id, intents, bot, NULL_SINK, session_id)
        session.state, session.sink = SessionState.HOLDING, None
        return session

    def rebase(self, session: Session, after_seq: int, taken: Sequence[Dispatch]) -> list[bytes] | None:
        """Renumber a held session behind the events its old shard handed over; their frames.

        ``taken`` get seqs ``after_seq + 1...``, the held events the seqs after them, and both
        become the session's replay buffer; the session turns DETACHED, ready to ``attach``.
        None if more events were held than the buffer keeps (the caller sends op 9).
        """
        if session.state is not SessionState.HOLDING:
            raise RuntimeError(f"cannot rebase a {session.state.value} session")
        held = self.events_after(session, 0)
        if held is None:
            return None
        events, slot, size = [*taken, *held], session.slot, self.replay_events
        for seq, dispatch in enumerate(events, after_seq + 1):
            self._ring[slot, seq % size] = self.log.append(dispatch) & _REF_MASK
        self._seq[slot] = after_seq + len(events)
        session.replay_floor = max(after_seq, self.seq_of(slot) - size)
        session.state, session.detached_at = SessionState.DETACHED, time.monotonic()
        has_content, user = self._content[slot], session.user_id
        return [frame(d.t, s, d.body_for(has_content, user)) for s, d in enumerate(events, after_seq + 1)]

    def move_out(self, session_id: SessionId) -> Session | None:
        """Hand a session over to another shard: its socket (if any) closes, its slot is freed."""
        session = self.sessions.pop(session_id, None)
        if session is not None:
            if session.sink is not None:
                session.sink.close(4000, "Session resumed on another connection")
            session.state, session.sink = SessionState.MOVED, None
            self._release(session.slot)
        return session

    def detach(self, session_id: SessionId) -> Session | None:
        session = self.sessions.get(session_id)
        if session is not None and session.state is SessionState.CONNECTED:
            session.detach()
            self._sinks[session.slot] = NULL_SINK
        return session

    def attach(self, session_id: SessionId, sink: FrameSink) -> Session:
        session = self.sessions[session_id]
        session.attach(sink)
        self._sinks[session.slot] = sink
        return session

    def close_session(self, session_id: SessionId) -> Session | None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.state, session.sink = SessionState.CLOSED, None
            self._release(session.slot)
        return session

    def expired(self, window_s: float, now: float | None = None) -> list[Session]:
        """Detached sessions whose replay window has passed (the caller closes them)."""
        now = time.monotonic() if now is None else now
        return [
            s
            for s in self.sessions.values()
            if s.state is SessionState.DETACHED and now - s.detached_at > window_s
        ]

    def invalidate(self, slots: Slots) -> int:
        """Sessions that missed events (their shard lagged): op 9 d:false, then closed.

        A session that lost events can not resume without a gap, so it must re-identify.
        Returns how many slots were invalidated.
        """
        by_slot = {s.slot: s for s in self.sessions.values()}
        for slot in slots.tolist():
            session = by_slot.get(slot)
            if session is not None:
                if session.sink is not None:
                    session.sink.write(b'{"op":9,"d":false,"s":null,"t":null}')
                    session.sink.close(4000, "session fell too far behind; identify again")
                self.close_session(session.session_id)
        self.invalidated += slots.size
        return int(slots.size)

    def seq_of(self, slot: int) -> int:
        return int(self._seq[slot])

    # -- the hot path ------------------------------------------------------------------------
    def deliver(self, batch: Sequence[tuple[Dispatch, Slots]]) -> int:
        """Give each dispatch its next seq on each of its slots, record it, frame it, write it."""
        delivered = 0
        sinks, content, users, ring = self._sinks, self._content, self._user, self._ring
        size = self.replay_events
        for dispatch, slots in batch:
            if slots.size == 0:
                continue
            if dispatch.t == PRESENCE_UPDATE:  # a lagging session gets no presence backlog
                slots = self.presence.admit(dispatch, slots)
                if slots.size == 0:
                    continue
            if dispatch.t[0] == "@":  # reserved: a note to this shard, never written
                self._control(dispatch, slots)
                continue
            if dispatch.t == self.guild_creates.t:
                dispatch = self.guild_creates.share(dispatch)
            ref = self.log.append(dispatch) & _REF_MASK
            seqs = self._seq[slots] + 1
            self._seq[slots] = seqs
            ring[slots, seqs % size] = ref
            head = b'{"op":0,"t":"%s","s":' % dispatch.t.encode()
            tails = (b',"d":%s}' % dispatch.body_for(False), b',"d":%s}' % dispatch.body)
            readers = dispatch.content_readers
            for slot, seq in zip(slots.tolist(), seqs.tolist(), strict=True):
                sees = content[slot] or (bool(readers) and users[slot] in readers)
                sinks[slot].write(b"%s%d%s" % (head, seq, tails[sees]))
            delivered += slots.size
        self.frames_out += delivered
        return delivered

    def _control(self, dispatch: Dispatch, slots: Slots) -> None:
        if dispatch.t == MOVED_MARKER:
            self._marker(dispatch)
            return
        if dispatch.t not in (GUILD_JOINED, GUILD_LEFT):
            return
        by_slot = {s.slot: s for s in self.sessions.values()}
        for slot in slots.tolist():
            session = by_slot.get(slot)
            if session is None:
                continue
            if dispatch.t == GUILD_JOINED:
                session.guild_ids.add(dispatch.guild_id)
            else:
                session.guild_ids.discard(dispatch.guild_id)

    def _marker(self, marker: Dispatch) -> None:
        session = self.sessions.get(SessionId(marker.body.decode()))
        if session is not None:
            session.moved_guilds.add(marker.guild_id)
            if self.on_marker is not None:
                self.on_marker(session)

    def send(self, session: Session, t: str, d: Any) -> int:
        """A dispatch for one session (READY, GUILD_MEMBERS_CHUNK...); returns its seq."""
        slot = np.asarray([session.slot], dtype=np.int32)
        self.deliver([(Dispatch(0, t, encode(d)), slot)])
        return self.seq_of(session.slot)

    def replay_after(self, session: Session, seq: int) -> list[bytes] | None:
        """Every frame after ``seq`` in order, or None if some are no longer held."""
        events = self.events_after(session, seq)
        if events is None:
            return None
        has_content, user = self._content[session.slot], session.user_id
        return [frame(d.t, s, d.body_for(has_content, user)) for s, d in enumerate(events, seq + 1)]

    def events_after(self, session: Session, seq: int) -> list[Dispatch] | None:
        """The dispatches after ``seq`` in order (what a handover carries), or None."""
        current = self.seq_of(session.slot)
        if seq > current or seq < session.replay_floor or current - seq > self.replay_events:
            return None
        events = []
        for s in range(seq + 1, current + 1):
            dispatch = self.log.resolve(int(self._ring[session.slot, s % self.replay_events]))
            if dispatch is None:
                return None
            events.append(dispatch)
        return events

    def memory_bytes(self) -> int:
        """Bytes held per slot by the columns and the lists (the shared log not included)."""
        return int(self._seq.nbytes + self._ring.nbytes + 8 * (len(self._sinks) + len(self._content)))
