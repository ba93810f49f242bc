"""Manifold's partitioning step, pure and columnar: group an event's recipients by session shard.

Given, for each candidate session, its shard index and its slot on that shard, and a mask of
who should receive the event, return one slot array per shard. The caller then makes ONE call
per shard, never one per recipient. Within a shard the slots keep their input order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Slots = npt.NDArray[np.int32]


def group_by_shard(
    shard_index: npt.NDArray[np.int16],
    slots: Slots,
    mask: npt.NDArray[np.bool_] | None = None,
) -> dict[int, Slots]:
    """Recipients' slots keyed by shard index; a shard with no recipient is absent."""
    if mask is not None:
        shard_index, slots = shard_index[mask], slots[mask]
    if shard_index.size == 0:
        return {}
    order = np.argsort(shard_index, kind="stable")
    sorted_shards = shard_index[order]
    cut = np.flatnonzero(np.diff(sorted_shards)) + 1
    starts = np.concatenate(([0], cut))
    groups = np.split(slots[order], cut)
    return {int(sorted_shards[start]): group for start, group in zip(starts, groups, strict=True)}
