"""PushShard: delivers notifications (mentions, DMs) to the devices of users with no active session.

Placed on the ring by user id. Guarantees:
- an accepted notification is durable: its deliveries (one per registered device) are written to
  the shard's outbox in storage BEFORE ``submit`` returns; a delivery leaves the outbox only once
  the device's endpoint answered 2xx, or it was given up (a permanent 4xx, or
  ``push_max_attempts`` failed attempts, each counted and logged);
- a restarted shard (or one started again after a stop) replays its whole outbox, so no accepted,
  undelivered notification is lost;
- every attempt of one (notification, device) carries the same ``Idempotency-Key`` header, and
  within one incarnation a delivery that got its 2xx is never sent again. A crash between the
  endpoint's 2xx and the outbox delete resends it after the restart WITH THE SAME KEY: delivery
  is at least once, exactly once for an endpoint that deduplicates by the key;
- bounded: at most ``push_buffer`` deliveries are outstanding; beyond, ``submit`` sheds at once
  (counted, nothing persisted) instead of queueing; at most ``push_max_in_flight`` requests are in
  flight per provider connection (demand-driven pulls, Discord's GenStage design), and failed
  attempts wait out a full-jitter exponential backoff without holding an in-flight slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from typing import Any, Protocol

import orjson
import structlog

from rayguild.actors import commands as c
from rayguild.actors.transport import Endpoint
from rayguild.config import Config
from rayguild.egress import EgressPolicy, EgressRefused, opener
from rayguild.fanout.push_queue import Delivery, PushBuffer, backoff_s
from rayguild.storage.models import PendingPush
from rayguild.storage.protocol import MAX_PUSH_PAGE, Storage

log = structlog.get_logger("rayguild.push")

PROVIDERS = ("webhook",)
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELETE_BATCH = 256


class PushTransport(Protocol):
    """One provider connection: posts a notification to a device endpoint."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        """The endpoint's HTTP status; raises OSError/TimeoutError when there is no answer."""
        ...

    async def close(self) -> None: ...


TransportFactory = Callable[[Config], PushTransport]


class UrllibTransport:
    """The default transport inside actors (which never import aiohttp): urllib in a thread pool
    with one thread per in-flight request, so the pool is the connection's demand bound. It
    connects only where ``Config.push_allowed_networks`` lets it (``rayguild.egress``)."""

    def __init__(self, config: Config) -> None:
        self._pool = ThreadPoolExecutor(config.push_max_in_flight, thread_name_prefix="push")
        self._opener = opener(EgressPolicy.of(config.push_allowed_networks))

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._post, url, body, dict(headers), timeout_s
        )

    def _post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=timeout_s) as response:
                return int(response.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except urllib.error.URLError as err:
            if isinstance(err.reason, EgressRefused):
                raise err.reason from err
            raise OSError(str(err.reason)) from err

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class PushRequest:
    """Notify ``user_id`` of ``data`` (``kind``: "mention" or "dm"); the id makes it idempotent."""

    notification_id: str
    user_id: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubmitResult:
    accepted: int  # deliveries persisted and queued
    shed: int  # refused: the buffer was full
    duplicates: int  # already outstanding here
    no_device: int  # requests whose user has no registered device

    @staticmethod
    def total(results: Iterable[SubmitResult]) -> SubmitResult:
        """The results of several shards, added up."""
        rows = [astuple(r) for r in results]
        return SubmitResult(*(sum(column) for column in zip(*rows, strict=True))) if rows else NOTHING


NOTHING = SubmitResult(0, 0, 0, 0)


def idempotency_key(notification_id: str, token: str) -> str:
    return f"{notification_id}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def _permanent(status: int) -> bool:
    return 400 <= status < 500 and status not in (408, 425, 429)


class PushShard:
    """The actor body: the buffer, the outbox, and one pusher per provider connection."""

    def __init__(
        self,
        index: int,
        config: Config,
        storage: Storage,
        transport: PushTransport,
        rng: random.Random | None = None,
    ) -> None:
        self.index = index
        self.config = config
        self.storage = storage
        self.transport = transport
        self.buffer = PushBuffer(config.push_buffer, config.push_max_in_flight)
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._done: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._attempts: set[asyncio.Task[None]] = set()
        self.replayed = 0
        self.posts = 0

    async def start(self) -> dict[str, Any]:
        """Open storage, replay the outbox, start pushing; idempotent."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        try:
            await self._started
        except Exception:
            self._started = None
            raise
        return {"shard": f"push-{self.index}", "replayed": self.replayed}

    async def _start(self) -> None:
        await self.storage.start()
        after = ""
        while page := await self.storage.list_pushes(self.index, after, MAX_PUSH_PAGE):
            rows = [Delivery(p.key, p.user_id, p.provider, p.token, p.body) for p in page]
            self.buffer.ready(self.buffer.admit(rows, over_capacity=True))
            self.replayed += len(rows)
            after = page[-1].key
        if self.replayed:
            log.warning("push outbox replayed", shard=self.index, deliveries=self.replayed)
        self._pump = asyncio.create_task(self._run())

    async def handle(self, cmd: object) -> object:
        """Every push-shard operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.SubmitPush(requests):
                return await self.submit(list(requests))
            case c.Start():
                return await self.start()
            case c.Stats():
                return await self.stats()
        raise TypeError(f"a push shard does not handle {type(cmd).__name__}")

    async def submit(self, requests: list[PushRequest]) -> SubmitResult:
        """Accept notifications: durable in the outbox before this returns (see the module doc)."""
        await self.start()
        deliveries, no_device = [], 0
        for request in requests:
            devices = await self.storage.list_devices(request.user_id)
            no_device += not devices
            body = orjson.dumps(
                {"id": request.notification_id, "kind": request.kind, "user_id": str(request.user_id),
                 "data": request.data}
            ).decode()  # fmt: skip
            deliveries += [
                Delivery(
                    idempotency_key(request.notification_id, d.token), d.user_id, d.provider, d.token, body
                )
                for d in devices
                if d.provider in PROVIDERS
            ]
        shed, dup = self.buffer.counters.shed, self.buffer.counters.duplicates
        taken = self.buffer.admit(deliveries)
        result = SubmitResult(
            len(taken), self.buffer.counters.shed - shed, self.buffer.counters.duplicates - dup, no_device
        )
        if result.shed:
            log.warning("push buffer full; shed", shard=self.index, shed=result.shed)
        if not taken:
            return result
        now_ms = time.time_ns() // 1_000_000
        try:
            await self.storage.put_pushes(
                [
                    PendingPush(self.index, d.key, d.user_id, d.provider, d.token, d.body, now_ms)
                    for d in taken
                ]
            )
        except BaseException:
            self.buffer.forget(taken)
            raise
        self.buffer.ready(taken)
        self._wake.set()
        return result

    async def _run(self) -> None:
        """The pusher: pull up to the free demand of each provider connection, then sleep until an
        attempt finishes, a submit arrives, or the next retry is due."""
        while True:
            now = time.monotonic()
            for provider in PROVIDERS:
                for delivery in self.buffer.pull(provider, now):
                    task = asyncio.create_task(self._attempt(delivery))
                    self._attempts.add(task)
                    task.add_done_callback(self._attempts.discard)
            due = self.buffer.next_due()
            self._wake.clear()
            timeout = None if due is None else max(0.0, due - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _attempt(self, delivery: Delivery) -> None:
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: delivery.key}
        status: int | None = None
        refused = False
        try:
            self.posts += 1
            status = await asyncio.wait_for(
                self.transport.post(
                    delivery.token, delivery.body.encode(), headers, self.config.push_timeout_s
                ),
                self.config.push_timeout_s,
            )
        except EgressRefused as exc:  # the device's host is (now) a refused address: never retried
            refused = True
            log.warning("push destination refused", key=delivery.key, error=str(exc))
        except Exception as exc:  # no answer (refused, reset, timeout, bad URL): retry later
            log.info("push attempt failed", key=delivery.key, attempt=delivery.attempt, error=str(exc))
        if status is not None and 200 <= status < 300:
            self.buffer.delivered(delivery)
            self._forget_row(delivery.key)
        elif (
            refused or (status is not None and _permanent(status))
        ) or delivery.attempt + 1 >= self.config.push_max_attempts:
            self.buffer.give_up(delivery)
            self._forget_row(delivery.key)
            log.warning("push given up", key=delivery.key, status=status, attempts=delivery.attempt + 1)
        else:
            wait = backoff_s(
                delivery.attempt, self.config.push_backoff_base_s, self.config.push_backoff_max_s, self._rng
            )
            self.buffer.retry(delivery, time.monotonic() + wait)
        self._wake.set()

    def _forget_row(self, key: str) -> None:
        """Delete finished rows from the outbox in batches (a lost delete only means a keyed resend
        after a restart)."""
        self._done.append(key)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_done())

    async def _flush_done(self) -> None:
        while self._done:
            keys, self._done = self._done[:DELETE_BATCH], self._done[DELETE_BATCH:]
            try:
                await self.storage.delete_pushes(self.index, keys)
            except Exception as exc:
                log.warning("push outbox delete failed", shard=self.index, rows=len(keys), error=str(exc))

    async def idle(self) -> bool:
        """Nothing outstanding and every finished row deleted from the outbox."""
        return len(self.buffer) == 0 and not self._done and (self._flusher is None or self._flusher.done())

    async def stop(self) -> None:
        for task in [self._pump, *self._attempts]:
            if task is not None:
                task.cancel()
        await self.transport.close()

    async def stats(self) -> dict[str, Any]:
        c = self.buffer.counters
        return {
            "outstanding": len(self.buffer), "accepted": c.accepted, "shed": c.shed,
            "duplicates": c.duplicates, "delivered": c.delivered, "retried": c.retried,
            "given_up": c.given_up, "replayed": self.replayed, "posts": self.posts,
            "in_flight": {p: self.buffer.in_flight(p) for p in PROVIDERS},
        }  # fmt: skip


class PushShardRef:
    """The push shard's typed client."""

    def __init__(self, ref: Endpoint) -> None:
        self.ref = ref

    async def submit(self, requests: list[PushRequest]) -> SubmitResult:
        result: SubmitResult = await self.ref.send(c.SubmitPush(tuple(requests)))
        return result

    async def stats(self) -> dict[str, Any]:
        return dict(await self.ref.send(c.Stats()))
