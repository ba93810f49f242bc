"""Consistent hashing of entity ids onto shard names (immutable rings built at startup)."""

from rayguild.ring.hashring import RingSnapshot, ShardName, shard_name

__all__ = ["RingSnapshot", "ShardName", "shard_name"]
