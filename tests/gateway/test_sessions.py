"""Identify, dispatches, intents, resume (no gap, no duplicate), op 8, compression, session lifetime."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rayguild.actors.session import SessionState
from rayguild.fanout.events import ALL_INTENTS, GUILD_MEMBERS, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT
from rayguild.http_api.gateway_ops import reap_expired

from .conftest import until

Edge = Any


async def _post(edge: Edge, headers: dict[str, str], channel: dict[str, Any], content: str) -> dict[str, Any]:
    return await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": content})  # type: ignore[no-any-return]


async def test_ready_then_guild_create_then_messages(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    gw = await edge.connect()
    ready = await gw.identify(token)
    d = ready["d"]
    assert ready["s"] == 1 and d["v"] == 10 and d["guilds"] == [{"id": guild["id"], "unavailable": True}]
    assert d["resume_gateway_url"].startswith("ws://") and d["shard"] == [0, 1]
    assert d["application"]["id"] == d["user"]["id"] and len(d["session_id"]) == 32
    create = await gw.dispatch("GUILD_CREATE")
    assert create["s"] == 2 and create["d"]["id"] == guild["id"]
    assert [c["name"] for c in create["d"]["channels"]] == ["general"]
    assert create["d"]["members"][0]["user"]["id"] == d["user"]["id"]
    sent = await _post(edge, headers, channel, "hello")
    event = await gw.dispatch("MESSAGE_CREATE")
    assert event["s"] > create["s"] and event["d"]["id"] == sent["id"] and event["d"]["content"] == "hello"
    assert event["d"]["guild_id"] == guild["id"] and event["d"]["member"]["roles"] == []


async def test_intents_are_enforced_per_event(edge: Edge) -> None:
    token, headers, _, channel = await edge.guild_with_bot()
    no_messages = await edge.connect()
    await no_messages.identify(token, intents=GUILDS)
    no_content = await edge.connect()
    await no_content.identify(token, intents=GUILDS | GUILD_MESSAGES)
    full = await edge.connect()
    await full.identify(token, intents=GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT)
    for gw in (no_messages, no_content, full):
        await gw.dispatch("GUILD_CREATE")
    # Another member posts: a bot always reads its own messages, MESSAGE_CONTENT or not.
    _, _, poster = await edge.register("poster")
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", poster)
    await _post(edge, poster, channel, "secret")
    assert (await full.dispatch("MESSAGE_CREATE"))["d"]["content"] == "secret"
    assert (await no_content.dispatch("MESSAGE_CREATE"))["d"]["content"] == ""
    await edge.rest("PATCH", f"/channels/{channel['id']}", headers, json={"topic": "marker"})
    assert (await no_messages.recv())["t"] == "CHANNEL_UPDATE"  # the message never came


async def test_member_add_and_guild_create_on_invite(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    owner_gw = await edge.connect()
    await owner_gw.identify(token, intents=ALL_INTENTS)
    await owner_gw.dispatch("GUILD_CREATE")
    joiner_token, joiner, joiner_headers = await edge.register("joiner")
    joiner_gw = await edge.connect()
    ready = await joiner_gw.identify(joiner_token)
    assert ready["d"]["guilds"] == []
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", joiner_headers)
    added = await owner_gw.dispatch("GUILD_MEMBER_ADD")
    assert added["d"]["user"]["id"] == joiner["id"] and added["d"]["guild_id"] == guild["id"]
    assert (await joiner_gw.dispatch("GUILD_CREATE"))["d"]["id"] == guild["id"]
    await edge.rest("DELETE", f"/users/@me/guilds/{guild['id']}", joiner_headers)
    assert (await owner_gw.dispatch("GUILD_MEMBER_REMOVE"))["d"]["user"]["id"] == joiner["id"]
    assert (await joiner_gw.dispatch("GUILD_DELETE"))["d"]["id"] == guild["id"]


async def test_resume_replays_every_missed_event_once(edge: Edge) -> None:
    token, headers, _, channel = await edge.guild_with_bot()
    gw = await edge.connect()
    ready = await gw.identify(token)
    await gw.dispatch("GUILD_CREATE")
    await _post(edge, headers, channel, "before")
    seen = (await gw.dispatch("MESSAGE_CREATE"))["s"]
    await gw.ws.close(code=4000)  # the socket drops; the session waits to be resumed
    missed = [(await _post(edge, headers, channel, f"missed {i}"))["id"] for i in range(5)]
    await asyncio.sleep(0.05)
    again = await edge.connect()
    await again.send({"op": 6, "d": {"token": token, "session_id": ready["d"]["session_id"], "seq": seen}})
    replayed = [await again.recv() for _ in range(5)]
    assert [f["d"]["id"] for f in replayed] == missed
    assert [f["s"] for f in replayed] == list(range(seen + 1, seen + 6))
    resumed = await again.recv()
    assert resumed["t"] == "RESUMED" and resumed["s"] == seen + 6
    after = await _post(edge, headers, channel, "after")
    live = await again.dispatch("MESSAGE_CREATE")
    assert live["d"]["id"] == after["id"] and live["s"] == seen + 7


async def test_resume_out_of_buffer_or_unknown_is_op9_false(make_edge: Any) -> None:
    # One session shard: the witness's delivery and the detached session's buffer come in one call.
    edge = await make_edge(replay_buffer_events=4, session_shards=1)
    token, headers, _, channel = await edge.guild_with_bot()
    gw = await edge.connect()
    ready = await gw.identify(token)
    await gw.dispatch("GUILD_CREATE")
    witness = await edge.connect()
    await witness.identify(token)
    await witness.dispatch("GUILD_CREATE")
    await gw.ws.close(code=4000)
    for i in range(5):
        await _post(edge, headers, channel, str(i))
    for i in range(5):  # all five are in the detached session's buffer once the witness has them
        assert (await witness.dispatch("MESSAGE_CREATE"))["d"]["content"] == str(i)
    again = await edge.connect()
    await again.send({"op": 6, "d": {"token": token, "session_id": ready["d"]["session_id"], "seq": 2}})
    assert await again.recv() == {"op": 9, "s": None, "t": None, "d": False}
    unknown = await edge.connect()
    await unknown.send({"op": 6, "d": {"token": token, "session_id": "0" * 32, "seq": 1}})
    assert (await unknown.recv())["op"] == 9
    await unknown.identify(token)  # after op 9 the same socket may identify


async def test_resume_takes_over_a_half_open_socket(edge: Edge) -> None:
    token, headers, _, channel = await edge.guild_with_bot()
    old = await edge.connect()
    ready = await old.identify(token)
    await old.dispatch("GUILD_CREATE")
    new = await edge.connect()
    await new.send({"op": 6, "d": {"token": token, "session_id": ready["d"]["session_id"], "seq": 2}})
    await new.dispatch("RESUMED")
    assert await old.closed_with() == 4000
    await _post(edge, headers, channel, "x")
    assert (await new.dispatch("MESSAGE_CREATE"))["d"]["content"] == "x"


async def test_request_guild_members_chunks(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    for i in range(3):
        _, _, joiner_headers = await edge.register(f"member{i}", bot=False)
        await edge.rest("POST", f"/invites/{invite['code']}", joiner_headers)
    gw = await edge.connect()
    await gw.identify(token, intents=GUILDS | GUILD_MEMBERS)
    await gw.dispatch("GUILD_CREATE")
    await gw.send({"op": 8, "d": {"guild_id": guild["id"], "query": "", "limit": 0, "nonce": "n1"}})
    chunk = (await gw.dispatch("GUILD_MEMBERS_CHUNK"))["d"]
    assert chunk["chunk_index"] == 0 and chunk["chunk_count"] == 1 and chunk["nonce"] == "n1"
    assert len(chunk["members"]) == 4 and chunk["not_found"] == []
    await gw.send({"op": 8, "d": {"guild_id": guild["id"], "query": "memb", "limit": 2}})
    assert len((await gw.dispatch("GUILD_MEMBERS_CHUNK"))["d"]["members"]) == 2
    await gw.send(
        {"op": 8, "d": {"guild_id": guild["id"], "user_ids": ["1", chunk["members"][0]["user"]["id"]]}}
    )
    by_id = (await gw.dispatch("GUILD_MEMBERS_CHUNK"))["d"]
    assert by_id["not_found"] == ["1"] and len(by_id["members"]) == 1


async def test_presence_update_reaches_guild_members(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    watcher = await edge.connect()
    await watcher.identify(token, intents=ALL_INTENTS)
    await watcher.dispatch("GUILD_CREATE")
    user_token, user, user_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", user_headers)
    human = await edge.connect()
    await human.send({"op": 2, "d": {"token": user_token, "properties": {}}})  # users send no intents
    await human.dispatch("READY")
    await human.send({"op": 3, "d": {"status": "dnd", "activities": [], "since": 0, "afk": False}})
    while True:
        presence = await watcher.dispatch("PRESENCE_UPDATE")
        if presence["d"]["status"] == "dnd":
            break
    assert presence["d"]["user"]["id"] == user["id"] and presence["d"]["guild_id"] == guild["id"]
    await human.send({"op": 14, "d": {"guild_id": guild["id"], "typing": True}})
    await human.send({"op": 1, "d": human.seq})
    assert (await human.recv())["op"] in (0, 11)


@pytest.mark.parametrize("compress", ["zlib-stream", "zstd-stream"])
async def test_compressed_streams_decode_with_one_context(edge: Edge, compress: str) -> None:
    token, headers, _, channel = await edge.guild_with_bot()
    gw = await edge.connect(compress=compress)  # Hello itself arrived compressed
    await gw.identify(token)
    await gw.dispatch("GUILD_CREATE")
    for i in range(3):
        await _post(edge, headers, channel, f"m{i}")
        assert (await gw.dispatch("MESSAGE_CREATE"))["d"]["content"] == f"m{i}"


async def test_sessions_never_leak(make_edge: Any) -> None:
    edge = await make_edge(replay_window_s=1.0)
    token, _, _, _ = await edge.guild_with_bot()
    sessions = edge.ctx.sessions
    polite = await edge.connect()
    ended = (await polite.identify(token))["d"]["session_id"]
    await polite.ws.close(code=1000)  # a client closing with 1000 ends its session
    dropped = await edge.connect()
    detached = (await dropped.identify(token))["d"]["session_id"]
    await dropped.ws.close(code=4000)
    await until(lambda: ended not in sessions.sessions)  # at once, not when the window passes
    await until(lambda: sessions.sessions[detached].state is SessionState.DETACHED)
    await until(lambda: sessions.sessions == {})  # the app's reaper runs every replay_window_s / 4
    assert sessions.slot_count == 0
    assert await reap_expired(edge.ctx) == 0
    proc = edge.cluster.guild_shard.guilds[next(iter(edge.cluster.guild_shard.guilds))]
    await until(lambda: len(proc.sessions) == 0)  # the guild hears of the reap through the outbox
