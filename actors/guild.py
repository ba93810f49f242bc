"""GuildShard: hosts many guild processes; a guild process decides who hears each of its events.

Guarantees: a guild's events reach each session in the order the guild published them (one
batcher per shard, FIFO per destination); an event reaches only live sessions whose intents
ask for it, that may VIEW_CHANNEL, and that are active (passive sessions get PASSIVE_UPDATE_V1
summaries instead); Ray calls per event are O(session shards), never O(members).
A guild process is loaded from storage on first use, page by page, so a restarted shard
rebuilds its guilds by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import numpy as np
import structlog
from rayguild.actors import commands as c
from rayguild.fanout.batcher import TickBatcher
from rayguild.fanout.events import GUILDS, Dispatch
from rayguild.fanout.members import MemberTable
from rayguild.fanout.partition import Slots
from rayguild.fanout.permissions import PermissionOverwrite, can_view_columnar
from rayguild.relay.sessions import SessionTable
from rayguild.storage.models import Channel, Guild, Role
from rayguild.storage.protocol import Storage

from rayguild import shapes
from rayguild.config import Config

log = structlog.get_logger("rayguild.guild")

Batch = list[tuple[Dispatch, Slots]]
SendToShard = Callable[[int, Batch], Awaitable[object]]


class ShardLag(Protocol):
    def __call__(self, shard: int, batch: Batch) -> None: ...


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
        self._view: dict[int, np.ndarray] = {}

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
        self._view.clear()

    def sessions_of_member(self, row: int) -> list[str]:
        n = self.sessions.size
        rows = set(np.flatnonzero(self.sessions.member[:n] == row).tolist())
        return [sid for sid, r in self.sessions.rows.items() if r in rows]

    def can_view(self, channel_id: int) -> np.ndarray | None:
        """VIEW_CHANNEL per member row for ``channel_id``; cached until roles/channels/members change."""
        if not channel_id:
            return None
        cached = self._view.get(channel_id)
        if cached is not None and cached.size >= self.members.size:
            return cached
        channel = self.channels.get(channel_id)
        overwrites = [
            PermissionOverwrite(o.id, o.type, o.allow, o.deny)
            for o in (channel.permission_overwrites if channel else ())
        ]
        n = self.members.size
        view = (
            can_view_columnar(
                self.members.role_bits[:n],
                self.members.user_ids[:n],
                self.members.role_order,
                self.guild.id,
                self.guild.owner_id,
                {r.id: r.permissions for r in self.roles.values()},
                overwrites,
            )
            & self.members.present()
        )
        self._view[channel_id] = view
        return view

    # -- fan-out -----------------------------------------------------------------------------
    def recipients(self, dispatch: Dispatch) -> dict[int, Slots]:
        return self.sessions.recipients(dispatch, self.can_view(dispatch.channel_id))

    def publish(self, cmd: c.Publish) -> Dispatch:
        if cmd.change is not None:
            self.apply(cmd.change)
        if cmd.t == "MESSAGE_CREATE" and cmd.channel_id:
            self.last_message_id[cmd.channel_id] = int(cmd.d["id"])
        return Dispatch.of(self.guild.id, cmd.t, cmd.d, cmd.channel_id, cmd.intent)

    def join(self, join: c.SessionJoin) -> int:
        """Add a connected session; returns its member row (or -1 if the user is no member)."""
        row = self.members.find(join.user_id)
        if row is None:
            return -1
        active = join.bot or not self.large
        self.sessions.add(join.session_id, join.shard, join.slot, row, join.intents, join.bot, active)
        return row

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


class GuildShard:
    """The actor body: guild processes keyed by guild id, one batcher towards the session shards."""

    def __init__(
        self,
        index: int,
        config: Config,
        storage: Storage,
        send: SendToShard,
        on_lag: ShardLag | None = None,
    ) -> None:
        self.index = index
        self.config = config
        self.storage = storage
        self.guilds: dict[int, GuildProcess] = {}
        self._loading: dict[int, asyncio.Future[GuildProcess]] = {}
        self.batcher: TickBatcher[tuple[Dispatch, Slots]] = TickBatcher(
            send,
            config.tick_ms / 1000,
            config.max_batch_events,
            config.max_pending_batches,
            on_lag or self._lagging,
        )
        self.published = 0
        self.cpu_s = 0.0
        self._ready: asyncio.Future[None] | None = None

    async def ready(self) -> None:
        """Start storage once (also after Ray restarted this shard); idempotent."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self.storage.start())
        try:
            await self._ready
        except Exception:
            self._ready = None
            raise

    def _lagging(self, shard: int, batch: Batch) -> None:
        log.warning(
            "session shard lagging; batch not delivered",
            guild_shard=self.index,
            shard=shard,
            events=len(batch),
        )

    async def process(self, guild_id: int) -> GuildProcess:
        """The guild's process, loading it from storage once (concurrent callers share the load)."""
        proc = self.guilds.get(guild_id)
        if proc is not None:
            return proc
        pending = self._loading.get(guild_id)
        if pending is None:
            pending = asyncio.ensure_future(self._load(guild_id))
            self._loading[guild_id] = pending
            pending.add_done_callback(lambda _: self._loading.pop(guild_id, None))
        return await pending

    async def _load(self, guild_id: int) -> GuildProcess:
        await self.ready()
        guild = await self.storage.get_guild(guild_id)
        if guild is None:
            raise LookupError(f"unknown guild {guild_id}")
        proc = GuildProcess(
            guild,
            await self.storage.list_channels(guild_id),
            await self.storage.list_roles(guild_id),
            self.config,
        )
        page: list[tuple[int, tuple[int, ...]]] = []
        async for member in self.storage.iter_members(guild_id):
            page.append((member.user_id, member.roles))
            if len(page) >= 1000:
                proc.members.load_page([u for u, _ in page], [r for _, r in page])
                page = []
        proc.members.load_page([u for u, _ in page], [r for _, r in page])
        self.guilds[guild_id] = proc
        log.info("guild loaded", guild_id=guild_id, members=proc.members.count, guild_shard=self.index)
        return proc

    def adopt(self, proc: GuildProcess) -> None:
        """Host an already-built guild process (benchmarks build huge guilds without storage)."""
        self.guilds[proc.guild_id] = proc

    def fanout(self, proc: GuildProcess, dispatch: Dispatch) -> int:
        started = time.thread_time()
        groups = proc.recipients(dispatch)
        for shard, slots in groups.items():
            self.batcher.add(shard, (dispatch, slots))
        self.cpu_s += time.thread_time() - started
        self.published += 1
        return sum(s.size for s in groups.values())

    # -- the actor's methods -----------------------------------------------------------------
    async def publish(self, cmd: c.Publish) -> int:
        """Apply and fan out one event; returns the number of recipients."""
        proc = await self.process(cmd.guild_id)
        dispatch = proc.publish(cmd)
        if isinstance(cmd.change, c.GuildDeleted):
            self.guilds.pop(cmd.guild_id, None)
        return self.fanout(proc, dispatch)

    async def connect(self, join: c.SessionJoin) -> bool:
        """Connect a session and send it GUILD_CREATE through the ordered delivery path."""
        proc = await self.process(join.guild_id)
        row = proc.join(join)
        if row < 0:
            return False
        d = await self._guild_create(proc, join)
        slots = np.asarray([join.slot], dtype=np.int32)
        self.batcher.add(join.shard, (Dispatch.of(proc.guild_id, "GUILD_CREATE", d), slots))
        return True

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        proc = self.guilds.get(guild_id)
        if proc is not None:
            proc.sessions.remove(session_id)

    async def subscribe(self, guild_id: int, session_id: str, active: bool) -> bool:
        proc = await self.process(guild_id)
        return proc.sessions.set_active(session_id, active)

    async def tick_passive(self) -> None:
        """Demote idle sessions and send passive sessions their summary (called periodically)."""
        for proc in list(self.guilds.values()):
            proc.sessions.demote_idle(self.config.passive_idle_s)
            groups = proc.sessions.passive_rows()
            if groups:
                dispatch = proc.passive_update()
                for shard, slots in groups.items():
                    self.batcher.add(shard, (dispatch, slots))

    async def _guild_create(self, proc: GuildProcess, join: c.SessionJoin) -> dict[str, Any]:
        guild_id = proc.guild_id
        threshold = max(1, min(join.large_threshold, 250))
        large = proc.members.count > threshold
        wanted = (
            [m for m in [await self.storage.get_member(guild_id, join.user_id)] if m is not None]
            if large
            else await self.storage.list_members(guild_id, 0, 1000)
        )
        members = []
        for member in wanted:
            user = await self.storage.get_user(member.user_id)
            if user is not None:
                members.append(shapes.member(member, user))
        d = shapes.guild(proc.guild, sorted(proc.roles.values(), key=lambda r: r.position))
        d.update(
            joined_at=members[0]["joined_at"] if members else shapes.iso(int(time.time() * 1000)),
            large=large,
            unavailable=False,
            member_count=proc.members.count,
            members=members,
            channels=[
                shapes.channel(ch, proc.last_message_id.get(ch.id))
                for ch in sorted(proc.channels.values(), key=lambda ch: ch.position)
            ],
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return d

    async def stats(self) -> dict[str, Any]:
        return {
            "guilds": len(self.guilds),
            "sessions": sum(len(p.sessions) for p in self.guilds.values()),
            "published": self.published,
            "ray_calls": self.batcher.calls,
            "lagging_batches": self.batcher.overflows + self.batcher.failures,
        }
