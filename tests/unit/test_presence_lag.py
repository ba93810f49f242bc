"""The presence lag bound in a session shard: no PRESENCE_UPDATE beyond the socket's backlog bound
(and no seq used for it), one resync once drained, updates held while the resync is fetched."""

from __future__ import annotations

import numpy as np

from rayguild.actors.session import SessionShardCore
from rayguild.actors.session_presence import SessionPresences
from rayguild.fanout.events import GUILD_PRESENCES, Dispatch


class QueueSink:
    """A socket queue that only empties when told to."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []

    def write(self, frame: bytes) -> None:
        self.queued.append(frame)

    def backlog(self) -> int:
        return len(self.queued)

    def close(self, code: int, reason: str) -> None:
        pass


def presence(n: int) -> Dispatch:
    return Dispatch.of(
        1, "PRESENCE_UPDATE", {"user": {"id": str(n)}, "status": "online"}, intent=GUILD_PRESENCES
    )


def shard() -> tuple[SessionShardCore, QueueSink, int]:
    core = SessionShardCore(0, replay_events=16, presence=SessionPresences(backlog_frames=3))
    sink = QueueSink()
    session = core.open_session(7, GUILD_PRESENCES, False, sink)
    core.presence.watch(session.slot, sink)
    return core, sink, session.slot


def test_beyond_the_backlog_bound_updates_are_dropped_before_they_take_a_seq() -> None:
    core, sink, slot = shard()
    one = np.asarray([slot], dtype=np.int32)
    for n in range(10):
        core.deliver([(presence(n), one)])
    assert sink.backlog() == 3 and core.seq_of(slot) == 3
    assert core.presence.stale == {slot} and core.presence.dropped == 7
    message = Dispatch.of(1, "MESSAGE_CREATE", {"content": "x"})
    core.deliver([(message, one)])  # other events still flow (the socket's own bound governs them)
    assert core.seq_of(slot) == 4


def test_a_resync_waits_for_the_drain_and_holds_updates_meanwhile() -> None:
    core, sink, slot = shard()
    one = np.asarray([slot], dtype=np.int32)
    for n in range(5):
        core.deliver([(presence(n), one)])
    assert core.presence.due() == []  # still a backlog
    sink.queued.clear()
    assert core.presence.due() == [slot]
    core.deliver([(presence(99), one)])  # arrives while the reply is fetched: held, not written
    assert sink.backlog() == 0
    assert [d.body for d in core.presence.release(slot) or []] == [presence(99).body]
    assert core.presence.replaced == 1 and core.presence.stale == set()


def test_holding_too_much_turns_the_session_stale_again() -> None:
    core, _, slot = shard()
    core.presence.stale.add(slot)
    assert core.presence.due() == [slot]
    one = np.asarray([slot], dtype=np.int32)
    for n in range(4):
        core.deliver([(presence(n), one)])
    assert core.presence.release(slot) is None and core.presence.stale == {slot}


def test_unwatched_sessions_cost_nothing_and_lose_nothing() -> None:
    core = SessionShardCore(0, presence=SessionPresences(backlog_frames=1))
    sink = QueueSink()  # a sink with a backlog, but never watched
    slots = np.asarray([core.open_session(u, 0, False, sink).slot for u in range(1, 101)], dtype=np.int32)
    for n in range(5):
        core.deliver([(presence(n), slots)])
    assert core.frames_out == 500 and core.presence.dropped == 0
