"""Who may VIEW_CHANNEL, per member row, computed once per channel and cached until a change.

The one cache the guild process and each relay keep (a relay holds a slice of the guild's
members and the same permission data). A column is valid while no member, role or channel
changed (the owner ``clear``s it then) and covers every member row (a join adds rows: a shorter
column is recomputed). ``epoch`` counts the clears, so a scan started before one is not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from rayguild.fanout.members import MemberTable
from rayguild.fanout.permissions import PermissionOverwrite, can_view_columnar

Column = npt.NDArray[np.bool_]


def scan(
    members: MemberTable,
    guild_id: int,
    owner_id: int,
    role_permissions: Mapping[int, int],
    overwrites: Sequence[PermissionOverwrite],
) -> Column:
    """VIEW_CHANNEL of every present member row (removed members: False)."""
    n = members.size
    column: Column = (
        can_view_columnar(
            members.role_bits[:n],
            members.user_ids[:n],
            members.role_order,
            guild_id,
            owner_id,
            role_permissions,
            overwrites,
        )
        & members.present()
    )
    return column


class ViewCache:
    def __init__(self) -> None:
        self._columns: dict[int, Column] = {}
        self.epoch = 0

    def get(self, channel_id: int, members: MemberTable) -> Column | None:
        column = self._columns.get(channel_id)
        return column if column is not None and column.size >= members.size else None

    def put(self, channel_id: int, column: Column, epoch: int | None = None) -> None:
        """Keep ``column`` unless the cache was cleared since ``epoch`` (the scan's start)."""
        if epoch is None or epoch == self.epoch:
            self._columns[channel_id] = column

    def clear(self) -> None:
        self._columns.clear()
        self.epoch += 1
