"""The edge's in-memory transport: the real guild, presence and user shards in THIS process, no Ray.

``LocalCluster`` runs the same ``GuildShard``, ``PresenceShard`` and ``SessionShardCore`` classes
the Ray actors host, and connects them with direct calls where Ray would carry a message (as
httpx and starlette test through an in-memory transport). Each part keeps its own storage
object, as the separate actor processes do. Used by the test suite and for running one edge
without a Ray cluster; delivery order and batching are the guild shard's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rayguild.actors.commands import Publish, SessionJoin
from rayguild.actors.guild import Batch, GuildShard
from rayguild.actors.handoff import HandedOver, Handoffs, SessionSummary
from rayguild.actors.presence import PresenceShard, SessionPresence
from rayguild.actors.push import PushRequest, PushShard, SubmitResult
from rayguild.actors.session import SessionShardCore
from rayguild.actors.session_presence import SessionPresences, live_records
from rayguild.actors.users import Outbox, UserPath, lagging
from rayguild.config import Config
from rayguild.fanout.batcher import TickBatcher
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.webhook import AiohttpTransport
from rayguild.ids import SnowflakeGenerator
from rayguild.storage.protocol import Storage


class LocalGuilds:
    """``GuildDirectory`` over one in-process ``GuildShard`` hosting every guild."""

    def __init__(self, shard: GuildShard) -> None:
        self.shard = shard

    async def publish(self, event: Publish) -> int:
        return await self.shard.publish(event)

    async def connect(self, guild_id: int, join: SessionJoin) -> bool:
        return await self.shard.connect(join)

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        await self.shard.disconnect(guild_id, session_id)

    async def subscribe(self, guild_id: int, session_id: str, active: bool = True) -> bool:
        return await self.shard.subscribe(guild_id, session_id, active)

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool:
        return await self.shard.move(guild_id, session_id, shard, slot)

    async def member_count(self, guild_id: int) -> int:
        return await self.shard.member_count(guild_id)


class LocalSessionShards:
    """``SessionShards`` over the in-process session shards' ``Handoffs``."""

    def __init__(self) -> None:
        self.handoffs: dict[int, Handoffs] = {}

    async def describe(self, shard: int, session_id: str, user_id: int) -> SessionSummary | None:
        handoffs = self.handoffs.get(shard)
        return handoffs.describe(session_id, user_id) if handoffs is not None else None

    async def take(
        self, shard: int, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        handoffs = self.handoffs.get(shard)
        return await handoffs.take(session_id, user_id, seq, moved, known) if handoffs else None


class LocalPresence:
    """``PresenceDirectory`` over one in-process ``PresenceShard``."""

    def __init__(self, shard: PresenceShard) -> None:
        self.shard = shard

    async def update(self, record: SessionPresence) -> None:
        await self.shard.update(record)

    async def disconnect(self, user_id: int, session_id: str) -> None:
        await self.shard.disconnect(user_id, session_id)

    async def push_if_offline(self, requests: list[PushRequest]) -> int:
        return await self.shard.push_if_offline(requests)

    async def visible(self, guild_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
        return await self.shard.visible(guild_ids, limit)

    async def membership(self, user_id: int, guild_id: int, joined: bool) -> None:
        await self.shard.membership(user_id, guild_id, joined)


class LocalUsers:
    """``UserDirectory`` over the in-process presence shard (the owner of every user id)."""

    def __init__(self, presence: LocalPresence) -> None:
        self.presence = presence

    async def deliver(self, user_ids: Sequence[int], t: str, d: dict[str, Any], *, intent: int = 0) -> None:
        await self.presence.shard.deliver(user_ids, t, d, intent)


class LocalCluster:
    """One guild shard, one presence shard, one push shard and any number of session shards."""

    def __init__(self, config: Config, storage_factory: Callable[[], Storage]) -> None:
        self.config = config
        self.storage_factory = storage_factory
        self.cores: dict[int, SessionShardCore] = {}
        self.guild_shard = GuildShard(0, config, storage_factory(), self._send)
        self.guilds = LocalGuilds(self.guild_shard)
        self.push = self._push_shard()
        self.presence = LocalPresence(self._presence_shard())
        self.users = LocalUsers(self.presence)
        self.peers = LocalSessionShards()
        self._storages: list[Storage] = [self.guild_shard.storage, self.push.storage]

    def _presence_shard(self) -> PresenceShard:
        outbox: Outbox = TickBatcher(
            self._send,
            self.config.tick_ms / 1000,
            self.config.max_batch_events,
            self.config.max_pending_batches,
            lagging,
        )
        return PresenceShard(0, self.guild_shard.publish, self._submit_push, UserPath(outbox, self.guilds))

    def _push_shard(self) -> PushShard:
        return PushShard(0, self.config, self.storage_factory(), AiohttpTransport(self.config))

    async def _submit_push(self, requests: list[PushRequest]) -> SubmitResult:
        return await self.push.submit(requests)

    async def restart_push(self) -> PushShard:
        """What a crash and restart of the push shard does: its memory is gone, the outbox stays."""
        await self.push.stop()
        self.push = self._push_shard()
        self._storages.append(self.push.storage)
        await self.push.start()
        return self.push

    def restart_presence(self) -> int:
        """What a restart of the presence shard does (as ``PresenceShardHost``): rebuild from the
        sessions the edges hold, then every edge owes its sessions one PRESENCES_REPLACE."""
        shard = self._presence_shard()
        shard.rebuild(r for core in self.cores.values() for r in live_records(core))
        self.presence.shard = shard
        return sum(core.presence.mark_all_stale() for core in self.cores.values())

    async def _send(self, shard: int, batch: Batch) -> int:
        return self.cores[shard].deliver(batch)

    async def edge(
        self, index: int, resume_gateway_url: str = "", allowed_intents: int | None = None
    ) -> EdgeContext:
        """A started edge context for session shard ``index`` (its own storage and snowflakes)."""
        storage = self.storage_factory()
        await storage.start()
        self._storages.append(storage)
        presences = SessionPresences(
            self.config.presence_backlog_frames, self.config.presence_updates_per_minute
        )
        core = self.cores[index] = SessionShardCore(
            index, self.config.replay_buffer_events, presence=presences
        )
        self.peers.handoffs[index] = Handoffs(core)
        ctx = EdgeContext(
            config=self.config, storage=storage, snowflakes=SnowflakeGenerator(1, index % 32),
            sessions=core, guilds=self.guilds, presence=self.presence, users=self.users,
            resume_gateway_url=resume_gateway_url, peers=self.peers,
        )  # fmt: skip
        if allowed_intents is not None:
            ctx.allowed_intents = allowed_intents
        return ctx

    async def close(self) -> None:
        await self.push.stop()
        for storage in self._storages:
            await storage.close()
