"""Consistent hashing of entity ids onto shard names, published as immutable generations."""

from rayguild.ring.hashring import HashRingOwner, RingSnapshot, ShardName, shard_name

__all__ = ["HashRingOwner", "RingSnapshot", "ShardName", "shard_name"]
