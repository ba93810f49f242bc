"""A session shard told that a guild shard restarted: GUILD_DELETE unavailable for that shard's
guilds only, a re-join per guild with the session's own slot and identify settings, nothing for
sessions opened since, and op 9 only when the guild never comes back."""

from __future__ import annotations

import time

from rayguild.actors import commands as c
from rayguild.actors.session_shard import SessionShard
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.ring import RingSnapshot, shard_name
from tests.unit.conftest import ListSink

GUILD_SHARDS = 2


class Guilds:
    """Records the joins it is sent; fails the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.joins: list[c.SessionJoin] = []
        self.failures = failures

    async def connect(self, guild_id: int, join: c.SessionJoin) -> bool:
        if self.failures:
            self.failures -= 1
            raise ShardUnavailable("guild shard restarting")
        self.joins.append(join)
        return True


def shard_with(guilds: Guilds) -> tuple[SessionShard, RingSnapshot]:
    config = Config(guild_shards=GUILD_SHARDS)
    ring = RingSnapshot([shard_name("guild", i) for i in range(GUILD_SHARDS)])
    presence = RingSnapshot([shard_name("presence", 0)])
    shard = SessionShard(3, config, ring, presence, guilds)
    shard.guild_loss.backoff_s = 0.0
    return shard, ring


def guilds_on(ring: RingSnapshot, shard: int, count: int) -> list[int]:
    name = shard_name("guild", shard)
    return [g for g in range(1000, 100_000) if ring.owner(g) == name][:count]


async def test_only_the_lost_shards_guilds_go_unavailable_and_rejoin() -> None:
    guilds = Guilds(failures=1)  # the restarted shard may still refuse the first join
    shard, ring = shard_with(guilds)
    lost, kept = guilds_on(ring, 0, 2), guilds_on(ring, 1, 1)
    sink = ListSink()
    session = shard.core.open_session(7, 513, True, sink)
    session.guild_ids.update([*lost, *kept])
    session.large_threshold = 200
    shard.core.send(session, "READY", {})
    since_ns = time.time_ns()
    later_sink = ListSink()
    later = shard.core.open_session(8, 513, True, later_sink)  # joined the new incarnation itself
    later.guild_ids.update(lost)

    assert await shard.handle(c.GuildShardLost(0, since_ns)) == 1
    await shard.guild_loss.idle()

    assert [(f["op"], f["s"], f["t"]) for f in sink.frames] == [
        (0, 1, "READY"),
        (0, 2, "GUILD_DELETE"),
        (0, 3, "GUILD_DELETE"),
    ]
    assert [f["d"] for f in sink.frames[1:]] == [{"id": str(g), "unavailable": True} for g in sorted(lost)]
    assert sink.closed is None and later_sink.frames == []
    assert sorted(j.guild_id for j in guilds.joins) == sorted(lost)
    for join in guilds.joins:
        assert (join.session_id, join.shard, join.slot, join.user_id) == (
            session.session_id,
            3,
            session.slot,
            7,
        )
        assert (join.intents, join.bot, join.large_threshold) == (513, True, 200)
    assert shard.core.sessions[session.session_id] is session


async def test_a_guild_that_never_comes_back_costs_its_sessions_a_reidentify() -> None:
    guilds = Guilds(failures=1_000_000)
    shard, ring = shard_with(guilds)
    shard.guild_loss.give_up_s = 0.2
    sink = ListSink()
    session = shard.core.open_session(7, 513, True, sink)
    session.guild_ids.update(guilds_on(ring, 1, 1))
    assert await shard.handle(c.GuildShardLost(1, time.time_ns())) == 1
    await shard.guild_loss.idle()
    assert [f["op"] for f in sink.frames] == [0, 9]
    assert sink.closed == 4000 and session.session_id not in shard.core.sessions


async def test_a_failed_call_tells_the_sessions_at_once_and_the_announcement_not_again() -> None:
    guilds = Guilds(failures=1)
    shard, ring = shard_with(guilds)
    sink = ListSink()
    session = shard.core.open_session(7, 513, True, sink)
    session.guild_ids.update(guilds_on(ring, 0, 1))
    since_ns = time.time_ns()
    assert shard.guild_loss.suspect(0) == 1  # an edge's call to guild-0 failed
    assert await shard.handle(c.GuildShardLost(0, since_ns)) == 0  # its join is already under way
    await shard.guild_loss.idle()
    assert [f["t"] for f in sink.frames] == ["GUILD_DELETE"] and len(guilds.joins) == 1
    assert shard.guild_loss.suspect(0) == 1  # a later loss is told again
