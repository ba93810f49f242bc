"""A relay that dies under a stream of events: its sessions get GUILD_DELETE unavailable, then
GUILD_CREATE from another relay, and every later event, with no op 9 and no seq gap; the sessions
of the other relays see every event, undisturbed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, cast

import pytest

from rayguild.actors import commands as c
from rayguild.actors import relay_loss
from rayguild.actors.guild import GuildShard
from rayguild.actors.handoff import Handoffs
from rayguild.config import load_config
from rayguild.errors import ShardUnavailable, StorageUnavailable
from rayguild.fanout.events import GUILD_MESSAGES, MESSAGE_CONTENT
from rayguild.relay import RelayCommand
from rayguild.storage import SqliteStorage
from rayguild.storage.protocol import Storage

from .conftest import GENERAL, GUILD, ListSink, Node
from .test_relays import InProcessRelays

SESSIONS, RELAY_SIZE, BEFORE, AFTER = 10, 5, 5, 5


class DyingRelays(InProcessRelays):
    """Relays that can be killed: a send to a dead one fails, as a call to a dead actor does."""

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.dead: set[tuple[int, int]] = set()

    def send(self, guild_id: int, index: int, commands: list[RelayCommand]) -> Awaitable[object]:
        if (guild_id, index) in self.dead:
            return self._fail(guild_id, index)
        return super().send(guild_id, index, commands)

    async def _fail(self, guild_id: int, index: int) -> object:
        raise ShardUnavailable(f"relay-{guild_id}-{index} died")


async def test_a_lost_relays_sessions_rejoin_without_reidentifying(storage: SqliteStorage) -> None:
    config = load_config(environ={}, relay_threshold_sessions=2, relay_size=RELAY_SIZE)
    node = Node(2, config)
    relays = DyingRelays(node)
    guild_shard = GuildShard(0, config, storage, node.outbox(), relays)
    sinks: dict[str, ListSink] = {}
    for user in range(1, SESSIONS + 1):
        core, sink = node.cores[user % 2], ListSink()
        session = core.open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, sink)
        sinks[session.session_id] = sink
        join = c.SessionJoin(
            GUILD, session.session_id, core.index, session.slot, user, session.intents, False
        )
        assert await guild_shard.connect(join)

    async def say(i: int) -> None:
        d = {"id": str(i), "content": f"m{i}", "channel_id": str(GENERAL)}
        await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))

    async def settle() -> None:
        assert guild_shard.relay_batcher is not None
        for _ in range(3):
            await guild_shard.relay_batcher.drain()
            await asyncio.gather(*guild_shard._recovering)
            await relays.drain()
            await guild_shard.batcher.drain()

    for i in range(1, BEFORE + 1):
        await say(i)
    await settle()
    proc = guild_shard.guilds[GUILD]
    assert proc.relays is not None
    victims = {s for s, i in proc.relays.relay_of.items() if i == 0}
    assert len(victims) >= 2

    relays.dead.add((GUILD, 0))
    await say(BEFORE + 1)  # lost for the victims: the dead relay never applies it
    await settle()
    for i in range(BEFORE + 2, BEFORE + 2 + AFTER):
        await say(i)
    await settle()

    assert 0 in proc.relays.retired and all(proc.relays.relay_of[s] != 0 for s in victims)
    assert relays.lost_relays == [(GUILD, 0)], "the transport is told once, to stop it for good"
    for session_id, sink in sinks.items():
        assert all(f["op"] == 0 for f in sink.frames) and sink.closed is None, "no op 9"
        assert [f["s"] for f in sink.frames] == list(range(1, len(sink.frames) + 1)), "no seq gap"
        kinds = [f["t"] for f in sink.frames]
        ids = [int(f["d"]["id"]) for f in sink.frames if f["t"] == "MESSAGE_CREATE"]
        later = list(range(BEFORE + 2, BEFORE + 2 + AFTER))
        if session_id in victims:
            gone = kinds.index("GUILD_DELETE")
            assert sink.frames[gone]["d"] == {"id": str(GUILD), "unavailable": True}
            assert kinds[gone + 1] == "GUILD_CREATE" and kinds.count("GUILD_CREATE") == 2
            assert ids[-AFTER:] == later, "every event after the rejoin"
        else:
            assert kinds.count("GUILD_DELETE") == 0 and kinds.count("GUILD_CREATE") == 1
            assert ids == list(range(1, BEFORE + 2 + AFTER)), "the other relays' sessions miss nothing"


async def test_a_session_resuming_elsewhere_while_its_relay_is_replaced_is_handed_over(
    storage: SqliteStorage,
) -> None:
    """Moved between the relay's loss and its rejoin, the session is in no relay: the guild sends
    the moved marker itself, so the old shard hands the session over instead of timing out (op 9)."""
    config = load_config(environ={}, relay_threshold_sessions=2, relay_size=RELAY_SIZE)
    node = Node(2, config)
    relays = DyingRelays(node)
    guild_shard = GuildShard(0, config, storage, node.outbox(), relays)
    old, new = node.cores
    handoffs = Handoffs(old)
    sessions = []
    for user in range(1, SESSIONS + 1):
        session = old.open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, ListSink())
        session.guild_ids.add(GUILD)
        sessions.append(session)
        join = c.SessionJoin(GUILD, session.session_id, 0, session.slot, user, session.intents, False)
        assert await guild_shard.connect(join)
    proc = guild_shard.guilds[GUILD]
    assert proc.relays is not None and guild_shard.relay_batcher is not None
    await guild_shard.relay_batcher.drain()
    mover = next(s for s in sessions if proc.relays.relay_of[s.session_id] == 0)

    relays.dead.add((GUILD, 0))
    d = {"id": "1", "content": "m1", "channel_id": str(GENERAL)}
    await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))
    await guild_shard.relay_batcher.drain()  # the relay is found dead; its sessions' rejoin starts
    assert mover.session_id not in proc.relays.relay_of, "moved while in no relay"
    held = new.hold(mover.user_id, mover.intents, False, mover.session_id)
    assert await guild_shard.move(GUILD, mover.session_id, 1, held.slot)
    taking = asyncio.ensure_future(handoffs.take(mover.session_id, mover.user_id, 0, [GUILD], [GUILD]))
    await guild_shard.batcher.drain()
    await asyncio.gather(*guild_shard._recovering)
    assert await taking is not None, "handed over, not refused (which is op 9 to the client)"
    assert (
        proc.relay_join(mover.session_id) is not None and proc.relay_join(mover.session_id).slot == held.slot
    )


class OutageStorage:
    """The real storage, refusing every call while ``down`` as a Cassandra being restarted does."""

    def __init__(self, inner: SqliteStorage) -> None:
        self.inner, self.down, self.refused = inner, False, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not self.down or not callable(attr):
            return attr

        async def refuse(*args: object, **kwargs: object) -> object:
            self.refused += 1
            raise StorageUnavailable("storage is down")

        return refuse


@pytest.mark.parametrize("outage", ["brief", "endless"])
async def test_a_lost_relays_sessions_wait_out_a_storage_outage(
    storage: SqliteStorage, monkeypatch: pytest.MonkeyPatch, outage: str
) -> None:
    """GUILD_CREATE is read from storage: while it is down the rejoin retries (the sessions stay
    told that the guild is unavailable), and gets them back once it answers; an outage beyond
    ``REJOIN_GIVE_UP_S`` ends in op 9, never in a session silently left without its guild. The
    sessions on a session shard that does not answer (stalled) do not hold the others up."""
    monkeypatch.setattr(relay_loss, "REJOIN_BACKOFF_S", 0.01)
    monkeypatch.setattr(relay_loss, "REJOIN_BACKOFF_MAX_S", 0.05)
    monkeypatch.setattr(relay_loss, "REJOIN_GIVE_UP_S", 0.5 if outage == "endless" else 60.0)
    config = load_config(environ={}, relay_threshold_sessions=2, relay_size=RELAY_SIZE)
    node = Node(3, config)
    relays = DyingRelays(node)
    flaky = OutageStorage(storage)
    guild_shard = GuildShard(0, config, cast(Storage, flaky), node.outbox(), relays)
    sinks: dict[str, ListSink] = {}
    for user in range(1, SESSIONS + 1):
        core, sink = node.cores[user % 3], ListSink()
        session = core.open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, sink)
        sinks[session.session_id] = sink
        join = c.SessionJoin(
            GUILD, session.session_id, core.index, session.slot, user, session.intents, False
        )
        assert await guild_shard.connect(join)
    proc = guild_shard.guilds[GUILD]
    assert proc.relays is not None and guild_shard.relay_batcher is not None
    await guild_shard.relay_batcher.drain()
    await relays.drain()
    victims = {s for s, i in proc.relays.relay_of.items() if i == 0}
    stalled = 2
    waiting = {s for s in victims if proc.sessions.shard[proc.sessions.rows[s]] != stalled}
    assert len(waiting) >= 2, "victims on the shards that answer"

    flaky.down = True
    node.stalled.add(stalled)
    relays.dead.add((GUILD, 0))
    d = {"id": "1", "content": "m1", "channel_id": str(GENERAL)}
    await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))
    await guild_shard.relay_batcher.drain()  # the relay is found dead; its sessions are told
    for _ in range(100):
        if flaky.refused >= 2 * len(waiting):
            break
        await asyncio.sleep(0.01)
    assert flaky.refused >= 2 * len(waiting), "the rejoin retries while storage is down"
    for s in waiting:
        kinds = [f["t"] for f in sinks[s].frames]
        assert kinds[-1] == "GUILD_DELETE", "told at once, and nothing since"

    if outage == "brief":
        flaky.down = False

    def settled(s: str) -> bool:
        frames, op9 = sinks[s].frames, {"op": 9, "d": False, "s": None, "t": None}
        return frames[-1] == op9 if outage == "endless" else frames[-1]["t"] == "GUILD_CREATE"

    for _ in range(500):  # the stalled shard's group never finishes: the others must not wait for it
        await guild_shard.relay_batcher.drain()
        for _, outbox in relays.relays.values():
            for shard in {0, 1, 2} - {stalled}:
                await outbox.drain_to(shard)
        if all(settled(s) for s in waiting):
            break
        await asyncio.sleep(0.02)
    for s in waiting:
        sink = sinks[s]
        assert settled(s), [f.get("t") for f in sink.frames]
        if outage == "brief":
            assert [f["t"] for f in sink.frames][-2:] == [
                "GUILD_DELETE",
                "GUILD_CREATE",
            ] and sink.closed is None
            assert proc.relays.relay_of[s] != 0
        else:
            assert sink.closed == 4000
    for task in guild_shard._recovering:
        task.cancel()
