"""The presence and push actor bodies Ray instantiates, and what every host shares.

Each builds its shard's dependencies inside its own process (the guild and session hosts live in
``guild_host`` and ``session_host``).

A host is constructed from ``(index, config)`` only (picklable), so Ray can restart it by
itself; ``start`` is idempotent and the Runtime calls it again after a restart.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from rayguild.actors import cluster
from rayguild.actors import commands as c
from rayguild.actors.outbox import Outbox
from rayguild.actors.presence import PresenceShard
from rayguild.actors.push import PushShard, TransportFactory, UrllibTransport
from rayguild.actors.refs import Directory, Presences
from rayguild.actors.transport import Endpoint
from rayguild.actors.users import UserPath
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.ids import SnowflakeGenerator
from rayguild.logs import configure_logging
from rayguild.storage import open_storage

log = structlog.get_logger("rayguild.hosts")


class EdgeServer(Protocol):
    """The gateway/REST server a session shard runs (built by http_api, never imported here)."""

    port: int
    adopted: list[int]  # own ports of drained edges this one serves

    async def stop_accepting(self) -> None:
        """Close the listening sockets (shared and own port); open connections stay."""
        ...

    async def adopt(self, port: int) -> None:
        """Also accept on a draining edge's own port (same machine)."""
        ...

    async def stop(self) -> None: ...


EdgeFactory = Callable[..., Awaitable[EdgeServer]]


def whoami() -> dict[str, Any]:
    """The process and Ray node a shard runs on (for ``rayguild status`` and tests)."""
    return {"pid": os.getpid(), "node_id": cluster.node_of_current_actor()}


def snowflakes_for(kind_worker: int, index: int) -> SnowflakeGenerator:
    """Snowflake (worker, process) from the shard kind and index, unique across shards."""
    return SnowflakeGenerator(kind_worker * 4 + index // 32, index % 32)


async def call_all(refs: list[Endpoint], command: object) -> list[Any]:
    """Send ``command`` to every shard; an unavailable one (also restarting) answers None."""

    async def one(ref: Endpoint) -> Any:
        try:
            return await ref.send(command)
        except ShardUnavailable:
            return None

    return list(await asyncio.gather(*(one(ref) for ref in refs)))


class PresenceShardHost:
    """A presence (user) shard on Ray: it holds the plain ``PresenceShard`` body and, after a
    restart, rebuilds it before anything else reaches it."""

    def __init__(self, index: int, config: Config) -> None:
        configure_logging(config, shard=f"presence-{index}")
        self.index = index
        self.config = config
        self.directory = Directory(config)
        presences = Presences(self.directory)
        outbox = Outbox(self.directory.transport, config, f"presence-{index}")
        self.body = PresenceShard(
            index, self.directory.publish, presences.submit_push, UserPath(outbox, self.directory)
        )
        self._restarted = cluster.actor_restarted()
        self._rebuilt: asyncio.Future[None] | None = None

    async def _rebuild_once(self) -> None:
        """After a restart, once, before anything else: rebuild from the sessions the edges hold,
        then have every edge send its sessions one PRESENCES_REPLACE (no stale presence stays)."""
        if self._restarted:
            if self._rebuilt is None:
                self._rebuilt = asyncio.ensure_future(self._rebuild())
            await self._rebuilt

    async def _rebuild(self) -> None:
        refs = [self.directory.session_shard(i).ref for i in range(self.config.session_shards)]
        reports = await call_all(refs, c.PresenceReport(self.index))
        users = self.body.rebuild(r for report in reports if report for r in report)
        resynced = await call_all(refs, c.PresenceResync())
        log.warning("presence shard restarted; rebuilt from live sessions", users=users, resync=resynced)

    async def handle(self, cmd: object) -> object:
        match cmd:
            case c.Stats():
                return {**whoami(), **(await self.body.stats())}
            case c.ForgetSessionShard():
                return await self.body.handle(cmd)  # never waits: a restarting edge sends it
        await self._rebuild_once()
        if isinstance(cmd, c.Start):
            return {"shard": f"presence-{self.index}"}
        return await self.body.handle(cmd)


class PushShardHost:
    """A push shard on Ray: the plain ``PushShard`` body with its own storage (the outbox) and
    provider connection. ``transport_factory`` (picklable; http_api's ``AiohttpTransport`` in
    the CLI) defaults to urllib in threads."""

    def __init__(self, index: int, config: Config, transport_factory: TransportFactory | None = None) -> None:
        configure_logging(config, shard=f"push-{index}")
        transport = (transport_factory or UrllibTransport)(config)
        self.body = PushShard(index, config, open_storage(config), transport)

    async def handle(self, cmd: object) -> object:
        if isinstance(cmd, c.Stats):
            return {**whoami(), **(await self.body.stats())}
        return await self.body.handle(cmd)
