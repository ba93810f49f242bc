"""The ONE way batches leave a sender (guild shard, relay, user shard) for the session shards.

Per tick, a sender's dispatches are coalesced into one batch per session shard (``TickBatcher``);
each batch is numbered in its destination's stream (``StreamSequencer``) so the session shard
applies a sender's batches in order whatever order they arrive in (``OrderedInbox`` there).
Bounded: at most ``max_pending_batches`` sends per destination are in flight; a batch beyond
that is not queued but turned into the documented lag policy: its sessions are told to
re-identify (op 9, ``Invalidate``). A send that fails (the shard died) is logged: its sessions
died with it, and its next incarnation has every sender forget them (``restart``). The same
outbox runs on Ray and in process, so tests in one process exercise this ordering and bound.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog

from rayguild.actors import commands as c
from rayguild.actors.transport import Endpoint, Transport
from rayguild.config import Config
from rayguild.fanout.batcher import TickBatcher
from rayguild.fanout.events import Dispatch
from rayguild.fanout.ordering import StreamSequencer
from rayguild.fanout.partition import Slots
from rayguild.ring import shard_name

log = structlog.get_logger("rayguild.outbox")

Batch = list[tuple[Dispatch, Slots]]


def session_endpoint(transport: Transport, shard: int) -> Endpoint:
    return transport.endpoint(shard_name("session", shard))


class Outbox:
    def __init__(self, transport: Transport, config: Config, sender: str) -> None:
        self.transport = transport
        self.sender = sender
        self.sequencer = StreamSequencer()
        self.batcher: TickBatcher[tuple[Dispatch, Slots]] = TickBatcher(
            self._send,
            config.tick_ms / 1000,
            config.max_batch_events,
            config.max_pending_batches,
            self.lagging,
            self._failed,
        )
        self.dropped_sessions = 0

    def add(self, shard: int, dispatch: Dispatch, slots: Slots) -> None:
        self.batcher.add(shard, (dispatch, slots))

    def restart(self, shard: int) -> int:
        """Session shard ``shard`` restarted empty: drop what waited for its previous incarnation;
        the next batch opens a new stream at seq 0. Returns how many items were dropped."""
        self.sequencer.restart(shard)
        return self.batcher.discard(shard)

    async def drain(self) -> None:
        await self.batcher.drain()

    async def drain_to(self, shard: int) -> None:
        """Until what was added for session shard ``shard`` so far was delivered (or failed)."""
        await self.batcher.drain_to(shard)

    def invalidate(self, shard: int, slots: list[int]) -> None:
        """Tell these sessions of ``shard`` to re-identify (op 9): what they missed can not be
        delivered to them any more."""
        session_endpoint(self.transport, shard).notify(c.Invalidate(tuple(slots)))

    def _send(self, shard: int, batch: Batch) -> Awaitable[Any]:
        return session_endpoint(self.transport, shard).send(c.Deliver(self.sequencer.wrap(shard, batch)))

    def lagging(self, shard: int, batch: Batch) -> None:
        """The lag policy: the sessions of ``batch`` missed events, so they must re-identify."""
        slots = tuple(sorted({int(s) for _, group in batch for s in group.tolist()}))
        session_endpoint(self.transport, shard).notify(c.Invalidate(slots))
        self.dropped_sessions += len(slots)
        log.warning(
            "session shard lagging; its sessions must re-identify",
            sender=self.sender, shard=shard, events=len(batch), sessions=len(slots),
        )  # fmt: skip

    def _failed(self, shard: int, batch: Batch) -> None:
        """Nothing to invalidate: its restarted incarnation has every sender forget those sessions
        before reusing any slot (and a slot-addressed notice now would hit the new ones)."""
        log.warning("session shard unreachable; its sessions died with it", sender=self.sender, shard=shard)
