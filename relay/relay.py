"""A relay's work for one large guild: its own sessions, their permission checks, their grouping.

Discord splits a huge guild's fan-out across relay processes of at most ``relay_size`` sessions
each; the guild sends one message per relay per tick and each relay does the per-recipient work
(intents, passive pruning, VIEW_CHANNEL) for its sessions only. A relay holds just the members
behind its sessions (role bits), plus the guild's roles and channel overwrites, which the guild
pushes to it whenever they change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rayguild.fanout.events import Dispatch
from rayguild.fanout.members import MemberTable
from rayguild.fanout.partition import Slots
from rayguild.fanout.permissions import PermissionOverwrite
from rayguild.fanout.view import ViewCache, scan
from rayguild.relay.sessions import SessionTable


@dataclass(frozen=True, slots=True)
class GuildPermissions:
    """What a relay needs to decide VIEW_CHANNEL: pushed by the guild on every change."""

    guild_id: int
    owner_id: int
    role_permissions: Mapping[int, int]
    overwrites: Mapping[int, Sequence[PermissionOverwrite]]


@dataclass(frozen=True, slots=True)
class RelaySessionJoin:
    session_id: str
    shard: int
    slot: int
    user_id: int
    role_ids: tuple[int, ...]
    intents: int
    bot: bool
    active: bool


@dataclass(frozen=True, slots=True)
class RelayItem:
    """One event for a relay: to all its sessions, to one session (shard, slot), or to passive ones."""

    dispatch: Dispatch
    shard: int = -1
    slot: int = -1
    passive_only: bool = False


@dataclass(frozen=True, slots=True)
class RelaySessionLeave:
    session_id: str


@dataclass(frozen=True, slots=True)
class RelaySessionMove:
    """The session now lives at (shard, slot); its old slot already got the guild's moved marker."""

    session_id: str
    shard: int
    slot: int


@dataclass(frozen=True, slots=True)
class RelaySessionActive:
    session_id: str
    active: bool


@dataclass(frozen=True, slots=True)
class SessionShardLost:
    """Session shard ``shard`` restarted empty: the relay opens a new stream to it."""

    shard: int


# Everything a guild sends a relay travels in ONE ordered stream, so a session's join, its
# GUILD_CREATE and the events after it can never overtake each other.
RelayCommand = (
    RelayItem
    | RelaySessionJoin
    | RelaySessionLeave
    | RelaySessionMove
    | RelaySessionActive
    | GuildPermissions
    | SessionShardLost
)


class RelayCore:
    def __init__(
        self, permissions: GuildPermissions, prune_passive: bool = True, idle_s: float = 300.0
    ) -> None:
        self.permissions = permissions
        self.prune_passive = prune_passive
        self.idle_s = idle_s
        self.members = MemberTable()
        self.sessions = SessionTable()
        self._view = ViewCache()

    def __len__(self) -> int:
        return len(self.sessions)

    def update_permissions(self, permissions: GuildPermissions) -> None:
        self.permissions = permissions
        self._view.clear()

    def join(self, join: RelaySessionJoin) -> None:
        row = self.members.add(join.user_id, join.role_ids)
        self.sessions.add(join.session_id, join.shard, join.slot, row, join.intents, join.bot, join.active)
        self._view.clear()

    def leave(self, session_id: str) -> bool:
        return self.sessions.remove(session_id)

    def set_active(self, session_id: str, active: bool) -> bool:
        return self.sessions.set_active(session_id, active)

    def can_view(self, channel_id: int) -> npt.NDArray[np.bool_] | None:
        if not channel_id:
            return None
        cached = self._view.get(channel_id, self.members)
        if cached is None:
            p = self.permissions
            cached = scan(
                self.members, p.guild_id, p.owner_id, p.role_permissions, p.overwrites.get(channel_id, ())
            )
            self._view.put(channel_id, cached)
        return cached

    def recipients(self, dispatch: Dispatch) -> dict[int, Slots]:
        return self.sessions.recipients(dispatch, self.can_view(dispatch.channel_id), self.prune_passive)

    def apply(self, command: RelayCommand) -> dict[int, Slots]:
        """Apply one command in stream order; for an event, the slots per shard that must get it."""
        match command:
            case RelayItem():
                return self.route(command)
            case RelaySessionJoin():
                self.join(command)
            case RelaySessionLeave(session_id):
                self.leave(session_id)
            case RelaySessionMove(session_id, shard, slot):
                self.sessions.move(session_id, shard, slot)
            case RelaySessionActive(session_id, active):
                self.set_active(session_id, active)
            case GuildPermissions():
                self.update_permissions(command)
        return {}

    def route(self, item: RelayItem) -> dict[int, Slots]:
        """Slots per session shard that must receive ``item``."""
        if item.slot >= 0:
            return {item.shard: np.asarray([item.slot], dtype=np.int32)}
        if item.passive_only:
            self.sessions.demote_idle(self.idle_s)
            return self.sessions.passive_rows() if self.prune_passive else {}
        return self.recipients(item.dispatch)

    def memory_bytes(self) -> int:
        return self.members.memory_bytes() + self.sessions.memory_bytes()
