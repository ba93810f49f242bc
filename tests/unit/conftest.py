"""Shared unit-test pieces: a small guild in a real SQLite file, a sink that keeps frames, and
session shard bodies behind the in-process transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from rayguild.actors.commands import Deliver
from rayguild.actors.outbox import Outbox
from rayguild.actors.session_shard import SessionShard
from rayguild.actors.transport import LocalTransport
from rayguild.config import Config, load_config
from rayguild.fanout.permissions import DEFAULT_EVERYONE, VIEW_CHANNEL
from rayguild.ring import RingSnapshot
from rayguild.storage import Channel, Guild, Member, Overwrite, Role, SqliteStorage, User

GUILD, GENERAL, SECRET, SECRET_ROLE = 10, 11, 12, 13


class ListSink:
    """Keeps every frame, decoded; remembers the close code."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None

    def write(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def close(self, code: int, reason: str) -> None:
        self.closed = code


@pytest.fixture
async def storage(tmp_path: Path) -> SqliteStorage:
    """40 members; odd user ids hold SECRET_ROLE, the only role that may view SECRET."""
    store = SqliteStorage(tmp_path / "relays.sqlite3")
    await store.start()
    await store.put_guild(Guild(GUILD, "big", owner_id=1))
    await store.put_role(Role(GUILD, GUILD, "@everyone", DEFAULT_EVERYONE))
    await store.put_role(Role(SECRET_ROLE, GUILD, "secret", 0))
    await store.put_channel(Channel(GENERAL, GUILD, "general"))
    deny = (Overwrite(GUILD, 0, 0, VIEW_CHANNEL), Overwrite(SECRET_ROLE, 0, VIEW_CHANNEL, 0))
    await store.put_channel(Channel(SECRET, GUILD, "secret", permission_overwrites=deny))
    for user in range(1, 41):
        await store.create_user(User(user, f"u{user}"), f"hash{user}")
        roles = (SECRET_ROLE,) if user % 2 else ()
        await store.put_member(Member(GUILD, user, 1_600_000_000_000, roles))
    return store


class Node:
    """Session shard bodies behind an in-process transport, as ``LocalCluster`` builds them.

    ``delay`` (seconds, drawn per command) lets commands overtake each other on the way, as Ray
    runs an async actor's calls as their arguments become ready; ``stalled`` shards accept
    deliveries and never finish them (notices such as ``Invalidate`` still get through).
    """

    def __init__(
        self, shards: int, config: Config | None = None, delay: Callable[[], float] | None = None
    ) -> None:
        self.config = config or load_config(environ={})
        self.transport = LocalTransport()
        ring = RingSnapshot(["guild-0"])
        self.shards = [
            SessionShard(i, self.config, ring, RingSnapshot(["presence-0"])) for i in range(shards)
        ]
        self.cores = [s.core for s in self.shards]
        self.stalled: set[int] = set()
        self._delay = delay
        for shard in self.shards:
            self.transport.register(f"session-{shard.index}", _Slow(self, shard))

    def outbox(self, sender: str = "guild-0", config: Config | None = None) -> Outbox:
        return Outbox(self.transport, config or self.config, sender)


class _Slow:
    def __init__(self, node: Node, shard: SessionShard) -> None:
        self.node, self.shard = node, shard

    async def handle(self, cmd: object) -> object:
        if isinstance(cmd, Deliver) and self.shard.index in self.node.stalled:
            await asyncio.Event().wait()
        if self.node._delay is not None:
            await asyncio.sleep(self.node._delay())
        return await self.shard.handle(cmd)
