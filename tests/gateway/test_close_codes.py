"""Every way a client can break the protocol ends with Discord's close code, never a crash."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson

from rayguild.fanout.events import ALL_INTENTS, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT, PRIVILEGED_INTENTS

Edge = Any


async def test_hello_first_and_heartbeat_ack(edge: Edge) -> None:
    ws = await edge.client.ws_connect("/?v=10&encoding=json")
    hello = orjson.loads((await ws.receive(timeout=5)).data)
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == edge.ctx.config.heartbeat_interval_ms
    await ws.send_str('{"op":1,"d":null}')  # immediately, before Identify: allowed
    ack = orjson.loads((await ws.receive(timeout=5)).data)
    assert ack["op"] == 11
    await ws.close()


async def test_non_json_frame_is_4002(edge: Edge) -> None:
    gw = await edge.connect()
    await gw.send("this is not json")
    assert await gw.closed_with() == 4002


async def test_frame_without_op_is_4002(edge: Edge) -> None:
    gw = await edge.connect()
    await gw.send({"d": {}})
    assert await gw.closed_with() == 4002


async def test_oversize_frame_is_4002(make_edge: Any) -> None:
    edge = await make_edge(max_frame_bytes=1024)
    gw = await edge.connect()
    await gw.send({"op": 1, "d": None, "pad": "x" * 2000})
    assert await gw.closed_with() == 4002


async def test_unknown_opcode_is_4001(edge: Edge) -> None:
    gw = await edge.connect()
    await gw.send({"op": 99, "d": None})
    assert await gw.closed_with() == 4001


async def test_payload_before_identify_is_4003(edge: Edge) -> None:
    gw = await edge.connect()
    await gw.send({"op": 3, "d": {"status": "online", "activities": [], "since": 0, "afk": False}})
    assert await gw.closed_with() == 4003


async def test_bad_token_is_4004(edge: Edge) -> None:
    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": "nope", "intents": GUILDS, "properties": {}}})
    assert await gw.closed_with() == 4004


async def test_second_identify_is_4005(edge: Edge) -> None:
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    await gw.identify(token)
    await gw.send({"op": 2, "d": {"token": token, "intents": GUILDS, "properties": {}}})
    assert await gw.closed_with() == 4005


async def test_resume_with_future_seq_is_4007(edge: Edge) -> None:
    token, _, _ = await edge.register("robot")
    first = await edge.connect()
    ready = await first.identify(token)
    await first.ws.close(code=4000)
    second = await edge.connect()
    await second.send({"op": 6, "d": {"token": token, "session_id": ready["d"]["session_id"], "seq": 999}})
    assert await second.closed_with() == 4007


async def test_more_than_120_events_a_minute_is_4008(edge: Edge) -> None:
    gw = await edge.connect()
    for _ in range(121):
        await gw.send({"op": 1, "d": None})
    assert await gw.closed_with() == 4008


async def test_no_heartbeat_is_4009(make_edge: Any) -> None:
    edge = await make_edge(heartbeat_interval_ms=200)
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    ready = await gw.identify(token)
    assert await gw.closed_with() == 4009
    await asyncio.sleep(0.05)
    # 4009 means "start a new session": it is gone, not waiting to be resumed.
    assert ready["d"]["session_id"] not in edge.ctx.sessions.sessions


async def test_bad_api_version_is_4012(edge: Edge) -> None:
    ws = await edge.client.ws_connect("/?v=9&encoding=json")
    msg = await ws.receive(timeout=5)
    assert ws.close_code == 4012 or msg.data == 4012


async def test_invalid_intents_is_4013(edge: Edge) -> None:
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": token, "intents": 1 << 40, "properties": {}}})
    assert await gw.closed_with() == 4013


async def test_bot_without_intents_is_4013(edge: Edge) -> None:
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": token, "properties": {}}})
    assert await gw.closed_with() == 4013


async def test_disallowed_intents_is_4014(make_edge: Any) -> None:
    edge = await make_edge(allowed_intents=ALL_INTENTS & ~PRIVILEGED_INTENTS)
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    await gw.send(
        {"op": 2, "d": {"token": token, "intents": GUILD_MESSAGES | MESSAGE_CONTENT, "properties": {}}}
    )
    assert await gw.closed_with() == 4014


async def test_privileged_intents_allowed_by_default(edge: Edge) -> None:
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    ready = await gw.identify(token, intents=ALL_INTENTS)
    assert ready["d"]["v"] == 10


async def test_slow_reader_is_closed_with_4000_and_can_resume(make_edge: Any) -> None:
    edge = await make_edge(replay_buffer_events=64)
    token, _, _ = await edge.register("robot")
    gw = await edge.connect()
    ready = await gw.identify(token)
    session = edge.ctx.sessions.sessions[ready["d"]["session_id"]]
    for i in range(200):  # no await: the writer task cannot drain in between
        edge.ctx.sessions.send(session, "TEST_EVENT", {"i": i})
    assert await gw.closed_with() == 4000
    await asyncio.sleep(0.05)
    assert session.session_id in edge.ctx.sessions.sessions  # detached, resumable


async def test_storage_outage_is_503_and_4000_not_a_crash(edge: Edge) -> None:
    token, _, headers = await edge.register("robot")
    await edge.ctx.storage.close()  # the database goes away under a running edge
    response = await edge.client.get("/api/v10/users/@me", headers=headers)
    assert response.status == 503 and response.headers["Content-Type"] == "application/json"
    assert (await response.json())["code"] == 0
    gw = await edge.connect()
    await gw.send({"op": 2, "d": {"token": token, "intents": GUILDS, "properties": {}}})
    assert await gw.closed_with() == 4000
    await edge.ctx.storage.start()  # back: the same edge serves again
    assert (await edge.client.get("/api/v10/users/@me", headers=headers)).status == 200


async def test_a_4_mib_frame_gets_close_code_4002_not_a_dropped_connection(edge: Edge) -> None:
    gw = await edge.connect()
    with contextlib.suppress(ConnectionError):  # the server stops reading the frame after its header
        await gw.send({"op": 1, "d": None, "pad": "x" * (4 << 20)})
    assert await gw.closed_with() == 4002
