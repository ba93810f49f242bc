"""The hash ring: golden placements, minimal movement, immutable snapshots."""

from __future__ import annotations

import pytest

from rayguild.ring import RingSnapshot, shard_name

NODES = [shard_name("guild", i) for i in range(4)]

# Pinned placements: if hashing or the node naming changes, these fail loudly, because a change
# would move live guilds between shards on upgrade.
GOLDEN = {
    1: "guild-3",
    2: "guild-2",
    4: "guild-0",
    9: "guild-1",
    175928847299117063: "guild-2",
    81384788765712384: "guild-3",
    "user:42": "guild-3",
}


def test_golden_vectors() -> None:
    ring = RingSnapshot(NODES)
    assert {key: ring.owner(key) for key in GOLDEN} == GOLDEN


def test_keys_spread_over_every_node() -> None:
    ring = RingSnapshot(NODES)
    counts = {node: 0 for node in NODES}
    for key in range(40_000):
        counts[ring.owner(key)] += 1
    assert min(counts.values()) > 0.15 * 40_000


def test_owner_does_not_depend_on_insertion_order() -> None:
    forward, backward = RingSnapshot(NODES), RingSnapshot(list(reversed(NODES)))
    assert all(forward.owner(k) == backward.owner(k) for k in range(2000))


def test_adding_a_node_moves_about_one_nth_of_keys() -> None:
    before, after = RingSnapshot(NODES), RingSnapshot([*NODES, shard_name("guild", 4)])
    keys = range(20_000)
    moved = [k for k in keys if before.owner(k) != after.owner(k)]
    assert all(after.owner(k) == "guild-4" for k in moved), "keys may only move to the new node"
    assert 0.12 < len(moved) / len(keys) < 0.28  # ideal 1/5


def test_removing_a_node_moves_only_its_keys() -> None:
    before = RingSnapshot(NODES)
    after = RingSnapshot([n for n in NODES if n != "guild-2"])
    for k in range(5000):
        if before.owner(k) != "guild-2":
            assert after.owner(k) == before.owner(k)
        else:
            assert after.owner(k) != "guild-2"


def test_snapshot_is_immutable() -> None:
    snap = RingSnapshot(NODES)
    with pytest.raises(AttributeError):
        snap._ring = None
    with pytest.raises(AttributeError):
        snap.nodes = frozenset()


def test_empty_ring_says_so() -> None:
    with pytest.raises(LookupError):
        RingSnapshot([]).owner(1)
