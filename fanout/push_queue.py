"""The push shard's bounded, demand-driven buffer (GenStage's producer), as plain synchronous code.

Guarantees:
- bounded: at most ``capacity`` deliveries are outstanding (ready, waiting to retry, or in
  flight); ``admit`` refuses the rest at once and counts them as shed, never queues silently;
- no duplicates: a delivery whose key is already outstanding is refused (counted), so a
  resubmitted notification is never pushed twice by one shard;
- demand: a pusher ``pull``s at most its free demand (``max_in_flight`` minus what it has in
  flight) per provider; retries wait out their backoff outside the in-flight count.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to one device; ``key`` is its idempotency key (sent as a header)."""

    key: str
    user_id: int
    provider: str
    token: str
    body: str
    attempt: int = 0


@dataclass(slots=True)
class PushCounters:
    accepted: int = 0
    shed: int = 0
    duplicates: int = 0
    delivered: int = 0
    retried: int = 0
    given_up: int = 0


def backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform(0, min(max_s, base_s * 2**attempt))."""
    return rng.uniform(0.0, min(max_s, base_s * (2.0**attempt)))


@dataclass
class PushBuffer:
    capacity: int
    max_in_flight: int
    counters: PushCounters = field(default_factory=PushCounters)
    _ready: dict[str, deque[Delivery]] = field(default_factory=dict)
    _waiting: list[tuple[float, int, Delivery]] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set)
    _in_flight: dict[str, int] = field(default_factory=dict)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def __len__(self) -> int:
        """Outstanding deliveries: ready, waiting to retry, or in flight."""
        return len(self._keys)

    def admit(self, deliveries: list[Delivery], over_capacity: bool = False) -> list[Delivery]:
        """The deliveries taken (duplicates and, unless ``over_capacity``, those beyond the bound
        are refused and counted); the caller persists them and calls ``ready`` or ``forget``."""
        taken = []
        for delivery in deliveries:
            if delivery.key in self._keys:
                self.counters.duplicates += 1
            elif len(self._keys) >= self.capacity and not over_capacity:
                self.counters.shed += 1
            else:
                self._keys.add(delivery.key)
                taken.append(delivery)
        return taken

    def ready(self, deliveries: list[Delivery]) -> None:
        """Admitted deliveries, now durable: pushers may pull them."""
        self.counters.accepted += len(deliveries)
        for delivery in deliveries:
            self._ready.setdefault(delivery.provider, deque()).append(delivery)

    def forget(self, deliveries: list[Delivery]) -> None:
        """Admitted deliveries that could not be persisted: never acknowledged, never pushed."""
        for delivery in deliveries:
            self._keys.discard(delivery.key)

    def pull(self, provider: str, now: float) -> list[Delivery]:
        """Up to the provider's free demand of ready deliveries (due retries first join the queue)."""
        while self._waiting and self._waiting[0][0] <= now:
            _, _, delivery = heapq.heappop(self._waiting)
            self._ready.setdefault(delivery.provider, deque()).appendleft(delivery)
        queue = self._ready.get(provider)
        in_flight = self._in_flight.get(provider, 0)
        demand = self.max_in_flight - in_flight
        if not queue or demand <= 0:
            return []
        taken = [queue.popleft() for _ in range(min(demand, len(queue)))]
        self._in_flight[provider] = in_flight + len(taken)
        return taken

    def delivered(self, delivery: Delivery) -> None:
        self._settle(delivery)
        self.counters.delivered += 1

    def give_up(self, delivery: Delivery) -> None:
        self._settle(delivery)
        self.counters.given_up += 1

    def retry(self, delivery: Delivery, at: float) -> None:
        """A failed attempt: the delivery waits until ``at`` (not in flight meanwhile)."""
        self._in_flight[delivery.provider] -= 1
        self.counters.retried += 1
        again = replace(delivery, attempt=delivery.attempt + 1)
        heapq.heappush(self._waiting, (at, next(self._order), again))

    def next_due(self) -> float | None:
        """When the earliest waiting retry is due (None: none waits)."""
        return self._waiting[0][0] if self._waiting else None

    def in_flight(self, provider: str) -> int:
        return self._in_flight.get(provider, 0)

    def _settle(self, delivery: Delivery) -> None:
        self._in_flight[delivery.provider] -= 1
        self._keys.discard(delivery.key)
