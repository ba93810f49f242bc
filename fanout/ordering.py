"""Ordered streams over an unordered transport: each sender numbers its batches per destination,
each receiver applies a sender's batches in that order, whatever order they arrive in.

Ray runs a concurrent (async) actor's calls as their arguments become ready, not strictly in
submission order, so order is made explicit here rather than assumed. Guarantees: a receiver
applies batch ``seq`` of a stream only after ``0..seq-1`` of that stream, never twice.
Every stream starts at seq 0, so a receiver never guesses where a stream began: a sender whose
receiver restarted opens a new stream to it (``restart``), and batches of a stream that began
before the receiver's restart never start (they were addressed to its previous incarnation).
Bounds: at most ``max_pending`` early batches per stream wait for a late one (beyond that the
stream is declared broken: ``StreamBroken``); a stream that never saw its batch 0 is forgotten
after ``max_orphaned`` batches (None: never), at most ``max_streams`` streams are remembered (LRU).
Forgetting is only right where a stream without its batch 0 can only be a dead incarnation's: a
receiver whose senders may open a stream while it is still starting (a relay: its guild streams to
it from the moment it is created) must not forget, or a batch 0 overtaken by ``max_orphaned``
later ones would restart the stream and every later batch would wait forever, silently.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class Sequenced(Generic[Item]):
    """Batch ``seq`` of sender stream ``stream`` towards one destination."""

    stream: int
    seq: int
    items: list[Item]


class StreamBroken(RuntimeError):
    """Too many batches arrived ahead of a missing one: the missing one is taken as lost."""


class StreamSequencer:
    """The sending half: per destination, a stream id and the next seq."""

    def __init__(self) -> None:
        self._streams: dict[Hashable, list[int]] = {}  # destination -> [stream id, next seq]

    def wrap(self, destination: Hashable, items: list[Item]) -> Sequenced[Item]:
        """Number ``items`` as the next batch to ``destination``; call in submission order."""
        state = self._streams.get(destination)
        if state is None:
            state = self._streams[destination] = [secrets.randbits(63), 0]
        state[1] += 1
        return Sequenced(state[0], state[1] - 1, items)

    def restart(self, destination: Hashable) -> None:
        """The destination restarted empty: the next batch opens a new stream at seq 0."""
        self._streams.pop(destination, None)


@dataclass(slots=True)
class _Stream(Generic[Item]):
    expected: int
    pending: dict[int, list[Item]] = field(default_factory=dict)


class OrderedInbox(Generic[Item]):
    """The receiving half: hands back, in stream order, every batch that became applicable."""

    def __init__(
        self, max_pending: int = 4096, max_orphaned: int | None = 64, max_streams: int = 4096
    ) -> None:
        self._max_pending = max_pending
        self._max_orphaned = max_orphaned
        self._max_streams = max_streams
        self._streams: OrderedDict[int, _Stream[Item]] = OrderedDict()
        self.late = 0
        self.orphaned = 0
        self.peak_waiting = 0  # the most batches one stream ever held back (how far arrival reordered)
        self.peak_before_first = 0  # ... while its batch 0 had not arrived (what max_orphaned bounds)

    def accept(self, batch: Sequenced[Item]) -> list[list[Item]]:
        stream = self._streams.get(batch.stream)
        if stream is None:
            stream = _Stream(0)
            self._streams[batch.stream] = stream
            while len(self._streams) > self._max_streams:
                self._streams.popitem(last=False)
        else:
            self._streams.move_to_end(batch.stream)
        if batch.seq < stream.expected:
            self.late += 1
            return []
        stream.pending[batch.seq] = batch.items
        held = len(stream.pending) - (batch.seq == stream.expected)
        self.peak_waiting = max(self.peak_waiting, held)
        if stream.expected == 0:
            self.peak_before_first = max(self.peak_before_first, held)
        ready = []
        while stream.expected in stream.pending:
            ready.append(stream.pending.pop(stream.expected))
            stream.expected += 1
        if (
            stream.expected == 0
            and self._max_orphaned is not None
            and len(stream.pending) > self._max_orphaned
        ):
            # Never saw its batch 0: a stream from before this receiver's restart.
            self.orphaned += len(stream.pending)
            del self._streams[batch.stream]
            return []
        if len(stream.pending) > self._max_pending:
            del self._streams[batch.stream]
            raise StreamBroken(f"stream {batch.stream:x} waited for batch {stream.expected} too long")
        return ready

    def waiting(self) -> int:
        """Batches held back until an earlier one of their stream arrives."""
        return sum(len(s.pending) for s in self._streams.values())
