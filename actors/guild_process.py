"""A guild process: one guild's state held columnar, and who hears each of its events.

Guarantees: an event reaches only live sessions whose intents ask for it, that may VIEW_CHANNEL,
and that are active (passive sessions get PASSIVE_UPDATE_V1 summaries instead); the decision is
array operations over the guild's sessions, cached per (intent, channel) until something changes;
member scans of big guilds run in a worker thread, ordered by the guild's lock.
"""

from __future__ import annotations

import asyncio

import numpy as np

from rayguild.actors import commands as c
from rayguild.actors.guild_relays import (
    RelayGroup,
    guild_permissions,
)
from rayguild.config import Config
from rayguild.fanout.events import GUILDS, Dispatch, moved_marker
from rayguild.fanout.members import MemberTable
from rayguild.fanout.partition import Slots
from rayguild.fanout.permissions import PermissionOverwrite
from rayguild.fanout.view import ViewCache, scan
from rayguild.relay import GuildPermissions, RelayItem, RelaySessionJoin
from rayguild.relay.sessions import SessionTable
from rayguild.storage.models import Channel, Guild, Role

OFF_LOOP_SCAN_MEMBERS = 50_000  # guilds at least this big scan members in a worker thread


class GuildProcess:
    """One guild's state held columnar, and its fan-out decision."""

    def __init__(self, guild: Guild, channels: list[Channel], roles: list[Role], config: Config) -> None:
        self.guild = guild
        self.config = config
        self.channels = {ch.id: ch for ch in channels}
        self.roles = {r.id: r for r in roles}
        self.members = MemberTable()
        self.sessions = SessionTable()
        self.last_message_id: dict[int, int] = {}
        self._view = ViewCache()
        self.relays: RelayGroup | None = None  # set once the guild hands its sessions to relays
        self.prune_passive = True
        # Held while an event is prepared and sent, so events whose preparation awaits (a member
        # scan in a worker thread) still leave in the order they were published.
        self.lock = asyncio.Lock()

    def permissions(self) -> GuildPermissions:
        return guild_permissions(self.guild.id, self.guild.owner_id, self.roles, self.channels)

    @property
    def guild_id(self) -> int:
        return self.guild.id

    @property
    def large(self) -> bool:
        return self.members.count > self.config.passive_guild_members

    # -- state -------------------------------------------------------------------------------
    def apply(self, change: c.GuildChange) -> None:
        match change:
            case c.MemberJoined(user_id, role_ids) | c.MemberUpdated(user_id, role_ids):
                self.members.add(user_id, role_ids)
            case c.MemberLeft(user_id):
                row = self.members.find(user_id)
                if row is not None:
                    for session_id in self.sessions_of_member(row):
                        self.sessions.remove(session_id)
                self.members.remove(user_id)
            case c.ChannelUpserted(channel):
                self.channels[channel.id] = channel
            case c.ChannelDeleted(channel_id):
                self.channels.pop(channel_id, None)
            case c.RoleUpserted(role):
                self.roles[role.id] = role
            case c.RoleDeleted(role_id):
                self.roles.pop(role_id, None)
            case c.GuildUpdated(guild):
                self.guild = guild
            case c.GuildDeleted():
                pass
        self._view.clear()  # every state change: a scan started before it is stale
        if self.relays is not None and isinstance(
            change, c.MemberUpdated | c.ChannelUpserted | c.ChannelDeleted | c.RoleUpserted | c.RoleDeleted
        ):
            self.relays.push_permissions()

    def sessions_of_member(self, row: int) -> list[str]:
        n = self.sessions.size
        rows = set(np.flatnonzero(self.sessions.member[:n] == row).tolist())
        return [sid for sid, r in self.sessions.rows.items() if r in rows]

    async def prepare_view(self, channel_id: int) -> None:
        """Compute a missing VIEW_CHANNEL column off the event loop for big guilds.

        The scan (np.unique over the role bitsets) takes tens of ms at a million members; in a
        worker thread it does not stall the other guilds of this shard (Discord moved member
        scans to worker processes for the same reason).
        """
        if (
            not channel_id
            or self.members.size < OFF_LOOP_SCAN_MEMBERS
            or self._view.get(channel_id, self.members) is not None
        ):
            return
        epoch = self._view.epoch
        self._view.put(channel_id, await asyncio.to_thread(self._scan_view, channel_id), epoch)

    def can_view(self, channel_id: int) -> np.ndarray | None:
        """VIEW_CHANNEL per member row for ``channel_id``; cached until roles/channels/members change."""
        if not channel_id:
            return None
        view = self._view.get(channel_id, self.members)
        if view is None:
            view = self._scan_view(channel_id)
            self._view.put(channel_id, view)
        return view

    def _scan_view(self, channel_id: int) -> np.ndarray:
        channel = self.channels.get(channel_id)
        overwrites = [
            PermissionOverwrite(o.id, o.type, o.allow, o.deny)
            for o in (channel.permission_overwrites if channel else ())
        ]
        role_permissions = {r.id: r.permissions for r in self.roles.values()}
        return scan(self.members, self.guild.id, self.guild.owner_id, role_permissions, overwrites)

    # -- fan-out -----------------------------------------------------------------------------
    def recipients(self, dispatch: Dispatch) -> dict[int, Slots]:
        return self.sessions.recipients(dispatch, self.can_view(dispatch.channel_id), self.prune_passive)

    def publish(self, cmd: c.Publish) -> Dispatch:
        if cmd.change is not None:
            self.apply(cmd.change)
        if cmd.t == "MESSAGE_CREATE" and cmd.channel_id:
            # A public thread's message is gated by its parent (channel_id); it is the thread's.
            channel_id, message_id = int(cmd.d.get("channel_id", cmd.channel_id)), int(cmd.d["id"])
            if message_id > self.last_message_id.get(channel_id, 0):  # concurrent posts: any order
                self.last_message_id[channel_id] = message_id
        return Dispatch.of(self.guild.id, cmd.t, cmd.d, cmd.channel_id, cmd.intent, cmd.accepted_ns)

    def join(self, join: c.SessionJoin) -> int:
        """Add a connected session; returns its member row (or -1 if the user is no member)."""
        row = self.members.find(join.user_id)
        if row is None:
            return -1
        active = join.bot or not self.large or not self.prune_passive
        self.sessions.add(join.session_id, join.shard, join.slot, row, join.intents, join.bot, active)
        if self.relays is not None:
            roles = tuple(self.members.roles_of_bits(int(self.members.role_bits[row])))
            self.relays.join(
                RelaySessionJoin(
                    join.session_id,
                    join.shard,
                    join.slot,
                    join.user_id,
                    roles,
                    join.intents,
                    join.bot,
                    active,
                )
            )
        return row

    def relay_join(self, session_id: str) -> RelaySessionJoin | None:
        """The relay's join command for a session of this guild, from its row (None: not here)."""
        row = self.sessions.rows.get(session_id)
        if row is None:
            return None
        member, flags, sessions = int(self.sessions.member[row]), int(self.sessions.flags[row]), self.sessions
        return RelaySessionJoin(
            session_id,
            int(sessions.shard[row]),
            int(sessions.slot[row]),
            int(self.members.user_ids[member]),
            tuple(self.members.roles_of_bits(int(self.members.role_bits[member]))),
            int(sessions.intents[row]),
            bool(flags & 2),
            bool(flags & 1),
        )

    def leave(self, session_id: str) -> None:
        self.sessions.remove(session_id)
        if self.relays is not None:
            self.relays.leave(session_id)

    def move(self, session_id: str, shard: int, slot: int) -> tuple[int, int] | None:
        """Repoint a session at (shard, slot); its old location, or None if it is not here.

        With relays, the session's relay first sends the moved marker to the old slot (one
        stream); without, the shard queues the marker in its batcher (``GuildShard.move``).
        """
        old = self.sessions.move(session_id, shard, slot)
        if old is not None and self.relays is not None:
            self.relays.move(
                session_id, RelayItem(moved_marker(self.guild_id, session_id), *old), shard, slot
            )
        return old

    def set_active(self, session_id: str, active: bool) -> bool:
        changed = self.sessions.set_active(session_id, active)
        if changed and self.relays is not None:
            self.relays.set_active(session_id, active)
        return changed

    def passive_update(self) -> Dispatch:
        d = {
            "guild_id": str(self.guild.id),
            "channels": [
                {"id": str(ch), "last_message_id": str(mid)} for ch, mid in self.last_message_id.items()
            ],
            "voice_states": [],
            "members": [],
        }
        return Dispatch.of(self.guild.id, "PASSIVE_UPDATE_V1", d, intent=GUILDS)
