"""A guild's members held columnar: about 17 bytes each instead of a Python object each.

Columns: user id (int64), role bitset (uint64, bit i = the guild's i-th role), flags (uint8).
Members arrive page by page in ascending user id (storage's order), so the loaded prefix is
sorted and found by binary search; later joins are appended and indexed by a small dict.
A guild has at most 64 roles here (Discord allows 250): ``RoleLimit`` says so instead of
silently mis-computing permissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

MAX_ROLES = 64
ONLINE = np.uint8(1)
REMOVED = np.uint8(2)


class RoleLimit(ValueError):
    """The guild already has MAX_ROLES roles besides @everyone."""


class MemberTable:
    def __init__(self, capacity: int = 1024) -> None:
        self.user_ids = np.zeros(capacity, dtype=np.int64)
        self.role_bits = np.zeros(capacity, dtype=np.uint64)
        self.flags = np.zeros(capacity, dtype=np.uint8)
        self.size = 0
        self._sorted_upto = 0  # rows [0, _sorted_upto) are sorted by user id
        self._tail: dict[int, int] = {}
        self.role_order: list[int] = []  # role id of each bit
        self.removed = 0

    @property
    def count(self) -> int:
        return self.size - self.removed

    def role_bit(self, role_id: int) -> int:
        try:
            return self.role_order.index(role_id)
        except ValueError:
            if len(self.role_order) >= MAX_ROLES:
                raise RoleLimit(f"a guild may have at most {MAX_ROLES} roles here") from None
            self.role_order.append(role_id)
            return len(self.role_order) - 1

    def bits_of(self, role_ids: Iterable[int]) -> int:
        bits = 0
        for role_id in role_ids:
            bits |= 1 << self.role_bit(role_id)
        return bits

    def roles_of_bits(self, bits: int) -> list[int]:
        return [role for bit, role in enumerate(self.role_order) if bits >> bit & 1]

    def _grow(self, needed: int) -> None:
        if needed > self.user_ids.size:
            capacity = max(needed, self.user_ids.size * 2)
            self.user_ids = np.resize(self.user_ids, capacity)
            self.role_bits = np.resize(self.role_bits, capacity)
            self.flags = np.resize(self.flags, capacity)

    def load_page(self, user_ids: Sequence[int], role_ids: Sequence[Sequence[int]]) -> None:
        """Append a page of members in ascending user id (the initial load from storage)."""
        if not user_ids:
            return
        n, start = len(user_ids), self.size
        self._grow(start + n)
        self.user_ids[start : start + n] = user_ids
        self.role_bits[start : start + n] = [self.bits_of(r) for r in role_ids]
        self.flags[start : start + n] = 0
        in_order = self._sorted_upto == start and (start == 0 or self.user_ids[start - 1] < user_ids[0])
        self.size += n
        if in_order:
            self._sorted_upto = self.size
        else:
            self._tail.update({uid: start + i for i, uid in enumerate(user_ids)})

    def find(self, user_id: int) -> int | None:
        """Row of ``user_id``, or None if not a member."""
        row = int(np.searchsorted(self.user_ids[: self._sorted_upto], user_id))
        if row < self._sorted_upto and self.user_ids[row] == user_id:
            return None if self.flags[row] & REMOVED else row
        row = self._tail.get(user_id, -1)
        return row if row >= 0 and not self.flags[row] & REMOVED else None

    def add(self, user_id: int, role_ids: Iterable[int] = ()) -> int:
        row = self.find(user_id)
        if row is not None:
            self.role_bits[row] = self.bits_of(role_ids)
            return row
        self._grow(self.size + 1)
        row = self.size
        self.user_ids[row], self.role_bits[row], self.flags[row] = (
            user_id,
            self.bits_of(role_ids),
            0,
        )
        self._tail[user_id] = row
        self.size += 1
        return row

    def remove(self, user_id: int) -> bool:
        row = self.find(user_id)
        if row is None:
            return False
        self.flags[row] |= REMOVED
        self.role_bits[row] = 0
        self.removed += 1
        return True

    def present(self) -> npt.NDArray[np.bool_]:
        present: npt.NDArray[np.bool_] = (self.flags[: self.size] & REMOVED) == 0
        return present

    def memory_bytes(self) -> int:
        columns = self.user_ids.nbytes + self.role_bits.nbytes + self.flags.nbytes
        return int(columns + 100 * len(self._tail))
