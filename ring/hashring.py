"""A consistent hash ring mapping entity ids to shard NAMES, never to objects.

A ``RingSnapshot`` is immutable and built from the configured shard names once at startup, the
same in every process, so every process maps an id to the same shard without asking anyone.
(The shard set does not change while the node runs; there is no generation to agree on. A
resizable ring would publish new snapshots from one owner, ex_hash_ring's model.)
uhashring (ketama-compatible, 160 virtual nodes per node) does the hashing; the golden
vectors in tests/unit/test_ring.py pin keys to owners so a change of hashing fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NewType

from uhashring import HashRing

ShardName = NewType("ShardName", str)
Key = int | str


def shard_name(kind: str, index: int) -> ShardName:
    """The Ray actor name of shard ``index`` of ``kind`` (``guild-0``, ``session-3``...)."""
    return ShardName(f"{kind}-{index}")


class RingSnapshot:
    """A frozen set of nodes and its lookup table."""

    __slots__ = ("_ring", "nodes")

    def __init__(self, nodes: Iterable[ShardName]) -> None:
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
            raise AttributeError("RingSnapshot is immutable; build a new one")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"RingSnapshot(nodes={sorted(self.nodes)})"
