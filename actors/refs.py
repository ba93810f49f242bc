"""The Directory that maps an id to its shard through the ring, and the edge's clients over it.

Each kind's typed client lives beside its body (``GuildShardRef`` in guild.py, ``SessionShardRef``
in session_shard.py, ``PresenceShardRef`` in presence.py, ``PushShardRef`` in push.py); the
Directory hands them out for an id, over whichever transport it was built with (Ray's by
default, ``LocalTransport`` in one process). Nothing here sees a Ray handle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from rayguild.actors import commands as c
from rayguild.actors.cluster import ActorRef, RayTransport
from rayguild.actors.guild import GuildShardRef
from rayguild.actors.handoff import HandedOver, SessionSummary
from rayguild.actors.presence import PresenceShardRef, SessionPresence
from rayguild.actors.push import PushRequest, PushShardRef, SubmitResult
from rayguild.actors.session_shard import SessionShardRef
from rayguild.actors.transport import Endpoint, Transport
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.ring import RingSnapshot, shard_name

GUILD, SESSION, PRESENCE, PUSH = "guild", "session", "presence", "push"

T = TypeVar("T")


class Directory:
    """Resolves guild, user and session ids to shard refs; one instance per process."""

    def __init__(self, config: Config, transport: Transport | None = None) -> None:
        self.config = config
        self.transport: Transport = transport or RayTransport(config.namespace)
        self.guild_ring = RingSnapshot([shard_name(GUILD, i) for i in range(config.guild_shards)])
        self.presence_ring = RingSnapshot([shard_name(PRESENCE, i) for i in range(config.presence_shards)])
        self.push_ring = RingSnapshot([shard_name(PUSH, i) for i in range(config.push_shards)])
        self.guild_shard_failed: Callable[[int], object] | None = None  # see ``_watched``

    def endpoint(self, name: str) -> Endpoint:
        return self.transport.endpoint(name)

    def actor(self, name: str) -> ActorRef:
        """The named Ray actor, for what only Ray does (start and stats synchronously, kill)."""
        if not isinstance(self.transport, RayTransport):
            raise TypeError("this directory does not run on Ray")
        return self.transport.endpoint(name)

    def register(self, ref: ActorRef) -> None:
        """Use the handle a spawn returned (the name may not be resolvable yet)."""
        if isinstance(self.transport, RayTransport):
            self.transport.register(ref)

    def guild_shard(self, guild_id: int) -> GuildShardRef:
        return GuildShardRef(self.endpoint(self.guild_ring.owner(guild_id)))

    def session_shard(self, index: int) -> SessionShardRef:
        return SessionShardRef(self.endpoint(shard_name(SESSION, index)))

    def presence_shard(self, user_id: int) -> PresenceShardRef:
        return PresenceShardRef(self.endpoint(self.presence_ring.owner(user_id)))

    # -- the GuildDirectory / PresenceDirectory the edge uses -------------------------------
    async def _watched(self, guild_id: int, call: Awaitable[T]) -> T:
        """``call``'s answer; when its guild shard is unavailable, ``guild_shard_failed`` hears of
        it first (an edge's session shard tells its sessions the guilds are unavailable)."""
        try:
            return await call
        except ShardUnavailable:
            if self.guild_shard_failed is not None:
                self.guild_shard_failed(int(self.guild_ring.owner(guild_id).rsplit("-", 1)[1]))
            raise

    async def publish(self, cmd: c.Publish) -> int:
        return await self._watched(cmd.guild_id, self.guild_shard(cmd.guild_id).publish(cmd))

    async def connect(self, guild_id: int, join: c.SessionJoin) -> bool:
        return await self._watched(guild_id, self.guild_shard(guild_id).connect(join))

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        await self.guild_shard(guild_id).disconnect(guild_id, session_id)

    async def subscribe(self, guild_id: int, session_id: str, active: bool = True) -> bool:
        return await self.guild_shard(guild_id).subscribe(guild_id, session_id, active)

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool:
        return await self.guild_shard(guild_id).move(guild_id, session_id, shard, slot)

    async def member_count(self, guild_id: int) -> int:
        return await self.guild_shard(guild_id).member_count(guild_id)

    # -- the SessionShards the edge uses for a resume on another edge -----------------------
    async def describe(self, shard: int, session_id: str, user_id: int) -> SessionSummary | None:
        return await self.session_shard(shard).describe(session_id, user_id)

    async def take(
        self, shard: int, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        return await self.session_shard(shard).take(session_id, user_id, seq, moved, known)


class Presences:
    """The PresenceDirectory the edge uses (the user's presence shard by the ring), and the push
    shards behind it. Calls are grouped per shard: never one call per user."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def _shard(self, name: str) -> PresenceShardRef:
        return PresenceShardRef(self.directory.endpoint(name))

    async def update(self, record: SessionPresence) -> None:
        await self.directory.presence_shard(record.user_id).update(record)

    async def disconnect(self, user_id: int, session_id: str) -> None:
        await self.directory.presence_shard(user_id).disconnect(user_id, session_id)

    async def push_if_offline(self, requests: list[PushRequest]) -> int:
        groups = _group(requests, lambda r: self.directory.presence_ring.owner(r.user_id))
        return sum(await asyncio.gather(*(self._shard(n).push_if_offline(g) for n, g in groups)))

    async def visible(self, guild_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
        """Every presence shard's online users of each guild, merged (at most ``limit`` per guild)."""
        names = sorted(self.directory.presence_ring.nodes)
        parts = await asyncio.gather(*(self._shard(n).visible(guild_ids, limit) for n in names))
        return {g: [p for part in parts for p in part.get(g, [])][:limit] for g in guild_ids}

    async def membership(self, user_id: int, guild_id: int, joined: bool) -> None:
        await self.directory.presence_shard(user_id).membership(user_id, guild_id, joined)

    async def submit_push(self, requests: list[PushRequest]) -> SubmitResult:
        """Hand notifications to their users' push shards; their results summed."""
        groups = _group(requests, lambda r: self.directory.push_ring.owner(r.user_id))
        results = await asyncio.gather(
            *(PushShardRef(self.directory.endpoint(n)).submit(g) for n, g in groups)
        )
        return SubmitResult.total(results)


class Users:
    """The UserDirectory the edge uses: each user's events go to the shard owning the user id on
    the presence ring, one call per shard (the users of one call are grouped by shard)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def deliver(self, user_ids: Sequence[int], t: str, d: dict[str, Any], *, intent: int = 0) -> None:
        groups = _group(list(user_ids), self.directory.presence_ring.owner)
        await asyncio.gather(
            *(PresenceShardRef(self.directory.endpoint(n)).deliver(g, t, d, intent) for n, g in groups)
        )


def _group(items: list[T], owner: Callable[[T], str]) -> list[tuple[str, list[T]]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(owner(item), []).append(item)
    return sorted(groups.items())
