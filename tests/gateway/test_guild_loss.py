"""A restarted guild shard, as a real gateway client sees it: GUILD_DELETE unavailable, then
GUILD_CREATE (with each channel's last_message_id) on the same session, seq with no gap, no op 9,
and later messages live; what was posted while the guild was away is in history. Also a real
discord.py bot: on_guild_unavailable, on_guild_available, its history read, no second on_ready."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.clients import discordjs_bots
from tests.gateway.conftest import Edge, Gateway

MESSAGES_BEFORE = 3
BOT = Path(__file__).with_name("discordpy_guild_loss_bot.py")


async def frames_until_guilds_back(gw: Gateway, guild_ids: set[str]) -> list[dict[str, object]]:
    """Every frame up to the GUILD_CREATE of each of ``guild_ids``."""
    frames, waiting = [], set(guild_ids)
    while waiting:
        frame = await gw.recv()
        frames.append(frame)
        if frame.get("t") == "GUILD_CREATE":
            waiting.discard(frame["d"]["id"])  # type: ignore[index]
    return frames


async def test_a_restarted_guild_shard_costs_no_reidentify(edge: Edge) -> None:
    token, headers, guild, channel = await edge.guild_with_bot()
    other = await edge.rest("POST", "/guilds", headers, json={"name": "Other Guild"})
    gw = await edge.connect()
    ready = await gw.identify(token)
    for _ in range(2):
        await gw.dispatch("GUILD_CREATE")
    posted = [
        await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": f"m{i}"})
        for i in range(MESSAGES_BEFORE)
    ]
    for message in posted:
        assert (await gw.dispatch("MESSAGE_CREATE"))["d"]["id"] == message["id"]
    seq_before = gw.seq

    assert edge.cluster.restart_guild() == 1
    during = await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "away"})
    frames = await frames_until_guilds_back(gw, {guild["id"], other["id"]})

    assert all(f["op"] == 0 for f in frames), "no op 9: the session lives on"
    assert [f["s"] for f in frames] == list(range(seq_before + 1, seq_before + 1 + len(frames)))
    deletes = [f["d"] for f in frames if f["t"] == "GUILD_DELETE"]
    assert sorted(deletes, key=str) == sorted(
        [{"id": guild["id"], "unavailable": True}, {"id": other["id"], "unavailable": True}], key=str
    )
    first_create = next(i for i, f in enumerate(frames) if f["t"] == "GUILD_CREATE")
    assert all(f["t"] == "GUILD_DELETE" for f in frames[:first_create]), "unavailable comes first"
    create = next(f["d"] for f in frames if f["t"] == "GUILD_CREATE" and f["d"]["id"] == guild["id"])  # type: ignore[index]
    general = next(ch for ch in create["channels"] if ch["id"] == channel["id"])  # type: ignore[index]
    assert int(general["last_message_id"]) >= int(posted[-1]["id"])
    # What a library does after GUILD_CREATE: fetch back to the last message it saw.
    history = await edge.rest("GET", f"/channels/{channel['id']}/messages?after={posted[-1]['id']}", headers)
    assert {m["id"] for m in history} == {during["id"]}

    after = await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "back"})
    live = await gw.dispatch("MESSAGE_CREATE")
    while live["d"]["id"] != after["id"]:  # "away" may arrive live too, if the join won the race
        assert live["d"]["id"] == during["id"]
        live = await gw.dispatch("MESSAGE_CREATE")
    assert live["s"] == gw.seq and gw.seq > seq_before + len(frames) - 1
    assert ready["d"]["session_id"] in edge.ctx.sessions.sessions


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
async def test_a_real_bot_rides_through_a_guild_shard_restart(edge: Edge, library: str) -> None:
    base = edge.for_libraries()
    token, headers, guild, channel = await edge.guild_with_bot()
    await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "earlier"})
    if library == "discord.py":
        command, cwd = [sys.executable, str(BOT)], None
    else:
        discordjs_bots.require_discordjs()
        command, cwd = ["node", "guild_loss.mjs"], discordjs_bots.DISCORDJS_DIR
    proc = await asyncio.create_subprocess_exec(
        *command, base, token, channel["id"],
        cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None

    async def line(expected: str) -> None:
        got = (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).decode().strip()  # type: ignore[union-attr]
        assert got == expected, got

    await line("ready")
    assert edge.cluster.restart_guild() == 1
    away = await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "away"})
    await line("available")
    await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "back"})
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert len(seen["ready"]) == 1, "one session, never identified again"
    assert [str(g) for g in seen["unavailable"]] == [guild["id"]] == [str(g) for g in seen["available"]]
    assert int(seen["last_message_id"]) >= int(away["id"]) or "away" in seen["live"]
    assert seen["history"][:2] == ["away", "earlier"], "what it missed is in history"
    assert seen["live"][-1] == "back"
