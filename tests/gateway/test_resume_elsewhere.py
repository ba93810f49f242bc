"""Resume on another edge: the session moves with no gap, no duplicate, and its seq keeps counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rayguild.actors.session import SessionState

from .conftest import Edge, Gateway

MESSAGES = 40
SEEN_ON_A, MISSED = 8, 5  # messages read before the drop; posted at least while detached


async def _messages(gw: Gateway, until: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """Dispatch frames (MESSAGE_CREATE and RESUMED), stopping after ``until`` messages."""
    seen = 0
    while until is None or seen < until:
        frame = await gw.recv()
        if frame["op"] == 0 and frame["t"] in ("MESSAGE_CREATE", "RESUMED"):
            seen += frame["t"] == "MESSAGE_CREATE"
            yield frame


async def test_resume_on_another_edge_while_messages_keep_flowing(two_edges: tuple[Edge, Edge]) -> None:
    a, b = two_edges
    token, headers, _, channel = await a.guild_with_bot()
    first, session_id = await a.live_session(token)
    posting = b.post_in_background(headers, channel["id"], MESSAGES)
    before = [frame async for frame in _messages(first, until=SEEN_ON_A)]
    await first.ws.close(code=4000)  # the socket drops mid-stream; frames in flight are lost
    last_seq = before[-1]["s"]
    await posting.until(SEEN_ON_A + MISSED)  # some messages went to the detached session on edge A
    second = await b.connect()
    await second.send({"op": 6, "d": {"token": token, "session_id": session_id, "seq": last_seq}})
    after = [frame async for frame in _messages(second, until=MESSAGES - len(before))]
    await posting.finished()
    frames = before + after
    resumed = [i for i, f in enumerate(frames) if f["t"] == "RESUMED"]
    assert len(resumed) == 1 and resumed[0] > len(before) - 1
    messages = [f["d"]["id"] for f in frames if f["t"] == "MESSAGE_CREATE"]
    assert messages == posting.posted  # every message once, in order
    seqs = [f["s"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # continuous across the move
    assert session_id not in a.cluster.cores[0].sessions
    assert a.cluster.cores[1].sessions[session_id].state is SessionState.CONNECTED


async def test_resume_elsewhere_of_an_unknown_or_foreign_session_is_op9(two_edges: tuple[Edge, Edge]) -> None:
    a, b = two_edges
    token, _, _, _ = await a.guild_with_bot()
    other_token, _, _ = await a.register("other")
    _first, session_id = await a.live_session(token)  # open: the session stays connected
    stranger = await b.connect()
    await stranger.send({"op": 6, "d": {"token": other_token, "session_id": session_id, "seq": 1}})
    assert (await stranger.recv())["op"] == 9
    unknown = await b.connect()
    await unknown.send({"op": 6, "d": {"token": token, "session_id": "0000" + "0" * 28, "seq": 1}})
    assert (await unknown.recv())["op"] == 9
    assert a.cluster.cores[0].sessions[session_id].state is SessionState.CONNECTED  # untouched


async def test_a_session_resumes_back_on_the_edge_it_was_born_on(two_edges: tuple[Edge, Edge]) -> None:
    """Its id names edge A; after moving to B it is found there (as across a rolling restart)."""
    a, b = two_edges
    token, headers, _, channel = await a.guild_with_bot()
    first, session_id = await a.live_session(token)
    gateway = first
    for index, target in enumerate([b, a]):
        await gateway.ws.close(code=4000)
        seq = gateway.seq
        gateway = await target.connect()
        await gateway.send({"op": 6, "d": {"token": token, "session_id": session_id, "seq": seq}})
        assert (await gateway.dispatch("RESUMED"))["op"] == 0
        await b.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": f"hop {index}"})
        assert (await gateway.dispatch("MESSAGE_CREATE"))["d"]["content"] == f"hop {index}"
    assert a.cluster.cores[0].sessions[session_id].state is SessionState.CONNECTED
    assert session_id not in b.cluster.cores[1].sessions
