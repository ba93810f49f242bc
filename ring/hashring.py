"""A consistent hash ring mapping entity ids to shard NAMES, never to objects.

One writer (``HashRingOwner``) makes every change and publishes it as a new immutable
``RingSnapshot`` with a higher generation; readers hold a snapshot and look up without a
lock, so a lookup never blocks and stays stable while ownership moves (ex_hash_ring's model).
uhashring (ketama-compatible, 160 virtual nodes per node) does the hashing; the golden
vectors in tests/unit/test_ring.py pin keys to owners so a change of hashing fails loudly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import NewType

from uhashring import HashRing

ShardName = NewType("ShardName", str)
Key = int | str


def shard_name(kind: str, index: int) -> ShardName:
    """The Ray actor name of shard ``index`` of ``kind`` (``guild-0``, ``session-3``...)."""
    return ShardName(f"{kind}-{index}")


class RingSnapshot:
    """One generation of the ring: a frozen set of nodes and its lookup table."""

    __slots__ = ("_ring", "generation", "nodes")

    def __init__(self, generation: int, nodes: Iterable[ShardName]) -> None:
        self.generation = generation
        self.nodes: frozenset[ShardName] = frozenset(nodes)
        # uhashring hashes the node names themselves: placement depends on names only,
        # never on insertion order, so two processes building the same nodes agree.
        self._ring = HashRing(nodes=sorted(self.nodes), hash_fn="ketama")

    def owner(self, key: Key) -> ShardName:
        """The shard that owns ``key``; raises LookupError on an empty ring."""
        if not self.nodes:
            raise LookupError("the ring has no nodes")
        node: str = self._ring.get_node(str(key))
        return ShardName(node)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_ring"):
            raise AttributeError("RingSnapshot is immutable; ask the HashRingOwner for a new one")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"RingSnapshot(generation={self.generation}, nodes={sorted(self.nodes)})"


class HashRingOwner:
    """The single writer of a ring: adds and removes nodes, publishing new snapshots."""

    def __init__(self, nodes: Iterable[ShardName] = ()) -> None:
        self._lock = threading.Lock()
        self._snapshot = RingSnapshot(1, nodes)

    @property
    def snapshot(self) -> RingSnapshot:
        """The current generation; reading it never blocks."""
        return self._snapshot

    def add(self, node: ShardName) -> RingSnapshot:
        with self._lock:
            if node not in self._snapshot.nodes:
                self._publish(self._snapshot.nodes | {node})
            return self._snapshot

    def remove(self, node: ShardName) -> RingSnapshot:
        with self._lock:
            if node in self._snapshot.nodes:
                self._publish(self._snapshot.nodes - {node})
            return self._snapshot

    def _publish(self, nodes: frozenset[ShardName]) -> None:
        self._snapshot = RingSnapshot(self._snapshot.generation + 1, nodes)
