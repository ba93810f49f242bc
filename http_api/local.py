"""The edge's in-process node: the real shard bodies in THIS process, reached through ``LocalTransport``.

``LocalCluster`` builds the same bodies the Ray hosts wrap (``GuildShard``, ``PresenceShard``,
``PushShard``, ``SessionShard``) and the same clients the edges use on Ray (``Directory``,
``Presences``, ``Users``); only the transport differs. So delivery goes through the same outbox
(tick batching, per-destination numbering applied in order, the bounded in-flight lag policy),
as httpx and starlette test through an in-memory transport that keeps the semantics. Each part
keeps its own storage object, as the separate actor processes do. Used by the test suite and
for running one edge without a Ray cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from rayguild.actors.guild import GuildShard
from rayguild.actors.outbox import Outbox
from rayguild.actors.presence import PresenceShard
from rayguild.actors.push import PushShard
from rayguild.actors.refs import GUILD, PRESENCE, PUSH, SESSION, Directory, Presences, Users
from rayguild.actors.session import SessionShardCore
from rayguild.actors.session_presence import live_records
from rayguild.actors.session_shard import SessionShard
from rayguild.actors.transport import LocalTransport
from rayguild.actors.users import UserPath
from rayguild.config import Config
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.webhook import AiohttpTransport
from rayguild.ids import SnowflakeGenerator
from rayguild.ring import shard_name
from rayguild.storage.protocol import Storage


class LocalCluster:
    """One guild shard, one presence shard, one push shard and any number of session shards."""

    def __init__(self, config: Config, storage_factory: Callable[[], Storage]) -> None:
        self.config = config
        self.storage_factory = storage_factory
        self.transport = LocalTransport()
        self.directory = Directory(
            replace(config, guild_shards=1, presence_shards=1, push_shards=1), self.transport
        )
        self.sessions: dict[int, SessionShard] = {}
        self.guild_shard = GuildShard(
            0, config, storage_factory(), Outbox(self.transport, config, shard_name(GUILD, 0))
        )
        self.transport.register(shard_name(GUILD, 0), self.guild_shard)
        self.push = self._push_shard()
        self.presence = Presences(self.directory)
        self.presence_shard = self._presence_shard()
        self.guilds = self.peers = self.directory
        self.users = Users(self.directory)
        self._storages: list[Storage] = [self.guild_shard.storage, self.push.storage]

    @property
    def cores(self) -> dict[int, SessionShardCore]:
        return {index: shard.core for index, shard in self.sessions.items()}

    def session_shard(self, index: int) -> SessionShard:
        """Session shard ``index`` (created on first use)."""
        shard = self.sessions.get(index)
        if shard is None:
            directory = self.directory
            shard = SessionShard(index, self.config, directory.guild_ring, directory.presence_ring, directory)
            self.sessions[index] = shard
            self.transport.register(shard_name(SESSION, index), shard)
        return shard

    def restart_guild(self) -> int:
        """What a crash and restart of the guild shard does (as ``GuildShardHost``): a new body
        that rebuilds its guilds from storage, announced to every session shard first. Returns how
        many sessions were told their guilds are unavailable (they are joined again meanwhile)."""
        since_ns = time.time_ns()
        storage = self.storage_factory()
        self._storages.append(storage)
        outbox = Outbox(self.transport, self.config, shard_name(GUILD, 0))
        self.guild_shard = GuildShard(0, self.config, storage, outbox)
        self.transport.register(shard_name(GUILD, 0), self.guild_shard)
        return sum(shard.guild_loss.lost(0, since_ns) for shard in self.sessions.values())

    def _presence_shard(self) -> PresenceShard:
        outbox = Outbox(self.transport, self.config, shard_name(PRESENCE, 0))
        shard = PresenceShard(
            0, self.directory.publish, self.presence.submit_push, UserPath(outbox, self.directory)
        )
        self.transport.register(shard_name(PRESENCE, 0), shard)
        return shard

    def _push_shard(self) -> PushShard:
        shard = PushShard(0, self.config, self.storage_factory(), AiohttpTransport(self.config))
        self.transport.register(shard_name(PUSH, 0), shard)
        return shard

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
        self.presence_shard = self._presence_shard()
        self.presence_shard.rebuild(r for core in self.cores.values() for r in live_records(core))
        return sum(core.presence.mark_all_stale() for core in self.cores.values())

    async def edge(
        self, index: int, resume_gateway_url: str = "", allowed_intents: int | None = None
    ) -> EdgeContext:
        """A started edge context for session shard ``index`` (its own storage and snowflakes)."""
        storage = self.storage_factory()
        await storage.start()
        self._storages.append(storage)
        ctx = EdgeContext(
            config=self.config, storage=storage, snowflakes=SnowflakeGenerator(1, index % 32),
            sessions=self.session_shard(index).core, guilds=self.guilds, presence=self.presence,
            users=self.users, resume_gateway_url=resume_gateway_url, peers=self.peers,
        )  # fmt: skip
        if allowed_intents is not None:
            ctx.allowed_intents = allowed_intents
        return ctx

    async def close(self) -> None:
        await self.push.stop()
        for storage in self._storages:
            await storage.close()
