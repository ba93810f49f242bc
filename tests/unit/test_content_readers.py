"""MESSAGE_CONTENT's exemptions in the session shard: a session without the intent reads the
messages its user wrote or is mentioned in, live and on replay, and nothing else."""

from __future__ import annotations

import numpy as np
import orjson

from rayguild.actors.session import SessionShardCore
from rayguild.fanout.events import Dispatch
from tests.unit.test_session_core import ListSink

ALICE, BOB, CAROL = 11, 12, 13


def posted(i: int, author: int, mentions: tuple[int, ...] = ()) -> Dispatch:
    d = {"id": str(i), "content": f"text {i}", "embeds": [{"title": "t"}], "author": {"id": str(author)},
         "mentions": [{"id": str(u)} for u in mentions]}  # fmt: skip
    return Dispatch.of(1, "MESSAGE_CREATE", d, channel_id=5)


def test_authors_and_mentioned_users_read_content_without_the_intent() -> None:
    core = SessionShardCore(0, replay_events=16)
    sinks = {user: ListSink() for user in (ALICE, BOB, CAROL)}
    sessions = {user: core.open_session(user, 0, True, sink) for user, sink in sinks.items()}
    slots = np.array([s.slot for s in sessions.values()], dtype=np.int32)
    core.deliver([(posted(1, ALICE), slots), (posted(2, BOB, (CAROL,)), slots), (posted(3, CAROL), slots)])
    seen = {user: [f["d"]["content"] for f in sink.frames] for user, sink in sinks.items()}
    assert seen == {
        ALICE: ["text 1", "", ""],
        BOB: ["", "text 2", ""],
        CAROL: ["", "text 2", "text 3"],
    }
    assert [f["d"]["embeds"] for f in sinks[ALICE].frames] == [[{"title": "t"}], [], []]
    replayed = core.replay_after(sessions[CAROL], 0)
    assert replayed is not None
    assert [orjson.loads(f)["d"]["content"] for f in replayed] == ["", "text 2", "text 3"]
