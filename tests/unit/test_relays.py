"""Relays: the guild hands sessions to relays; every active session still gets each event once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import orjson
import pytest

from rayguild.actors import commands as c
from rayguild.actors.guild import GuildShard
from rayguild.actors.handoff import Handoffs
from rayguild.actors.outbox import Outbox
from rayguild.config import load_config
from rayguild.fanout.events import GUILD_MESSAGES, MESSAGE_CONTENT
from rayguild.fanout.permissions import DEFAULT_EVERYONE
from rayguild.relay import GuildPermissions, RelayCommand, RelayCore, RelayItem, RelaySessionJoin
from rayguild.storage import SqliteStorage

from .conftest import GENERAL, GUILD, SECRET, ListSink, Node


class InProcessRelays:
    """An in-memory relay transport: RelayCore objects, each with its own outbox to the same node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.relays: dict[tuple[int, int], tuple[RelayCore, Outbox]] = {}
        self.lost_relays: list[tuple[int, int]] = []  # retired by their guild, in order

    def create(self, guild_id: int, index: int, permissions: GuildPermissions, prune_passive: bool) -> None:
        outbox = self.node.outbox(f"relay-{guild_id}-{index}")
        self.relays[guild_id, index] = (RelayCore(permissions, prune_passive), outbox)

    def send(self, guild_id: int, index: int, commands: list[RelayCommand]) -> Awaitable[object]:
        core, outbox = self.relays[guild_id, index]
        for command in commands:
            for shard, slots in core.apply(command).items():
                assert isinstance(command, RelayItem)
                outbox.add(shard, command.dispatch, slots)
        return asyncio.sleep(0)

    def lost(self, guild_id: int, index: int) -> None:
        self.lost_relays.append((guild_id, index))

    async def drain(self) -> None:
        for _, outbox in self.relays.values():
            await outbox.drain()


async def test_sessions_keep_order_and_exactly_once_across_the_switch_to_relays(
    storage: SqliteStorage,
) -> None:
    config = load_config(environ={}, relay_threshold_sessions=8, relay_size=5, passive_guild_members=10_000)
    node = Node(2, config)
    shards = node.cores
    relays = InProcessRelays(node)
    guild_shard = GuildShard(0, config, storage, node.outbox(), relays)
    sinks: dict[int, ListSink] = {}

    async def connect(user: int) -> None:
        shard = shards[user % 2]
        sink = sinks[user] = ListSink()
        session = shard.open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, sink)
        join = c.SessionJoin(
            GUILD, session.session_id, shard.index, session.slot, user, session.intents, False
        )
        assert await guild_shard.connect(join)

    async def say(i: int, channel: int = GENERAL) -> None:
        d = {"id": str(i), "content": f"m{i}", "channel_id": str(channel)}
        await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, channel, GUILD_MESSAGES))

    for user in range(1, 31):  # the switch to relays happens at 8 sessions; relays fill at 5 each
        await connect(user)
        await say(user)
    await say(1000, SECRET)
    await guild_shard.batcher.drain()
    assert guild_shard.relay_batcher is not None
    await guild_shard.relay_batcher.drain()
    await relays.drain()

    proc = guild_shard.guilds[GUILD]
    assert proc.relays is not None and len(proc.relays) == 6  # 30 sessions / relay_size 5
    assert all(load <= 5 for load in proc.relays.loads)
    for user, sink in sinks.items():
        kinds = [f["t"] for f in sink.frames]
        assert kinds[0] == "GUILD_CREATE"
        ids = [int(f["d"]["id"]) for f in sink.frames[1:] if f["t"] == "MESSAGE_CREATE"]
        expected = list(range(user, 31)) + ([1000] if user % 2 else [])
        assert ids == expected, f"user {user} got {ids}"
        seqs = [f["s"] for f in sink.frames]
        assert seqs == list(range(1, len(seqs) + 1))


def test_relay_core_routes_one_session_and_passive_summaries() -> None:
    perms = GuildPermissions(GUILD, 1, {GUILD: DEFAULT_EVERYONE}, {})
    relay = RelayCore(perms, prune_passive=True)
    for slot in range(10):
        relay.apply(RelaySessionJoin(f"s{slot}", 0, slot, 100 + slot, (), GUILD_MESSAGES, False, slot < 3))
    from rayguild.fanout.events import Dispatch

    event = Dispatch.of(GUILD, "MESSAGE_CREATE", {"id": "1", "content": ""}, GENERAL, GUILD_MESSAGES)
    assert relay.apply(RelayItem(event))[0].tolist() == [0, 1, 2]
    assert relay.apply(RelayItem(event, passive_only=True))[0].tolist() == list(range(3, 10))
    assert relay.apply(RelayItem(event, 1, 7))[1].tolist() == [7]


@pytest.mark.parametrize("threshold", [2, 10_000], ids=["through-relays", "direct"])
async def test_a_moving_session_gets_every_event_once_across_the_move(
    storage: SqliteStorage, threshold: int
) -> None:
    config = load_config(
        environ={}, relay_threshold_sessions=threshold, relay_size=5, passive_guild_members=10_000
    )
    node = Node(2, config)
    shards = node.cores
    relays = InProcessRelays(node)
    guild_shard = GuildShard(0, config, storage, node.outbox(), relays)
    handoffs = Handoffs(shards[0])
    sessions = []
    for user in range(1, 5):
        session = shards[0].open_session(user, GUILD_MESSAGES | MESSAGE_CONTENT, False, ListSink())
        session.guild_ids.add(GUILD)
        sessions.append(session)
        join = c.SessionJoin(GUILD, session.session_id, 0, session.slot, user, session.intents, False)
        assert await guild_shard.connect(join)

    async def say(i: int) -> None:
        d = {"id": str(i), "content": f"m{i}", "channel_id": str(GENERAL)}
        await guild_shard.publish(c.Publish(GUILD, "MESSAGE_CREATE", d, GENERAL, GUILD_MESSAGES))

    mover = sessions[0]
    for i in range(1, 11):
        await say(i)
    held = shards[1].hold(1, mover.intents, False, mover.session_id)
    assert await guild_shard.move(GUILD, mover.session_id, 1, held.slot)
    taking = asyncio.ensure_future(handoffs.take(mover.session_id, 1, 3, [GUILD], [GUILD]))
    for i in range(11, 21):
        await say(i)
    await guild_shard.batcher.drain()
    if guild_shard.relay_batcher is not None:
        await guild_shard.relay_batcher.drain()
    await relays.drain()
    handed = await taking
    assert handed is not None
    frames = shards[1].rebase(held, 3, handed.events)
    assert frames is not None
    decoded = [orjson.loads(f) for f in frames]
    assert [int(f["d"]["id"]) for f in decoded] == list(range(3, 21))  # seq 3 was message 2
    assert [f["s"] for f in decoded] == list(range(4, 22))
    assert (guild_shard.guilds[GUILD].relays is not None) == (threshold == 2)
