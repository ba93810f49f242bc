"""A session shard's presence side: each session's reported presence, the op 3 rate limit, and the
bound on presence updates a lagging session may have pending.

The bound lives where the frames wait: a session whose socket has ``backlog_frames`` or more frames
not yet sent gets no more PRESENCE_UPDATE. Those updates are dropped before they take a seq (so
the session's seq stays gapless and its replay buffer holds no presence backlog) and the session
is marked stale; once its socket has drained, the edge sends it ONE PRESENCES_REPLACE with the
presences it may currently see (``rayguild.http_api.presence_sync``), then live updates resume.
While that reply is being fetched, updates for the session are held (at most ``backlog_frames``;
beyond, it turns stale again) and written after the PRESENCES_REPLACE, so none is lost to the
race. Synthetic (benchmark) sessions are never watched and cost nothing here.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

import numpy as np

from rayguild.actors.presence import SessionPresence
from rayguild.fanout.events import Dispatch
from rayguild.fanout.partition import Slots
from rayguild.ids import SessionId

PRESENCE_UPDATE = "PRESENCE_UPDATE"
RATE_WINDOW_S = 60.0


@runtime_checkable
class Backlogged(Protocol):
    def backlog(self) -> int:
        """Frames written to the sink and not yet sent."""
        ...


class SessionPresences:
    def __init__(self, backlog_frames: int = 64, updates_per_minute: int = 5) -> None:
        self.backlog_frames = backlog_frames
        self.updates_per_minute = updates_per_minute
        self.records: dict[str, SessionPresence] = {}  # session id -> its presence, as last reported
        self._watched: dict[int, Backlogged] = {}  # slot -> sink of a live session with GUILD_PRESENCES
        self._watched_slots: Slots | None = None
        self.stale: set[int] = set()  # slots owed a PRESENCES_REPLACE
        self.holding: dict[int, list[Dispatch]] = {}  # slots whose PRESENCES_REPLACE is being fetched
        self._recent: dict[str, deque[float]] = {}
        self.dropped = 0
        self.replaced = 0

    # -- sessions ---------------------------------------------------------------------------
    def watch(self, slot: int, sink: Backlogged) -> None:
        self._watched[slot] = sink
        self._watched_slots = None

    def unwatch(self, slot: int) -> None:
        if self._watched.pop(slot, None) is not None:
            self._watched_slots = None
        self.stale.discard(slot)
        self.holding.pop(slot, None)

    def forget(self, session_id: str) -> None:
        self.records.pop(session_id, None)
        self._recent.pop(session_id, None)

    def allow_update(self, session_id: str, now: float | None = None) -> bool:
        """Count one op 3; False once the session sent more than ``updates_per_minute`` in 60 s."""
        now = time.monotonic() if now is None else now
        recent = self._recent.setdefault(session_id, deque())
        while recent and now - recent[0] >= RATE_WINDOW_S:
            recent.popleft()
        recent.append(now)
        return len(recent) <= self.updates_per_minute

    # -- the delivery path --------------------------------------------------------------------
    def admit(self, dispatch: Dispatch, slots: Slots) -> Slots:
        """The slots that get this PRESENCE_UPDATE now; the rest are dropped or held (see above)."""
        if not self._watched:
            return slots
        if self._watched_slots is None:
            self._watched_slots = np.fromiter(self._watched, dtype=np.int32, count=len(self._watched))
        hit = np.isin(slots, self._watched_slots)
        if not hit.any():
            return slots
        keep = np.ones(slots.size, dtype=bool)
        for i in np.flatnonzero(hit).tolist():
            slot = int(slots[i])
            held = self.holding.get(slot)
            if held is not None:
                keep[i] = False
                if len(held) < self.backlog_frames:
                    held.append(dispatch)
                else:
                    del self.holding[slot]
                    self.stale.add(slot)
                    self.dropped += len(held) + 1
            elif slot in self.stale or self._watched[slot].backlog() >= self.backlog_frames:
                keep[i] = False
                self.stale.add(slot)
                self.dropped += 1
        return slots if keep.all() else slots[keep]

    def mark_all_stale(self) -> int:
        """Every watched session is owed a PRESENCES_REPLACE (a presence shard restarted)."""
        self.stale.update(self._watched)
        return len(self._watched)

    def owe_replace(self, slot: int) -> None:
        """A session that just turned active in a guild (op 14 / op 37) is owed the presences it
        has not been sent (GUILD_CREATE carries none): one PRESENCES_REPLACE, held like a resync."""
        if slot in self._watched:
            self.stale.add(slot)

    def due(self) -> list[int]:
        """Stale slots whose socket has drained: they start holding, and get their reply next."""
        ready = [s for s in self.stale if s in self._watched and self._watched[s].backlog() == 0]
        for slot in ready:
            self.stale.discard(slot)
            self.holding[slot] = []
        return ready

    def release(self, slot: int) -> list[Dispatch] | None:
        """End holding after the PRESENCES_REPLACE was written: the updates held meanwhile, or None
        if the slot overflowed (stale again) or left."""
        held = self.holding.pop(slot, None)
        if held is not None:
            self.replaced += 1
        return held

    def abandon(self, slots: list[int]) -> None:
        """The reply could not be fetched: those slots stay owed one."""
        for slot in slots:
            if self.holding.pop(slot, None) is not None:
                self.stale.add(slot)


class _Core(Protocol):
    presence: SessionPresences

    @property
    def sessions(self) -> Mapping[SessionId, object]: ...


def live_records(core: _Core, owns: Callable[[int], bool] = lambda _: True) -> list[SessionPresence]:
    """The presences of the shard's live sessions whose user ``owns`` accepts (what a restarted
    presence shard rebuilds from); records of sessions no longer here are dropped on the way."""
    records = core.presence.records
    for session_id in [sid for sid in records if sid not in core.sessions]:
        core.presence.forget(session_id)
    return [r for r in records.values() if owns(r.user_id)]
