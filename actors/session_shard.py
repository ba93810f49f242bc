"""The session shard's plain body: its sessions, and the one dispatch of the session-shard commands.

Runs as is in process (``LocalCluster``) and inside the Ray host (``session_host``). Batches from
every sender (guild shards, relays, user shards) are applied in each sender's stream order
(``OrderedInbox``), with no await inside, so a batch is applied atomically; a broken stream is
logged and counted, never applied out of order.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import numpy as np
import structlog

from rayguild.actors import commands as c
from rayguild.actors.guild_loss import GuildConnector, GuildLoss
from rayguild.actors.handoff import HandedOver, Handoffs, SessionSummary
from rayguild.actors.presence import SessionPresence
from rayguild.actors.session import SessionShardCore, SessionState
from rayguild.actors.session_presence import SessionPresences, live_records
from rayguild.actors.transport import Endpoint
from rayguild.config import Config
from rayguild.fanout.events import Dispatch
from rayguild.fanout.ordering import OrderedInbox, Sequenced, StreamBroken
from rayguild.fanout.partition import Slots
from rayguild.ids import SessionId
from rayguild.ring import RingSnapshot, shard_name

log = structlog.get_logger("rayguild.session")

RECONNECT = b'{"op":7,"s":null,"t":null,"d":null}'
DRAIN_CLOSE = 4000  # resumable: the client resumes (on another edge) after op 7


class SessionShard:
    def __init__(
        self,
        index: int,
        config: Config,
        guild_ring: RingSnapshot,
        presence_ring: RingSnapshot,
        guilds: GuildConnector | None = None,
    ) -> None:
        self.index = index
        presences = SessionPresences(config.presence_backlog_frames, config.presence_updates_per_minute)
        self.core = SessionShardCore(index, config.replay_buffer_events, presence=presences)
        self.handoffs = Handoffs(self.core)
        self.guild_loss = GuildLoss(self.core, guild_ring)
        self.guild_loss.guilds = guilds
        self.guild_ring = guild_ring
        self.presence_ring = presence_ring
        self.inbox: OrderedInbox[tuple[Dispatch, Slots]] = OrderedInbox()
        self.broken_streams = 0

    async def handle(self, cmd: object) -> object:
        """Every session-shard operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.Deliver(batch):
                return self.deliver(batch)
            case c.Invalidate(slots):
                return self.core.invalidate(np.asarray(slots, dtype=np.int32))
            case c.DescribeSession(session_id, user_id):
                return self.handoffs.describe(session_id, user_id)
            case c.TakeSession(session_id, user_id, seq, moved, known):
                # waits for its guilds' moved markers (handoff.py)
                return await self.handoffs.take(session_id, user_id, seq, list(moved), list(known))
            case c.GuildShardLost(index, since_ns):
                return self.guild_loss.lost(index, since_ns)
            case c.PresenceReport(presence_index):
                return self.presence_report(presence_index)
            case c.PresenceResync():
                return self.core.presence.mark_all_stale()
            case c.Drain():
                return self.drain()
            case c.Stats():
                return self.stats()
        raise TypeError(f"a session shard does not handle {type(cmd).__name__}")

    def deliver(self, sequenced: Sequenced[tuple[Dispatch, Slots]]) -> int:
        """Apply a sender's batches in its stream order (no await inside: atomic)."""
        try:
            ready = self.inbox.accept(sequenced)
        except StreamBroken as err:
            self.broken_streams += 1
            log.error("delivery stream broken; a batch was lost", shard=self.index, error=str(err))
            return 0
        delivered = 0
        for batch in ready:
            count = self.core.deliver(batch)
            delivered += count
            for observe in self.core.observers:
                observe(batch, count)
        return delivered

    def drain(self) -> int:
        """op 7 to every connected session, then its socket closes resumable (the session stays
        here, detached, until another edge takes it over: ``rayguild.actors.handoff``)."""
        told = 0
        for session in list(self.core.sessions.values()):
            sink = session.sink
            if session.state is SessionState.CONNECTED and sink is not None:
                sink.write(RECONNECT)
                sink.close(DRAIN_CLOSE, "Reconnect: this edge is draining")
                told += 1
        log.info("session shard drained", shard=self.index, sessions=told)
        return told

    def presence_report(self, presence_index: int) -> list[SessionPresence]:
        """This shard's live sessions whose user presence shard ``presence_index`` owns."""
        name, owner = shard_name("presence", presence_index), self.presence_ring.owner
        return live_records(self.core, lambda user_id: owner(user_id) == name)

    def stats(self) -> dict[str, Any]:
        return {
            "sessions": len(self.core.sessions),
            "slots": self.core.slot_count,
            "frames_out": self.core.frames_out,
            "broken_streams": self.broken_streams,
            "waiting_batches": self.inbox.waiting(),  # held back for an earlier batch of their stream
            "peak_waiting_batches": self.inbox.peak_waiting,
            "peak_before_first_batches": self.inbox.peak_before_first,
            "orphaned_batches": self.inbox.orphaned,  # of streams never seen from batch 0 (forgotten)
        }


class SessionShardRef:
    """The session shard's typed client."""

    def __init__(self, ref: Endpoint) -> None:
        self.ref = ref

    def deliver(self, batch: Sequenced[tuple[Dispatch, Slots]]) -> Awaitable[Any]:
        """Submit a batch now (order of submission is order of delivery); await for the count."""
        return self.ref.send(c.Deliver(batch))

    def invalidate(self, slots: list[int]) -> None:
        """Tell the shard these slots' sessions missed events (not awaited: nobody needs the count)."""
        self.ref.notify(c.Invalidate(tuple(slots)))

    async def describe(self, session_id: str, user_id: int) -> SessionSummary | None:
        summary: SessionSummary | None = await self.ref.send(
            c.DescribeSession(SessionId(session_id), user_id)
        )
        return summary

    async def take(
        self, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        command = c.TakeSession(SessionId(session_id), user_id, seq, tuple(moved), tuple(known))
        handed: HandedOver | None = await self.ref.send(command)
        return handed

    async def drain(self) -> int:
        """op 7 to the shard's connected sessions; how many were told."""
        return int(await self.ref.send(c.Drain()))

    async def stats(self) -> dict[str, Any]:
        return dict(await self.ref.send(c.Stats()))
