"""A large guild's relays, as the guild sees them: who holds which session, and one stream each.

Invariants: every session of the guild lives in exactly one relay; new sessions go to the least
loaded relay and a new relay is created only when all are full (``relay_size``), so sessions
never move between relays and their order is never at risk; every command for a relay goes
through the guild shard's relay batcher, which keeps per-relay submission order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from rayguild.fanout.batcher import TickBatcher
from rayguild.fanout.permissions import PermissionOverwrite
from rayguild.relay import (
    GuildPermissions,
    RelayCommand,
    RelayItem,
    RelaySessionActive,
    RelaySessionJoin,
    RelaySessionLeave,
    RelaySessionMove,
)
from rayguild.storage.models import Channel, Role

RELAY_INDEX_BITS = 12


class RelayTransport(Protocol):
    def create(self, guild_id: int, index: int, permissions: GuildPermissions, prune_passive: bool) -> None:
        """Start relay ``index`` of the guild (returns at once; creation completes in the background)."""
        ...

    def send(self, guild_id: int, index: int, commands: list[RelayCommand]) -> Awaitable[object]:
        """Submit one ordered batch now."""
        ...

    def lost(self, guild_id: int, index: int) -> None:
        """Relay ``index`` was retired (it died or restarted empty): nothing is sent to it again."""
        ...


def relay_key(guild_id: int, index: int) -> int:
    return (guild_id << RELAY_INDEX_BITS) | index


def split_key(key: int) -> tuple[int, int]:
    return key >> RELAY_INDEX_BITS, key & ((1 << RELAY_INDEX_BITS) - 1)


def guild_permissions(
    guild_id: int, owner_id: int, roles: dict[int, Role], channels: dict[int, Channel]
) -> GuildPermissions:
    return GuildPermissions(
        guild_id,
        owner_id,
        {r.id: r.permissions for r in roles.values()},
        {
            ch.id: tuple(PermissionOverwrite(o.id, o.type, o.allow, o.deny) for o in ch.permission_overwrites)
            for ch in channels.values()
        },
    )


class RelayGroup:
    """The relays of one guild."""

    def __init__(
        self,
        guild_id: int,
        relay_size: int,
        transport: RelayTransport,
        batcher: TickBatcher[RelayCommand],
        permissions: Callable[[], GuildPermissions],
        prune_passive: bool = True,
    ) -> None:
        self.guild_id = guild_id
        self.relay_size = relay_size
        self._transport = transport
        self._batcher = batcher
        self._permissions = permissions
        self.prune_passive = prune_passive
        self.loads: list[int] = []
        self.relay_of: dict[str, int] = {}
        self.retired: set[int] = set()  # relays lost: skipped by every broadcast

    def __len__(self) -> int:
        return len(self.loads)

    def _enqueue(self, index: int, command: RelayCommand) -> None:
        self._batcher.add(relay_key(self.guild_id, index), command)

    def _place(self) -> int:
        if self.loads:
            index = min(range(len(self.loads)), key=self.loads.__getitem__)
            if self.loads[index] < self.relay_size:
                return index
        index = len(self.loads)
        self._transport.create(self.guild_id, index, self._permissions(), self.prune_passive)
        self.loads.append(0)
        # First in the new stream: a relay of that name left by a previous incarnation of this
        # guild shard restarts empty on the new stream, then needs the current permissions.
        self._enqueue(index, self._permissions())
        return index

    def join(self, join: RelaySessionJoin) -> int:
        if join.session_id in self.relay_of:
            self.leave(join.session_id)
        index = self._place()
        self.loads[index] += 1
        self.relay_of[join.session_id] = index
        self._enqueue(index, join)
        return index

    def leave(self, session_id: str) -> bool:
        index = self.relay_of.pop(session_id, None)
        if index is None:
            return False
        self.loads[index] -= 1
        self._enqueue(index, RelaySessionLeave(session_id))
        return True

    def retire(self, index: int) -> list[str]:
        """Relay ``index`` lost its state (died, or restarted empty): it gets nothing more and no new
        session (its stream may hold batches it never applied); its sessions, returned, are no
        longer in any relay until joined again (then into a live or a new relay, on a new stream)."""
        gone = [session_id for session_id, i in self.relay_of.items() if i == index]
        for session_id in gone:
            del self.relay_of[session_id]
        self.loads[index] = self.relay_size  # full: ``_place`` never picks it
        self.retired.add(index)
        return gone

    def move(self, session_id: str, marker: RelayItem, shard: int, slot: int) -> bool:
        """The session moves to (shard, slot): its relay sends ``marker`` to the old slot, then
        repoints it, both in the relay's ordered stream (the session stays in the same relay)."""
        index = self.relay_of.get(session_id)
        if index is None:
            return False
        self._enqueue(index, marker)
        self._enqueue(index, RelaySessionMove(session_id, shard, slot))
        return True

    def set_active(self, session_id: str, active: bool) -> bool:
        index = self.relay_of.get(session_id)
        if index is None:
            return False
        self._enqueue(index, RelaySessionActive(session_id, active))
        return True

    def to_one(self, session_id: str, item: RelayItem) -> None:
        index = self.relay_of.get(session_id)
        if index is not None:
            self._enqueue(index, item)

    def broadcast(self, command: RelayCommand) -> None:
        """One command to every relay: O(relays) per event, never O(sessions)."""
        for index in range(len(self.loads)):
            if index not in self.retired:
                self._enqueue(index, command)

    def push_permissions(self) -> None:
        self.broadcast(self._permissions())


def make_relay_batcher(
    transport: RelayTransport,
    tick_s: float,
    max_batch_events: int,
    max_in_flight: int,
    on_lag: Callable[[int, list[RelayCommand]], None],
) -> TickBatcher[RelayCommand]:
    def send(key: int, commands: list[RelayCommand]) -> Awaitable[object]:
        guild_id, index = split_key(key)
        return transport.send(guild_id, index, commands)

    return TickBatcher(send, tick_s, max_batch_events, max_in_flight, on_lag)
