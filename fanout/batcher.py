"""Manifold's send step: coalesce a tick's events per destination into ONE call, in order.

``add`` appends to the destination's pending batch; a batch is sent when the tick ends or when
it reaches ``max_batch_events``. Per destination, batches are sent in the order they were
filled, so a receiver sees events in emission order. Bounded: when a destination already has
``max_in_flight`` unacknowledged sends, its next batch is refused and handed to ``on_overflow``
(the documented policy: the lagging sessions are told to resume) instead of queueing forever.
A send that fails (the destination died) goes to ``on_failure`` (by default the same callback).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Send = Callable[[int, list[Item]], Awaitable[object]]


class TickBatcher(Generic[Item]):
    def __init__(
        self,
        send: Send[Item],
        tick_s: float,
        max_batch_events: int,
        max_in_flight: int,
        on_overflow: Callable[[int, list[Item]], None],
        on_failure: Callable[[int, list[Item]], None] | None = None,
    ) -> None:
        self._send = send
        self._on_failure = on_failure or on_overflow
        self._tick_s = tick_s
        self._max_batch = max_batch_events
        self._max_in_flight = max_in_flight
        self._on_overflow = on_overflow
        self._pending: dict[int, list[Item]] = {}
        self._in_flight: dict[int, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tasks_to: dict[int, set[asyncio.Task[None]]] = {}  # the same tasks, per destination
        self.calls = 0
        self.overflows = 0
        self.failures = 0
        self.last_failure: Exception | None = None

    def add(self, destination: int, item: Item) -> None:
        batch = self._pending.setdefault(destination, [])
        batch.append(item)
        if len(batch) >= self._max_batch:
            self._flush_one(destination)
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._tick_s, self.flush)

    def flush(self) -> None:
        """Send every pending batch now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for destination in list(self._pending):
            self._flush_one(destination)

    def _flush_one(self, destination: int) -> None:
        batch = self._pending.pop(destination, None)
        if not batch:
            return
        if self._in_flight.get(destination, 0) >= self._max_in_flight:
            self.overflows += 1
            self._on_overflow(destination, batch)
            return
        self._in_flight[destination] = self._in_flight.get(destination, 0) + 1
        self.calls += 1
        # The send is issued NOW (submission order is delivery order); only its completion is awaited.
        awaitable = self._send(destination, batch)
        task = asyncio.ensure_future(self._settle(destination, batch, awaitable))
        self._tasks.add(task)
        self._tasks_to.setdefault(destination, set()).add(task)
        task.add_done_callback(lambda t: self._settled(destination, t))

    def _settled(self, destination: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        tasks = self._tasks_to.get(destination)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._tasks_to[destination]

    async def _settle(self, destination: int, batch: list[Item], awaitable: Awaitable[object]) -> None:
        try:
            await awaitable
        except Exception as err:
            self.failures += 1
            self.last_failure = err
            self._on_failure(destination, batch)
        finally:
            self._in_flight[destination] -= 1

    def discard(self, destination: int) -> int:
        """Drop the destination's pending (not yet sent) batch; returns how many items."""
        return len(self._pending.pop(destination, []))

    def idle(self) -> bool:
        """Nothing pending and nothing in flight."""
        return not self._pending and not self._tasks

    def in_flight_total(self) -> int:
        return sum(self._in_flight.values())

    def in_flight(self, destination: int) -> int:
        return self._in_flight.get(destination, 0)

    async def drain(self) -> None:
        """Flush and wait until every send issued so far has completed."""
        self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain_to(self, destination: int) -> None:
        """Flush ``destination``'s batch and wait until the sends to it issued so far completed
        (or failed). Sends issued meanwhile are not waited for (under steady traffic there always
        is one), nor is a slow or restarting other destination."""
        self._flush_one(destination)
        issued = list(self._tasks_to.get(destination, ()))
        if issued:
            await asyncio.gather(*issued, return_exceptions=True)
