"""The sessions connected to one guild (or to one of its relays), columnar, and who hears an event.

A row per connected session: its session shard, its slot there, its member row, its intents and
flags (active, bot). ``recipients`` turns one dispatch into one slot array per session shard,
applying the intent, passive-session and VIEW_CHANNEL filters with array operations: no Python
work per member on the hot path.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from rayguild.fanout.events import Dispatch
from rayguild.fanout.partition import Slots, group_by_shard

ACTIVE = np.uint8(1)
BOT = np.uint8(2)
LIVE = np.uint8(4)


class SessionTable:
    def __init__(self, capacity: int = 256) -> None:
        self.shard = np.zeros(capacity, dtype=np.int16)
        self.slot = np.zeros(capacity, dtype=np.int32)
        self.member = np.zeros(capacity, dtype=np.int32)
        self.intents = np.zeros(capacity, dtype=np.int32)
        self.flags = np.zeros(capacity, dtype=np.uint8)
        self.last_active = np.zeros(capacity, dtype=np.float64)
        self.rows: dict[str, int] = {}
        self._free: list[int] = []
        self.size = 0
        self.version = 0  # bumped by every change; the recipient cache is valid for one version
        self._cache: dict[
            tuple[int, int, bool, int | None], tuple[npt.NDArray[np.bool_] | None, dict[int, Slots]]
        ] = {}
        self._cache_version = -1

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self.rows

    def _grow(self, needed: int) -> None:
        if needed > self.shard.size:
            capacity = max(needed, self.shard.size * 2)
            for name in ("shard", "slot", "member", "intents", "flags", "last_active"):
                setattr(self, name, np.resize(getattr(self, name), capacity))

    def add(
        self,
        session_id: str,
        shard: int,
        slot: int,
        member: int,
        intents: int,
        bot: bool,
        active: bool,
    ) -> int:
        self.version += 1
        row = self.rows.get(session_id)
        if row is None:
            if self._free:
                row = self._free.pop()
            else:
                self._grow(self.size + 1)
                row, self.size = self.size, self.size + 1
            self.rows[session_id] = row
        self.shard[row], self.slot[row], self.member[row], self.intents[row] = (
            shard,
            slot,
            member,
            intents,
        )
        self.flags[row] = LIVE | (BOT if bot else 0) | (ACTIVE if active or bot else 0)
        self.last_active[row] = time.monotonic()
        return row

    def remove(self, session_id: str) -> bool:
        row = self.rows.pop(session_id, None)
        if row is None:
            return False
        self.version += 1
        self.flags[row] = 0
        self._free.append(row)
        return True

    def move(self, session_id: str, shard: int, slot: int) -> tuple[int, int] | None:
        """Point a session's row at a new (shard, slot); its old location, or None if unknown."""
        row = self.rows.get(session_id)
        if row is None:
            return None
        self.version += 1
        old = int(self.shard[row]), int(self.slot[row])
        self.shard[row], self.slot[row] = shard, slot
        return old

    def set_active(self, session_id: str, active: bool) -> bool:
        row = self.rows.get(session_id)
        if row is None or self.flags[row] & BOT:
            return False
        self.version += 1
        self.flags[row] = (self.flags[row] | ACTIVE) if active else (self.flags[row] & ~ACTIVE)
        self.last_active[row] = time.monotonic()
        return True

    def demote_idle(self, idle_s: float, now: float | None = None) -> int:
        """Active non-bot sessions quiet for longer than ``idle_s`` turn passive; returns how many."""
        now = time.monotonic() if now is None else now
        n = self.size
        idle = ((self.flags[:n] & (ACTIVE | BOT)) == ACTIVE) & (now - self.last_active[:n] > idle_s)
        demoted = int(idle.sum())
        if demoted:
            self.flags[:n][idle] &= ~ACTIVE
            self.version += 1
        return demoted

    def counts(self) -> tuple[int, int]:
        """(active, passive) live sessions."""
        live = (self.flags[: self.size] & LIVE) != 0
        active = int(((self.flags[: self.size] & ACTIVE) != 0).sum())
        return active, int(live.sum()) - active

    def passive_rows(self) -> dict[int, Slots]:
        n = self.size
        mask = (self.flags[:n] & (LIVE | ACTIVE)) == LIVE
        return group_by_shard(self.shard[:n], self.slot[:n], mask)

    def recipients(
        self,
        dispatch: Dispatch,
        can_view: npt.NDArray[np.bool_] | None,
        prune_passive: bool = True,
        only_member: int | None = None,
    ) -> dict[int, Slots]:
        """Slots per session shard of the sessions that must receive ``dispatch``.

        Cached per (intent, channel) until the table or the ``can_view`` array changes, so a burst
        of messages in one channel costs one scan; the returned arrays must not be modified.
        """
        if self._cache_version != self.version:
            self._cache.clear()
            self._cache_version = self.version
        key = (dispatch.intent, dispatch.channel_id, prune_passive, only_member)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is can_view:
            return hit[1]
        groups = self._scan(dispatch, can_view, prune_passive, only_member)
        self._cache[key] = (can_view, groups)
        return groups

    def _scan(
        self,
        dispatch: Dispatch,
        can_view: npt.NDArray[np.bool_] | None,
        prune_passive: bool,
        only_member: int | None,
    ) -> dict[int, Slots]:
        n = self.size
        flags = self.flags[:n]
        mask = (flags & (ACTIVE | LIVE)) == (ACTIVE | LIVE) if prune_passive else (flags & LIVE) != 0
        if dispatch.intent:
            mask &= (self.intents[:n] & dispatch.intent) != 0
        if can_view is not None:
            mask &= can_view[self.member[:n]]
        if only_member is not None:
            mask &= self.member[:n] == only_member
        return group_by_shard(self.shard[:n], self.slot[:n], mask)

    def memory_bytes(self) -> int:
        columns = sum(
            getattr(self, c).nbytes for c in ("shard", "slot", "member", "intents", "flags", "last_active")
        )
        return int(columns + 110 * len(self.rows))
