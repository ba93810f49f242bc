"""The user path: events addressed to users reach each of their sessions, in order, through the outbox."""

from __future__ import annotations

from typing import Any

import pytest

from rayguild.actors.commands import Publish, SessionJoin
from rayguild.actors.presence import PresenceShard, SessionPresence
from rayguild.actors.session import Session
from rayguild.actors.users import UserPath
from rayguild.fanout.events import DIRECT_MESSAGES, GUILD_MESSAGES

from .conftest import ListSink, Node

pytestmark = pytest.mark.asyncio

ALICE, BOB = 7, 8


class Guilds:
    """Records the guild connections the user shard makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    async def connect(self, guild_id: int, join: SessionJoin) -> bool:
        self.calls.append(("connect", guild_id, join.session_id))
        return True

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        self.calls.append(("disconnect", guild_id, session_id))


class Cluster:
    """Two session shards and one user (presence) shard whose outbox sends to them."""

    def __init__(self) -> None:
        self.node = Node(2)
        self.cores = self.node.cores
        self.sinks: dict[str, ListSink] = {}
        self.guilds = Guilds()
        self.outbox = self.node.outbox("presence-0")
        self.shard = PresenceShard(0, self._publish, users=UserPath(self.outbox, self.guilds))

    async def _publish(self, cmd: Publish) -> int:
        return 0

    async def open(self, shard: int, user_id: int, intents: int = 0, guilds: tuple[int, ...] = ()) -> Session:
        sink = ListSink()
        session = self.cores[shard].open_session(user_id, intents, False, sink)
        session.guild_ids.update(guilds)
        self.sinks[session.session_id] = sink
        await self.shard.update(
            SessionPresence(
                user_id, session.session_id, guilds, shard=shard, slot=session.slot, intents=intents
            )
        )
        return session

    def seen(self, session: Session) -> list[tuple[str, Any]]:
        return [(f["t"], f["d"]) for f in self.sinks[session.session_id].frames]


async def test_a_users_events_arrive_in_the_order_deliver_was_called() -> None:
    c = Cluster()
    session = await c.open(0, ALICE)
    for n in range(5):
        await c.shard.deliver([ALICE], "DM", {"n": n})
    await c.outbox.drain()
    assert c.seen(session) == [("DM", {"n": n}) for n in range(5)]
    assert [f["s"] for f in c.sinks[session.session_id].frames] == [1, 2, 3, 4, 5]


async def test_sessions_whose_intents_lack_the_gate_are_skipped() -> None:
    c = Cluster()
    with_dms = await c.open(0, ALICE, intents=DIRECT_MESSAGES)
    without = await c.open(1, ALICE, intents=GUILD_MESSAGES)
    assert await c.shard.deliver([ALICE], "MESSAGE_CREATE", {"content": "psst"}, DIRECT_MESSAGES) == 1
    await c.shard.deliver([ALICE], "USER_UPDATE", {"id": str(ALICE)})  # 0: no gate
    await c.outbox.drain()
    assert c.seen(with_dms) == [("MESSAGE_CREATE", {"content": "psst"}), ("USER_UPDATE", {"id": "7"})]
    assert c.seen(without) == [("USER_UPDATE", {"id": "7"})]


async def test_a_user_with_sessions_on_two_shards_gets_one_call_per_shard_per_tick() -> None:
    c = Cluster()
    first, second, other = await c.open(0, ALICE), await c.open(1, ALICE), await c.open(1, BOB)
    for n in range(3):
        await c.shard.deliver([ALICE, BOB], "EVENT", {"n": n})
    await c.outbox.drain()
    expected = [("EVENT", {"n": n}) for n in range(3)]
    assert c.seen(first) == c.seen(second) == c.seen(other) == expected
    assert c.outbox.batcher.calls == 2  # three events, three sessions, two shards: one batch each


async def test_an_unknown_user_is_a_no_op() -> None:
    c = Cluster()
    session = await c.open(0, ALICE)
    assert await c.shard.deliver([999], "EVENT", {}) == 0
    await c.outbox.drain()
    assert c.seen(session) == [] and c.outbox.batcher.calls == 0
    assert await c.shard.membership(999, 5, joined=True) == 0 and c.guilds.calls == []


async def test_join_connects_each_session_and_leave_sends_guild_delete_after_disconnecting() -> None:
    c = Cluster()
    here, there = await c.open(0, ALICE), await c.open(1, ALICE, guilds=(5,))
    assert await c.shard.membership(ALICE, 5, joined=True) == 1  # `there` is in guild 5 already
    await c.outbox.drain()
    assert c.guilds.calls == [("connect", 5, here.session_id)]
    assert here.guild_ids == {5} and c.seen(here) == []  # GUILD_CREATE is the guild's to send
    assert await c.shard.membership(ALICE, 5, joined=False) == 2
    await c.outbox.drain()
    assert sorted(c.guilds.calls[1:]) == sorted(
        [("disconnect", 5, here.session_id), ("disconnect", 5, there.session_id)]
    )
    assert c.seen(here) == c.seen(there) == [("GUILD_DELETE", {"id": "5"})]
    assert here.guild_ids == there.guild_ids == set()


async def test_a_lost_session_shard_gets_no_more_user_events() -> None:
    c = Cluster()
    gone, kept = await c.open(0, ALICE), await c.open(1, ALICE)
    assert await c.shard.session_shard_lost(0) == 1
    assert await c.shard.deliver([ALICE], "EVENT", {}) == 1
    await c.outbox.drain()
    assert c.seen(gone) == [] and c.seen(kept) == [("EVENT", {})]
