"""SessionShardCore: seq per session, replay within the buffer, shared events, content stripping."""

from __future__ import annotations

import asyncio

import numpy as np
import orjson

from rayguild.actors.handoff import HandedOver, Handoffs
from rayguild.actors.session import Session, SessionShardCore, SessionState
from rayguild.benchmarks.wire import CountingSink
from rayguild.fanout.events import MESSAGE_CONTENT, Dispatch, SharedBodies, moved_marker
from rayguild.ids import SessionId


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


def test_equal_guild_creates_share_one_body_in_the_log() -> None:
    core = SessionShardCore(0, replay_events=8)
    sinks = [ListSink() for _ in range(3)]
    sessions = [core.open_session(i, 0, True, sink) for i, sink in enumerate(sinks)]
    members = {"id": "7", "members": [{"user": {"id": str(i)}} for i in range(40)]}
    for session in sessions:  # encoded per session, as the guild shard sends it
        core.deliver([(Dispatch.of(7, "GUILD_CREATE", members), np.array([session.slot], dtype=np.int32))])
    other = Dispatch.of(7, "GUILD_CREATE", {**members, "name": "renamed"})
    core.deliver([(other, np.array([sessions[0].slot], dtype=np.int32))])
    replays = [core.events_after(s, 0) or [] for s in sessions]
    assert [len(r) for r in replays] == [2, 1, 1]
    assert replays[1][0].body is replays[0][0].body and replays[2][0].body is replays[0][0].body
    assert replays[0][1].body is other.body  # a different body is kept as it came
    assert all(sink.frames[0]["d"] == members for sink in sinks)


def test_shared_bodies_forget_the_least_recent_guild_beyond_their_capacity() -> None:
    shared = SharedBodies("GUILD_CREATE", capacity=2)
    first = [shared.share(Dispatch(g, "GUILD_CREATE", b"{}" + bytes([g]))) for g in (1, 2, 3)]
    again = [shared.share(Dispatch(g, "GUILD_CREATE", b"{}" + bytes([g]))) for g in (3, 2, 1)]
    assert again[0].body is first[2].body and again[1].body is first[1].body
    assert again[2].body is not first[0].body  # guild 1 was forgotten when guild 3 came


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


def test_closed_slots_are_reused_only_after_the_delay_and_start_at_seq_zero() -> None:
    core = SessionShardCore(0)
    first = core.open_session(1, 0, False, ListSink())
    core.send(first, "READY", {})
    core.close_session(first.session_id)
    early = core.open_session(2, 0, False, ListSink())
    assert early.slot != first.slot  # a guild may still address the closed session's slot
    core.slot_reuse_delay_s = 0.0
    sink = ListSink()
    second = core.open_session(3, 0, False, sink)
    assert second.slot == first.slot
    core.send(second, "READY", {})
    assert sink.frames[0]["s"] == 1


def test_a_thousand_sessions_on_one_counting_sink_cost_only_their_columns() -> None:
    """What a benchmark's edge does: many sessions, one sink that only counts."""
    core = SessionShardCore(0, replay_events=16)
    sink = CountingSink()
    opened = [core.open_session(user, MESSAGE_CONTENT, False, sink) for user in range(1, 1001)]
    slots = np.asarray([session.slot for session in opened], dtype=np.int32)
    for i in range(20):
        core.deliver([(message(i), slots)])
    assert sink.frames == 20_000
    assert core.seq_of(int(slots[-1])) == 20
    assert core.memory_bytes() / core.slot_count < 200  # 16 refs * 4 B + seq + list entries


def _slot(session: Session) -> np.ndarray:
    return np.array([session.slot], dtype=np.int32)


def test_a_held_session_writes_nothing_then_rebases_behind_the_handed_over_events() -> None:
    old, new = SessionShardCore(0, replay_events=8), SessionShardCore(1, replay_events=8)
    before = old.open_session(1, MESSAGE_CONTENT, False, ListSink())
    for i in range(1, 6):
        old.deliver([(message(i), _slot(before))])
    held = new.hold(1, MESSAGE_CONTENT, False, before.session_id)
    assert held.state is SessionState.HOLDING and held.session_id == before.session_id
    for i in range(6, 9):
        new.deliver([(message(i), _slot(held))])  # the guild already sends here
    taken = old.events_after(before, 3)  # the client had seen seq 3
    assert taken is not None and [orjson.loads(d.body)["id"] for d in taken] == ["4", "5"]
    frames = new.rebase(held, 3, taken)
    assert frames is not None
    assert [(f["s"], f["d"]["id"]) for f in map(orjson.loads, frames)] == [
        (4, "4"), (5, "5"), (6, "6"), (7, "7"), (8, "8"),
    ]  # fmt: skip
    sink = ListSink()
    new.attach(held.session_id, sink)
    new.deliver([(message(9), _slot(held))])
    assert [(f["s"], f["d"]["id"]) for f in sink.frames] == [(9, "9")]
    again = new.replay_after(held, 5)  # the new buffer resumes too, from the handed-over part on
    assert [orjson.loads(f)["s"] for f in again or []] == [6, 7, 8, 9]
    assert new.replay_after(held, 2) is None  # below where the buffer began after the move


def test_rebase_refuses_when_more_events_were_held_than_the_buffer_keeps() -> None:
    core = SessionShardCore(0, replay_events=4)
    held = core.hold(1, 0, False, SessionId("0000" + "ab" * 14))
    for i in range(5):
        core.deliver([(message(i), _slot(held))])
    assert core.rebase(held, 10, []) is None


def test_moved_markers_are_recorded_not_written_and_a_take_hands_the_session_over() -> None:
    core = SessionShardCore(0, replay_events=8)
    sink = ListSink()
    session = core.open_session(1, MESSAGE_CONTENT, False, sink)
    session.guild_ids.update({7, 8})
    handoffs = Handoffs(core)
    core.deliver([(message(1), _slot(session)), (moved_marker(7, session.session_id), _slot(session))])
    core.deliver([(moved_marker(8, session.session_id), _slot(session))])
    assert [f["s"] for f in sink.frames] == [1] and session.moved_guilds == {7, 8}
    summary = handoffs.describe(session.session_id, 1)
    assert summary is not None and summary.guild_ids == (7, 8) and summary.seq == 1
    handed = asyncio.run(handoffs.take(session.session_id, 1, 0, [7, 8], [7, 8]))
    assert handed is not None and handed.seq == 1 and [d.t for d in handed.events] == ["MESSAGE_CREATE"]
    assert session.state is SessionState.MOVED and sink.closed == 4000 and core.slot_count == 0


def test_a_take_waits_for_the_last_marker_and_refuses_a_wrong_user() -> None:
    core = SessionShardCore(0, replay_events=8)
    session = core.open_session(1, 0, False, ListSink())
    session.guild_ids.add(7)
    handoffs = Handoffs(core)

    async def scenario() -> HandedOver | None:
        assert await handoffs.take(session.session_id, 2, 0, [7], [7]) is None  # not this user's
        taking = asyncio.ensure_future(handoffs.take(session.session_id, 1, 0, [7], [7]))
        await asyncio.sleep(0.01)
        assert not taking.done()
        core.deliver([(message(1), _slot(session)), (moved_marker(7, session.session_id), _slot(session))])
        return await taking

    handed = asyncio.run(scenario())
    assert handed is not None and handed.seq == 1 and len(handed.events) == 1
