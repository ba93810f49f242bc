"""Relay actor body: applies a guild's ordered command stream and fans events out to session shards.

Bounded: towards each session shard at most ``max_pending_batches`` sends are in flight; a batch
beyond that is not queued but turned into an invalidation of its sessions (op 9, re-identify),
so a slow or dead session shard can not grow a relay's memory. Drops are counted in ``stats``.
"""

from __future__ import annotations

from typing import Any

import structlog

from rayguild.actors import cluster
from rayguild.actors import commands as c
from rayguild.actors.outbox import Outbox
from rayguild.actors.refs import Directory
from rayguild.config import Config
from rayguild.errors import ShardUnavailable
from rayguild.fanout.ordering import OrderedInbox, Sequenced
from rayguild.logs import configure_logging
from rayguild.relay import GuildPermissions, RelayCommand, RelayCore, RelayItem, SessionShardLost

log = structlog.get_logger("rayguild.relay")


def relay_inbox() -> OrderedInbox[RelayCommand]:
    """A relay's inbox of its guild's stream. It never forgets a stream for lack of its batch 0: the
    guild streams to a relay from the moment it creates it, so while the relay process starts,
    hundreds of batches queue, and Ray may run them before batch 0 (permissions and the first
    joins). A forgotten stream restarted at that batch 0 would hold every later batch forever: the
    guild's events reached the relay and went nowhere (the fan-out benchmark's silent zeros).
    Streams of a previous guild incarnation are dropped by ``_follow``, not by the inbox."""
    return OrderedInbox(max_orphaned=None)


class RelayHost:
    def __init__(
        self, guild_id: int, index: int, config: Config, permissions: GuildPermissions, prune_passive: bool
    ) -> None:
        configure_logging(config, relay=f"relay-{guild_id}-{index}", guild_id=guild_id)
        self.guild_id = guild_id
        self.index = index
        self.core = RelayCore(permissions, prune_passive, config.passive_idle_s)
        self.idle_s = config.passive_idle_s
        self.outbox = Outbox(Directory(config).transport, config, f"relay-{guild_id}-{index}")
        self.commands = 0
        # A restarted relay has lost its sessions: its first batch is refused, so the guild retires
        # it and rejoins them elsewhere (relay_loss.py) instead of streaming to an empty relay.
        self._restarted = cluster.actor_restarted()
        self._inbox = relay_inbox()
        self._guild_stream: int | None = None
        self._retired_streams: set[int] = set()

    async def handle(self, cmd: object) -> object:
        """Every relay operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.ApplyRelay(batch):
                return await self.apply(batch)
            case c.Start():
                return {"relay": f"relay-{self.guild_id}-{self.index}"}
            case c.Stats():
                return await self.stats()
        raise TypeError(f"a relay does not handle {type(cmd).__name__}")

    def _follow(self, stream: int) -> bool:
        """Track the guild's current stream. A new stream is a new guild incarnation: a relay of
        the same name left by the previous one starts empty (its sessions are no longer the
        guild's); batches of a replaced stream are dropped."""
        if stream == self._guild_stream:
            return True
        if stream in self._retired_streams:
            return False
        if self._guild_stream is not None:
            self._retired_streams.add(self._guild_stream)
            self.core = RelayCore(self.core.permissions, self.core.prune_passive, self.idle_s)
            self._inbox = relay_inbox()
        self._guild_stream = stream
        return True

    async def apply(self, batch: Sequenced[RelayCommand]) -> int:
        """Apply the guild's batches in stream order (no await inside); returns deliveries scheduled."""
        if self._restarted:
            self._restarted = False
            raise ShardUnavailable(f"relay-{self.guild_id}-{self.index} restarted and lost its sessions")
        if not self._follow(batch.stream):
            return 0
        scheduled = 0
        for commands in self._inbox.accept(batch):
            for command in commands:
                if isinstance(command, SessionShardLost):
                    self.outbox.restart(command.shard)  # addressed to the dead incarnation's slots
                    continue
                groups = self.core.apply(command)
                if groups and isinstance(command, RelayItem):
                    for shard, slots in groups.items():
                        self.outbox.add(shard, command.dispatch, slots)
                        scheduled += slots.size
            self.commands += len(commands)
        return scheduled

    async def stats(self) -> dict[str, Any]:
        active, passive = self.core.sessions.counts()
        return {
            "guild_id": self.guild_id,
            "sessions": len(self.core),
            "active": active,
            "passive": passive,
            "ray_calls": self.outbox.batcher.calls,
            "dropped_sessions": self.outbox.dropped_sessions,
            "memory_bytes": self.core.memory_bytes(),
            "commands": self.commands,
            "waiting_batches": self._inbox.waiting(),  # held back for an earlier batch (0 when idle)
            "peak_waiting_batches": self._inbox.peak_waiting,
            "peak_before_first_batches": self._inbox.peak_before_first,  # the old rule forgot at 64
            "orphaned_batches": self._inbox.orphaned,
        }
