"""GuildShard end to end in one process: order under concurrent senders, and the lag policy."""

from __future__ import annotations

import asyncio
import random

from rayguild.actors import commands as c
from rayguild.actors.guild import GuildShard
from rayguild.actors.session import SessionShardCore
from rayguild.config import load_config
from rayguild.fanout.events import GUILD_MESSAGES, MESSAGE_CONTENT
from rayguild.storage import SqliteStorage

from .conftest import GENERAL, GUILD, ListSink, Node


async def connect(shard: GuildShard, core: SessionShardCore, user: int, sink: ListSink) -> None:
    session = core.open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, sink)
    join = c.SessionJoin(GUILD, session.session_id, core.index, session.slot, user, session.intents, False)
    assert await shard.connect(join)


def message_ids(sink: ListSink) -> list[int]:
    return [int(f["d"]["id"]) for f in sink.frames if f["t"] == "MESSAGE_CREATE"]


async def test_every_session_sees_the_guilds_order_under_concurrent_senders(storage: SqliteStorage) -> None:
    rng = random.Random(5)
    # Worse than Ray: every command to a session shard takes its own random time on the way, so
    # batches overtake each other; the outbox's numbering and the shard's inbox restore the order.
    config = load_config(environ={}, tick_ms=0.5, max_batch_events=3)
    node = Node(3, config, delay=lambda: rng.random() / 1000)
    guild_shard = GuildShard(0, config, storage, node.outbox())
    sinks = {user: ListSink() for user in range(1, 13)}
    for user, sink in sinks.items():
        await connect(guild_shard, node.cores[user % 3], user, sink)

    counter = iter(range(1, 10_000))
    emitted: list[int] = []

    async def sender(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(rng.random() / 2000)
            i = next(counter)
            emitted.append(i)  # the guild emits in call order: publish does not yield first
            d = {"id": str(i), "content": "x", "channel_id": str(GENERAL)}
            await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))

    await asyncio.gather(*(sender(25) for _ in range(6)))
    await guild_shard.batcher.drain()
    assert len(emitted) == 150
    assert sum(s.inbox.late for s in node.shards) == 0
    for user, sink in sinks.items():
        assert message_ids(sink) == emitted, f"user {user} saw another order"
        assert [f["s"] for f in sink.frames] == list(range(1, len(sink.frames) + 1))


async def test_a_stalled_shard_makes_its_sessions_reidentify_and_spares_the_others(
    storage: SqliteStorage,
) -> None:
    config = load_config(environ={}, tick_ms=0.5, max_pending_batches=2)
    node = Node(2, config)
    node.stalled.add(1)  # shard 1 accepts deliveries but never finishes them
    fast, slow = node.cores
    guild_shard = GuildShard(0, config, storage, node.outbox())
    ok, stuck = ListSink(), ListSink()
    await connect(guild_shard, fast, 2, ok)
    await connect(guild_shard, slow, 3, stuck)
    for i in range(10):
        d = {"id": str(i), "content": "x", "channel_id": str(GENERAL)}
        await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))
        await asyncio.sleep(0.003)  # one tick per message: one batch each
    guild_shard.batcher.flush()
    await asyncio.sleep(0.01)

    assert message_ids(ok) == list(range(10))  # the healthy shard is not held back
    assert guild_shard.batcher.in_flight(1) == 2  # bounded: at most max_pending_batches in flight
    assert guild_shard.batcher.overflows > 0
    assert stuck.frames[-1] == {"op": 9, "d": False, "s": None, "t": None}  # told to identify again
    assert stuck.closed == 4000
    assert slow.sessions == {}  # and the session is gone, not silently gapped
