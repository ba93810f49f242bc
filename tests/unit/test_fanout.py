"""Fan-out decisions: partitioning, permissions, intents, passive pruning, batching order."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rayguild.actors import commands as c
from rayguild.actors.guild_process import GuildProcess
from rayguild.config import load_config
from rayguild.fanout.batcher import TickBatcher
from rayguild.fanout.events import GUILD_MESSAGES, GUILD_PRESENCES, Dispatch
from rayguild.fanout.partition import group_by_shard
from rayguild.fanout.permissions import (
    ADMINISTRATOR,
    DEFAULT_EVERYONE,
    VIEW_CHANNEL,
    PermissionOverwrite,
    base_permissions,
    channel_permissions,
)
from rayguild.ids import SessionId
from rayguild.storage.models import Channel, Guild, Overwrite, Role

GUILD = 100
SECRET_ROLE = 200


def test_group_by_shard_keeps_order_within_a_shard() -> None:
    shards = np.array([1, 0, 1, 2, 0, 1], dtype=np.int16)
    slots = np.array([10, 20, 11, 30, 21, 12], dtype=np.int32)
    groups = group_by_shard(shards, slots, np.array([True, True, True, True, False, True]))
    assert {k: v.tolist() for k, v in groups.items()} == {0: [20], 1: [10, 11, 12], 2: [30]}
    assert group_by_shard(shards, slots, np.zeros(6, dtype=bool)) == {}


def test_permissions_follow_discords_order() -> None:
    roles = {GUILD: DEFAULT_EVERYONE, SECRET_ROLE: 0, 300: ADMINISTRATOR}
    base = base_permissions(GUILD, 1, 2, roles, [])
    deny_everyone = [PermissionOverwrite(GUILD, 0, 0, VIEW_CHANNEL)]
    allow_role = [*deny_everyone, PermissionOverwrite(SECRET_ROLE, 0, VIEW_CHANNEL, 0)]
    assert not channel_permissions(base, GUILD, 2, [], deny_everyone) & VIEW_CHANNEL
    assert channel_permissions(base, GUILD, 2, [SECRET_ROLE], allow_role) & VIEW_CHANNEL
    member_deny = [*allow_role, PermissionOverwrite(2, 1, 0, VIEW_CHANNEL)]
    assert not channel_permissions(base, GUILD, 2, [SECRET_ROLE], member_deny) & VIEW_CHANNEL
    admin = base_permissions(GUILD, 1, 2, roles, [300])
    assert channel_permissions(admin, GUILD, 2, [], member_deny) & VIEW_CHANNEL
    assert base_permissions(GUILD, 2, 2, roles, []) & ADMINISTRATOR  # the owner


def make_guild(members: int, **config: object) -> GuildProcess:
    secret = Channel(
        6,
        GUILD,
        "secret",
        permission_overwrites=(
            Overwrite(GUILD, 0, 0, VIEW_CHANNEL),
            Overwrite(SECRET_ROLE, 0, VIEW_CHANNEL, 0),
        ),
    )
    proc = GuildProcess(
        Guild(GUILD, "g", owner_id=1),
        [Channel(5, GUILD, "general"), secret],
        [Role(GUILD, GUILD, "@everyone", DEFAULT_EVERYONE), Role(SECRET_ROLE, GUILD, "secret", 0)],
        load_config(environ={}, **config),
    )
    proc.members.load_page(list(range(1, members + 1)), [() for _ in range(members)])
    return proc


def join(
    proc: GuildProcess, user: int, shard: int, slot: int, intents: int = GUILD_MESSAGES, bot: bool = False
) -> None:
    proc.join(c.SessionJoin(GUILD, SessionId(f"s{user}-{slot}"), shard, slot, user, intents, bot))


def message_to(proc: GuildProcess, channel: int) -> dict[int, list[int]]:
    dispatch = proc.publish(
        c.Publish(GUILD, "MESSAGE_CREATE", {"id": "1", "content": "x"}, channel, GUILD_MESSAGES)
    )
    return {shard: slots.tolist() for shard, slots in proc.recipients(dispatch).items()}


def test_a_member_who_cannot_view_a_channel_never_gets_its_messages() -> None:
    proc = make_guild(10)
    join(proc, 2, 0, 0)
    join(proc, 3, 1, 0)
    proc.apply(c.MemberUpdated(3, (SECRET_ROLE,)))
    assert message_to(proc, 5) == {0: [0], 1: [0]}
    assert message_to(proc, 6) == {1: [0]}
    proc.apply(c.MemberUpdated(3, ()))  # role taken away: the cached view is recomputed
    assert message_to(proc, 6) == {}
    join(proc, 1, 0, 7)  # the owner sees everything
    assert message_to(proc, 6) == {0: [7]}


def test_intents_gate_events() -> None:
    proc = make_guild(5)
    join(proc, 2, 0, 0, intents=GUILD_MESSAGES)
    join(proc, 3, 0, 1, intents=GUILD_PRESENCES)
    presence = proc.publish(c.Publish(GUILD, "PRESENCE_UPDATE", {}, intent=GUILD_PRESENCES))
    assert {k: v.tolist() for k, v in proc.recipients(presence).items()} == {0: [1]}


def test_passive_sessions_get_summaries_not_messages_until_they_subscribe() -> None:
    proc = make_guild(50, passive_guild_members=10)
    join(proc, 2, 0, 0)
    join(proc, 3, 0, 1, bot=True)  # bots are always active
    assert message_to(proc, 5) == {0: [1]}
    assert {k: v.tolist() for k, v in proc.sessions.passive_rows().items()} == {0: [0]}
    proc.sessions.set_active(SessionId("s2-0"), True)
    assert message_to(proc, 5) == {0: [0, 1]}
    assert proc.sessions.demote_idle(idle_s=0.0, now=float("inf")) == 1  # the user, not the bot
    assert message_to(proc, 5) == {0: [1]}
    summary = proc.passive_update()
    assert summary.t == "PASSIVE_UPDATE_V1" and b'"last_message_id":"1"' in summary.body


def test_member_leaving_drops_their_sessions() -> None:
    proc = make_guild(5)
    join(proc, 2, 0, 0)
    join(proc, 3, 0, 1)
    proc.apply(c.MemberLeft(2))
    assert message_to(proc, 5) == {0: [1]}


async def test_batcher_coalesces_per_destination_in_order() -> None:
    sent: list[tuple[int, list[int]]] = []

    async def send(dest: int, batch: list[int]) -> None:
        sent.append((dest, batch))

    batcher: TickBatcher[int] = TickBatcher(send, 0.001, 3, 10, lambda d, b: None)
    for i in range(7):
        batcher.add(i % 2, i)
    await batcher.drain()
    assert [b for d, b in sent if d == 0] == [[0, 2, 4], [6]]
    assert [b for d, b in sent if d == 1] == [[1, 3, 5]]
    assert batcher.calls == 3


async def test_batcher_refuses_beyond_its_bound_and_reports_failures() -> None:
    gate = asyncio.Event()
    refused: list[tuple[int, list[int]]] = []

    async def slow(dest: int, batch: list[int]) -> None:
        await gate.wait()

    batcher: TickBatcher[int] = TickBatcher(slow, 0.001, 1, 2, lambda d, b: refused.append((d, b)))
    for i in range(5):
        batcher.add(0, i)
    assert batcher.in_flight(0) == 2 and refused == [(0, [2]), (0, [3]), (0, [4])]
    gate.set()
    await batcher.drain()

    async def broken(dest: int, batch: list[int]) -> None:
        raise RuntimeError("shard died")

    failed: list[int] = []
    batcher2: TickBatcher[int] = TickBatcher(broken, 0.001, 1, 2, lambda d, b: failed.extend(b))
    batcher2.add(3, 9)
    await batcher2.drain()
    assert failed == [9] and batcher2.failures == 1


async def test_drain_to_waits_for_one_destination_only() -> None:
    """A destination that never answers (restarting) does not hold up a drain of another one."""
    stuck, done = asyncio.Event(), []

    async def send(dest: int, batch: list[int]) -> None:
        if dest == 1:
            await stuck.wait()
        done.append(dest)

    batcher: TickBatcher[int] = TickBatcher(send, 60.0, 10, 10, lambda d, b: None)
    batcher.add(1, 1)
    batcher.flush()
    batcher.add(0, 0)  # pending until the tick (a minute): drain_to flushes it
    await asyncio.wait_for(batcher.drain_to(0), 5)
    assert done == [0] and batcher.in_flight(1) == 1
    stuck.set()
    await batcher.drain()
    assert done == [0, 1] and batcher.idle()


def test_dispatch_body_encoded_once_and_shared() -> None:
    d = Dispatch.of(1, "MESSAGE_CREATE", {"id": "1", "content": "x"})
    assert d.body_for(True) is d.body
    assert d.body_for(False) != d.body


@pytest.mark.parametrize("members", [1, 1000])
def test_columnar_member_lookup(members: int) -> None:
    proc = make_guild(members)
    assert proc.members.find(members) == members - 1
    assert proc.members.find(members + 5) is None
    row = proc.members.add(10**12)
    assert proc.members.find(10**12) == row
