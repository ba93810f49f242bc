"""A drained edge: its clients get op 7, resume on another edge, and miss nothing."""

from __future__ import annotations

from rayguild.actors.session import SessionState

from .conftest import ConnectionClosed, Edge

MESSAGES = 30
BEFORE_DRAIN = 6


async def test_drain_sends_op7_and_the_session_resumes_elsewhere_with_no_gap(
    two_edges: tuple[Edge, Edge],
) -> None:
    a, b = two_edges
    token, headers, _, channel = await a.guild_with_bot()
    first, session_id = await a.live_session(token)
    posting = b.post_in_background(headers, channel["id"], MESSAGES)
    await posting.until(BEFORE_DRAIN)
    assert await a.cluster.directory.session_shard(0).drain() == 1  # the session shard's command
    frames, reconnect = [], None
    try:
        while reconnect is None:
            frame = await first.recv()
            if frame["op"] == 7:
                reconnect = frame
            elif frame["op"] == 0 and frame["t"] == "MESSAGE_CREATE":
                frames.append(frame)
    except ConnectionClosed as closed:
        raise AssertionError(f"closed with {closed.code} before op 7") from None
    assert await first.closed_with() == 4000  # resumable
    second = await b.connect()
    await second.send({"op": 6, "d": {"token": token, "session_id": session_id, "seq": first.seq}})
    await posting.finished()
    while sum(f["t"] == "MESSAGE_CREATE" for f in frames) < MESSAGES:
        frame = await second.recv()
        if frame["op"] == 0 and frame["t"] in ("MESSAGE_CREATE", "RESUMED"):
            frames.append(frame)
    messages = [f["d"]["id"] for f in frames if f["t"] == "MESSAGE_CREATE"]
    assert messages == posting.posted  # every message once, in order, across the drain
    assert [f["t"] for f in frames].count("RESUMED") == 1
    seqs = [f["s"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap in seq
    assert session_id not in a.cluster.cores[0].sessions
    assert b.cluster.cores[1].sessions[session_id].state is SessionState.CONNECTED
