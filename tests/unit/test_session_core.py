"""SessionShardCore: seq per session, replay within the buffer, shared events, content stripping."""

from __future__ import annotations

import numpy as np
import orjson
from rayguild.actors.session import CountingSink, SessionShardCore, SessionState
from rayguild.fanout.events import MESSAGE_CONTENT, Dispatch


class ListSink:
    def __init__(self) -> None:
        self.frames: list[dict] = []
        self.closed: int | None = None

    def write(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def close(self, code: int, reason: str) -> None:
        self.closed = code


def message(i: int, content: str = "hi") -> Dispatch:
    return Dispatch.of(1, "MESSAGE_CREATE", {"id": str(i), "content": content}, channel_id=5)


def test_each_session_counts_its_own_seq() -> None:
    core = SessionShardCore(0, replay_events=8)
    a, b = ListSink(), ListSink()
    sa = core.open_session(1, MESSAGE_CONTENT, False, a)
    sb = core.open_session(2, MESSAGE_CONTENT, False, b)
    core.send(sa, "READY", {"v": 10})
    core.deliver([(message(1), np.array([sa.slot, sb.slot], dtype=np.int32))])
    core.deliver(
        [(message(2), np.array([sb.slot], dtype=np.int32)), (message(3), np.array([sa.slot], dtype=np.int32))]
    )
    assert [(f["s"], f["t"]) for f in a.frames] == [
        (1, "READY"),
        (2, "MESSAGE_CREATE"),
        (3, "MESSAGE_CREATE"),
    ]
    assert [f["s"] for f in b.frames] == [1, 2]
    assert [f["d"]["id"] for f in b.frames] == ["1", "2"]
    assert all(f["op"] == 0 for f in a.frames + b.frames)


def test_content_is_blank_without_the_intent() -> None:
    core = SessionShardCore(0)
    with_intent, without = ListSink(), ListSink()
    s1 = core.open_session(1, MESSAGE_CONTENT, False, with_intent)
    s2 = core.open_session(2, 0, False, without)
    core.deliver([(message(1, "secret"), np.array([s1.slot, s2.slot], dtype=np.int32))])
    assert with_intent.frames[0]["d"]["content"] == "secret"
    assert without.frames[0]["d"]["content"] == ""


def test_resume_replays_missed_frames_in_order_then_continues() -> None:
    core = SessionShardCore(0, replay_events=8)
    sink = ListSink()
    session = core.open_session(1, MESSAGE_CONTENT, False, sink)
    slot = np.array([session.slot], dtype=np.int32)
    for i in range(1, 4):
        core.deliver([(message(i), slot)])
    core.detach(session.session_id)
    assert session.state is SessionState.DETACHED
    for i in range(4, 7):
        core.deliver([(message(i), slot)])
    assert len(sink.frames) == 3  # nothing written while detached
    replay = core.replay_after(session, 3)
    assert replay is not None
    assert [orjson.loads(f)["s"] for f in replay] == [4, 5, 6]
    assert [orjson.loads(f)["d"]["id"] for f in replay] == ["4", "5", "6"]
    fresh = ListSink()
    core.attach(session.session_id, fresh)
    core.deliver([(message(7), slot)])
    assert [f["s"] for f in fresh.frames] == [7]


def test_resume_outside_the_buffer_is_refused() -> None:
    core = SessionShardCore(0, replay_events=4)
    session = core.open_session(1, 0, False, ListSink())
    slot = np.array([session.slot], dtype=np.int32)
    for i in range(10):
        core.deliver([(message(i), slot)])
    assert [orjson.loads(f)["s"] for f in core.replay_after(session, 6) or []] == [7, 8, 9, 10]
    assert core.replay_after(session, 2) is None  # 8 frames behind, buffer holds 4
    assert core.replay_after(session, 11) is None  # a seq the session never had


def test_resume_refused_when_the_shared_log_dropped_the_event() -> None:
    core = SessionShardCore(0, replay_events=64, log_events=4)
    session = core.open_session(1, 0, False, ListSink())
    other = core.open_session(2, 0, False, ListSink())
    core.deliver([(message(1), np.array([session.slot], dtype=np.int32))])
    for i in range(10):
        core.deliver([(message(100 + i), np.array([other.slot], dtype=np.int32))])
    assert core.replay_after(session, 0) is None


def test_closed_slots_are_reused_and_start_at_seq_zero() -> None:
    core = SessionShardCore(0)
    first = core.open_session(1, 0, False, ListSink())
    core.send(first, "READY", {})
    core.close_session(first.session_id)
    sink = ListSink()
    second = core.open_session(2, 0, False, sink)
    assert second.slot == first.slot
    core.send(second, "READY", {})
    assert sink.frames[0]["s"] == 1


def test_synthetic_sessions_run_the_same_code() -> None:
    core = SessionShardCore(0, replay_events=16)
    sink = CountingSink()
    slots = core.add_synthetic(1000, sink)
    for i in range(20):
        core.deliver([(message(i), slots)])
    assert sink.frames == 20_000
    assert core.seq_of(int(slots[-1])) == 20
    assert core.memory_bytes() / core.slot_count < 200  # 16 refs * 4 B + seq + list entries
