"""Presence through the real edge: op 3's rate limit, a stalled session's one PRESENCES_REPLACE,
and the resync after a presence shard restart.

The stalled session runs the edge's own identify and resync code with a sink whose socket can be
held (``StallSink``: what a client that stops reading leaves behind), so its backlog is exact.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from rayguild.actors.presence import SessionPresence
from rayguild.actors.session import Session
from rayguild.fanout.events import ALL_INTENTS
from rayguild.http_api import gateway_ops
from rayguild.http_api.gateway_protocol import parse_identify

from .conftest import Edge, EdgeFactory, until


class StallSink:
    """A socket's queue: frames written while stalled stay pending (the backlog) until drained."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.stalled = False
        self.closed: int | None = None

    def write(self, frame: bytes) -> None:
        (self.pending if self.stalled else self.frames).append(orjson.loads(frame))

    def backlog(self) -> int:
        return len(self.pending)

    def drain(self) -> None:
        self.stalled = False
        self.frames += self.pending
        self.pending = []

    def close(self, code: int, reason: str) -> None:
        self.closed = code

    def of(self, t: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("t") == t]


async def open_session(edge: Edge, token: str, sink: StallSink) -> Session:
    ident = parse_identify({"token": token, "intents": ALL_INTENTS, "properties": {}}, ALL_INTENTS, 50)
    session = await gateway_ops.identify(edge.ctx, ident, sink)
    await until(lambda: bool(sink.of("GUILD_CREATE")))
    return session


def assert_gapless(sink: StallSink) -> None:
    seqs = [f["s"] for f in sink.frames if f.get("op") == 0]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_op3_beyond_the_rate_limit_closes_with_4008(make_edge: EdgeFactory) -> None:
    edge = await make_edge(presence_updates_per_minute=3)
    token, _, _, _ = await edge.guild_with_bot()
    gw = await edge.connect()
    await gw.identify(token)
    for status in ("idle", "dnd", "online"):
        await gw.send({"op": 3, "d": {"status": status, "activities": [], "since": 0, "afk": False}})
    await gw.send({"op": 1, "d": gw.seq})
    while (await gw.recv())["op"] != 11:  # the three were accepted
        pass
    await gw.send({"op": 3, "d": {"status": "idle", "activities": [], "since": 0, "afk": False}})
    assert await gw.closed_with() == 4008


async def test_a_stalled_session_gets_one_presences_replace_then_live_updates(make_edge: EdgeFactory) -> None:
    edge = await make_edge(presence_backlog_frames=4, presence_resync_interval_s=0.02)
    token, _, guild, _ = await edge.guild_with_bot()
    guild_id = int(guild["id"])
    sink = StallSink()
    await open_session(edge, token, sink)
    sink.stalled = True
    for n in range(20):  # twenty other users come online while the socket is stalled
        await edge.cluster.presence.update(SessionPresence(1000 + n, f"x{n}", (guild_id,), "online"))
    await edge.cluster.guild_shard.batcher.drain()
    assert sink.backlog() == 4  # the bound: the other sixteen never queued
    assert edge.ctx.sessions.presence.dropped == 16
    await asyncio.sleep(0.1)
    assert not sink.of("PRESENCES_REPLACE")  # not while the socket still has a backlog
    sink.drain()
    await until(lambda: bool(sink.of("PRESENCES_REPLACE")))
    (replace,) = sink.of("PRESENCES_REPLACE")
    shown = {p["user"]["id"]: p["status"] for p in replace["d"]}
    assert all(shown[str(1000 + n)] == "online" for n in range(20))
    await edge.cluster.presence.update(SessionPresence(1000, "x0", (guild_id,), "dnd"))
    await until(lambda: sink.of("PRESENCE_UPDATE")[-1]["d"]["status"] == "dnd")
    last = sink.frames[-1]
    assert last["t"] == "PRESENCE_UPDATE" and last["s"] > replace["s"]
    assert len(sink.of("PRESENCES_REPLACE")) == 1
    assert_gapless(sink)


async def test_a_restarted_presence_shard_resyncs_instead_of_leaving_stale_presences(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    guild_id = int(guild["id"])
    watcher = StallSink()
    await open_session(edge, token, watcher)
    human_token, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    human_sink = StallSink()
    human_session = await open_session(edge, human_token, human_sink)
    # A user whose edge went away while the presence shard was down: only the old shard knew them.
    await edge.cluster.presence.update(SessionPresence(4242, "gone", (guild_id,), "online"))
    await until(lambda: any(p["d"]["user"]["id"] == "4242" for p in watcher.of("PRESENCE_UPDATE")))

    assert edge.cluster.restart_presence() >= 2  # every watching session is owed a resync
    await until(lambda: bool(watcher.of("PRESENCES_REPLACE")))
    (replace,) = watcher.of("PRESENCES_REPLACE")
    shown = {p["user"]["id"]: p["status"] for p in replace["d"]}
    assert shown.get(human["id"]) == "online" and "4242" not in shown

    await gateway_ops.update_presence(edge.ctx, human_session, {"status": "idle", "activities": []})
    await until(lambda: any(p["d"]["status"] == "idle" for p in watcher.of("PRESENCE_UPDATE")))
    assert_gapless(watcher)


async def test_offline_goes_out_once_when_the_last_session_is_not_resumed_in_time(
    make_edge: EdgeFactory,
) -> None:
    edge = await make_edge(replay_window_s=0.6)  # the edge's reaper closes expired sessions
    token, headers, _, channel = await edge.guild_with_bot()
    watcher = StallSink()
    await open_session(edge, token, watcher)
    human_token, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)

    def statuses() -> list[str]:
        return [
            p["d"]["status"] for p in watcher.of("PRESENCE_UPDATE") if p["d"]["user"]["id"] == human["id"]
        ]

    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": human_token, "properties": {}}})
    await gw.dispatch("READY")
    await until(lambda: statuses() == ["online"])
    await gw.ws.close(code=4000)  # not a final close: the session stays resumable
    await asyncio.sleep(0.2)
    assert statuses() == ["online"]  # detached and resumable: still online
    await until(lambda: statuses() == ["online", "offline"])  # the window passed without a resume
    assert len(edge.ctx.sessions.sessions) == 1  # only the watcher's session is left
    await asyncio.sleep(0.3)
    assert statuses() == ["online", "offline"]  # once
