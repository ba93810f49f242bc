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
from typing import Any

import numpy as np
import structlog

from rayguild.actors import commands as c
from rayguild.actors.guild_create import guild_create
from rayguild.actors.guild_process import GuildProcess
from rayguild.actors.guild_relays import (
    RelayGroup,
    RelayTransport,
    make_relay_batcher,
    split_key,
)
from rayguild.actors.outbox import Outbox
from rayguild.actors.relay_loss import rejoin_relay_sessions
from rayguild.actors.transport import Endpoint
from rayguild.config import Config
from rayguild.errors import UnknownGuild
from rayguild.fanout.batcher import TickBatcher
from rayguild.fanout.events import Dispatch, moved_marker
from rayguild.ids import SessionId
from rayguild.relay import RelayCommand, RelayItem, SessionShardLost
from rayguild.storage.models import Channel
from rayguild.storage.protocol import HistoryQuery, Storage

log = structlog.get_logger("rayguild.guild")

TEXT_CHANNEL_TYPES = (0, 5)  # channels with messages and a last_message_id (text, announcement)


class GuildShard:
    """The actor body: guild processes keyed by guild id, one outbox towards the session shards."""

    def __init__(
        self,
        index: int,
        config: Config,
        storage: Storage,
        outbox: Outbox,
        relays: RelayTransport | None = None,
    ) -> None:
        self.index = index
        self.config = config
        self.storage = storage
        self.guilds: dict[int, GuildProcess] = {}
        self._loading: dict[int, asyncio.Future[GuildProcess]] = {}
        self.outbox = outbox
        self.batcher = outbox.batcher  # its counters and bound, read by stats and tests
        self.relay_transport = relays
        # Guild -> relay streams carry joins and leaves as well as events, so they are never dropped:
        # the bound that protects memory is on each relay's own stream towards the session shards.
        self.relay_batcher: TickBatcher[RelayCommand] | None = (
            make_relay_batcher(
                relays, config.tick_ms / 1000, config.max_batch_events, 1 << 30, self._relay_lag
            )
            if relays is not None
            else None
        )
        self.published = 0
        self.cpu_s = 0.0
        self._ready: asyncio.Future[None] | None = None
        self._recovering: set[asyncio.Future[int]] = set()  # sessions of lost relays being rejoined

    async def ready(self) -> None:
        """Start storage once (also after Ray restarted this shard); idempotent."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self.storage.start())
        try:
            await self._ready
        except Exception:
            self._ready = None
            raise

    def _relay_lag(self, key: int, batch: list[RelayCommand]) -> None:
        """A relay died or restarted empty: it is retired and its sessions rebuilt from this guild's
        own table (GUILD_DELETE unavailable, then into another relay with GUILD_CREATE: no op 9)."""
        guild_id, index = split_key(key)
        proc = self.guilds.get(guild_id)
        if proc is None or proc.relays is None or index >= len(proc.relays) or index in proc.relays.retired:
            return  # a later failed batch of a relay already retired
        gone = proc.relays.retire(index)
        log.error(
            "relay lost; its sessions rejoin another relay",
            guild_id=guild_id,
            relay=index,
            sessions=len(gone),
        )
        task = asyncio.ensure_future(rejoin_relay_sessions(self, proc, gone))
        self._recovering.add(task)
        task.add_done_callback(self._recovering.discard)
        if self.relay_batcher is not None:
            self.relay_batcher.discard(key)  # nothing more for it (its sessions were just retired)
        if self.relay_transport is not None:
            self.relay_transport.lost(guild_id, index)

    async def session_shard_lost(self, shard: int) -> int:
        """Session shard ``shard`` restarted empty: forget its sessions before it reuses their slots,
        and drop what was still waiting to go to its previous incarnation."""
        dropped = 0
        self.outbox.restart(shard)
        for proc in self.guilds.values():
            if proc.relays is not None:
                proc.relays.broadcast(SessionShardLost(shard))
            rows = proc.sessions.rows
            for session_id in [sid for sid, row in rows.items() if proc.sessions.shard[row] == shard]:
                proc.leave(session_id)
                dropped += 1
        log.warning("session shard lost; its sessions dropped", shard=shard, sessions=dropped)
        return dropped

    async def use_relays(self, proc: GuildProcess) -> None:
        """Hand the guild's sessions to relays (once); later joins go straight to a relay.

        Every direct send already issued is awaited first (so no event sent directly can arrive
        after one sent through a relay); then, with no await, each connected session moves as a
        join command ahead of any event its relay will carry.
        """
        if self.relay_transport is None or self.relay_batcher is None:
            raise RuntimeError("this guild shard has no relay transport")
        while not self.batcher.idle():
            await self.batcher.drain()
        if proc.relays is not None:
            return
        proc.relays = RelayGroup(
            proc.guild_id,
            self.config.relay_size,
            self.relay_transport,
            self.relay_batcher,
            proc.permissions,
            proc.prune_passive,
        )
        for session_id in proc.sessions.rows:
            join = proc.relay_join(session_id)
            if join is not None:
                proc.relays.join(join)
        log.info("guild uses relays", guild_id=proc.guild_id, relays=len(proc.relays))

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
            raise UnknownGuild(f"unknown guild {guild_id}")
        channels = await self.storage.list_channels(guild_id)
        proc = GuildProcess(guild, channels, await self.storage.list_roles(guild_id), self.config)
        await self._load_last_messages(proc, channels)
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

    async def _load_last_messages(self, proc: GuildProcess, channels: list[Channel]) -> None:
        """Each text channel's newest stored message: GUILD_CREATE carries it as ``last_message_id``
        (what a client fetches history back to after the guild was unavailable)."""
        texts = [ch.id for ch in channels if ch.type in TEXT_CHANNEL_TYPES]
        newest = await asyncio.gather(*(self.storage.history(HistoryQuery(ch, limit=1)) for ch in texts))
        for channel_id, messages in zip(texts, newest, strict=True):
            if messages:
                proc.last_message_id[channel_id] = messages[0].id

    def fanout(self, proc: GuildProcess, dispatch: Dispatch) -> int:
        """Send one event on its way: to the session shards, or one command per relay.

        Returns the recipients counted here (relays count their own).
        """
        started = time.thread_time()
        self.published += 1
        if proc.relays is not None:
            proc.relays.broadcast(RelayItem(dispatch))
            self.cpu_s += time.thread_time() - started
            return 0
        groups = proc.recipients(dispatch)
        for shard, slots in groups.items():
            self.outbox.add(shard, dispatch, slots)
        self.cpu_s += time.thread_time() - started
        return sum(s.size for s in groups.values())

    def _to_session(
        self, proc: GuildProcess, shard: int, slot: int, session_id: str, dispatch: Dispatch
    ) -> None:
        if proc.relays is not None:
            proc.relays.to_one(session_id, RelayItem(dispatch, shard, slot))
        else:
            self.outbox.add(shard, dispatch, np.asarray([slot], dtype=np.int32))

    # -- the actor's one entry point ------------------------------------------------------------
    async def handle(self, cmd: object) -> object:
        """Every guild-shard operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.Publish():
                return await self.publish(cmd)
            case c.SessionJoin():
                return await self.connect(cmd)
            case c.Disconnect(guild_id, session_id):
                await self.disconnect(guild_id, session_id)
                return None
            case c.Subscribe(guild_id, session_id, active):
                return await self.subscribe(guild_id, session_id, active)
            case c.MoveSession(guild_id, session_id, shard, slot):
                return await self.move(guild_id, session_id, shard, slot)
            case c.MemberCount(guild_id):
                return await self.member_count(guild_id)
            case c.ForgetSessionShard(shard):
                return await self.session_shard_lost(shard)
            case c.Stats():
                return await self.stats()
        raise TypeError(f"a guild shard does not handle {type(cmd).__name__}")

    async def publish(self, cmd: c.Publish) -> int:
        """Apply and fan out one event; returns the number of recipients."""
        proc = await self.process(cmd.guild_id)
        async with proc.lock:  # uncontended unless a scan is running: then it keeps the order
            dispatch = proc.publish(cmd)
            if isinstance(cmd.change, c.GuildDeleted):
                self.guilds.pop(cmd.guild_id, None)
            if proc.relays is None:
                await proc.prepare_view(dispatch.channel_id)
            return self.fanout(proc, dispatch)

    async def connect(self, join: c.SessionJoin) -> bool:
        """Connect a session and send it GUILD_CREATE through the ordered delivery path; a guild
        that now has more than ``relay_threshold_sessions`` sessions switches to relays (counted
        after the join: joins awaiting storage concurrently all count)."""
        proc = await self.process(join.guild_id)
        d = await guild_create(self.storage, proc, join.user_id, join.large_threshold)
        # Join and GUILD_CREATE with no await between them: no event can slip in ahead.
        if proc.join(join) < 0:
            return False
        self._to_session(
            proc, join.shard, join.slot, join.session_id, Dispatch.of(proc.guild_id, "GUILD_CREATE", d)
        )
        if (
            proc.relays is None
            and self.relay_transport is not None
            and len(proc.sessions) > self.config.relay_threshold_sessions
        ):
            await self.use_relays(proc)
        return True

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        proc = self.guilds.get(guild_id)
        if proc is not None:
            proc.leave(session_id)

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool:
        """A session moved to another session shard (a resume on another edge): later events go to
        (shard, slot); the old slot gets a moved marker behind every event already sent to it.

        No await: an event published concurrently goes wholly before the marker or wholly after.
        False if the guild does not hold the session (then no marker comes).
        """
        proc = self.guilds.get(guild_id)
        if proc is None:
            return False
        relayed = proc.relays is not None and session_id in proc.relays.relay_of
        old = proc.move(session_id, shard, slot)
        if old is None:
            return False
        if not relayed:  # no relay, or its relay was lost and it is not rejoined yet (relay_loss)
            marker = moved_marker(guild_id, session_id)
            self.outbox.add(old[0], marker, np.asarray([old[1]], dtype=np.int32))
        return True

    async def subscribe(self, guild_id: int, session_id: str, active: bool) -> bool:
        proc = await self.process(guild_id)
        return proc.set_active(session_id, active)

    async def member_count(self, guild_id: int) -> int:
        return (await self.process(guild_id)).members.count

    async def tick_passive(self) -> None:
        """Demote idle sessions and send passive sessions their summary (called periodically)."""
        for proc in list(self.guilds.values()):
            if not proc.prune_passive:
                continue
            proc.sessions.demote_idle(self.config.passive_idle_s)
            if proc.relays is not None:
                proc.relays.broadcast(RelayItem(proc.passive_update(), passive_only=True))
                continue
            groups = proc.sessions.passive_rows()
            if groups:
                dispatch = proc.passive_update()
                for shard, slots in groups.items():
                    self.outbox.add(shard, dispatch, slots)

    async def stats(self) -> dict[str, Any]:
        return {
            "guilds": len(self.guilds),
            "sessions": sum(len(p.sessions) for p in self.guilds.values()),
            "published": self.published,
            "ray_calls": self.batcher.calls + (self.relay_batcher.calls if self.relay_batcher else 0),
            "relays": sum(len(p.relays) for p in self.guilds.values() if p.relays is not None),
            "lagging_batches": self.batcher.overflows + self.batcher.failures,
            "dropped_sessions": self.outbox.dropped_sessions,
            "relay_failures": self.relay_batcher.failures
            if self.relay_batcher
            else 0,  # batches a relay refused
            "relays_lost": sum(len(p.relays.retired) for p in self.guilds.values() if p.relays is not None),
            "cpu_s": self.cpu_s,  # thread CPU spent routing events (relays count their own)
            "member_bytes": sum(p.members.memory_bytes() for p in self.guilds.values()),
            "session_table_bytes": sum(p.sessions.memory_bytes() for p in self.guilds.values()),
        }


class GuildShardRef:
    """The guild shard's typed client: one command per operation, sent through an endpoint."""

    def __init__(self, ref: Endpoint) -> None:
        self.ref = ref

    async def publish(self, cmd: c.Publish) -> int:
        return int(await self.ref.send(cmd))

    async def connect(self, join: c.SessionJoin) -> bool:
        return bool(await self.ref.send(join))

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        await self.ref.send(c.Disconnect(guild_id, SessionId(session_id)))

    async def subscribe(self, guild_id: int, session_id: str, active: bool) -> bool:
        return bool(await self.ref.send(c.Subscribe(guild_id, SessionId(session_id), active)))

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool:
        return bool(await self.ref.send(c.MoveSession(guild_id, SessionId(session_id), shard, slot)))

    async def member_count(self, guild_id: int) -> int:
        return int(await self.ref.send(c.MemberCount(guild_id)))

    async def stats(self) -> dict[str, Any]:
        return dict(await self.ref.send(c.Stats()))
