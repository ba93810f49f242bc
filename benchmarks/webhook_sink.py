"""A local webhook endpoint for push tests and benchmarks: it deduplicates by ``Idempotency-Key``.

``fail_first`` makes each key's first attempts answer 500 (a flaky endpoint); ``down`` makes
every attempt answer 503. A retry of an already accepted key is answered 200 and counted as a
duplicate, never accepted twice: the receiver side of the push shard's guarantee.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web

KEY_HEADER = "Idempotency-Key"


class WebhookSink:
    def __init__(self, fail_first: int = 0, delay_s: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.down = False
        self.attempts: Counter[str] = Counter()  # key -> requests received
        self.accepted: dict[str, bytes] = {}  # key -> body, first accepted delivery
        self.duplicates = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.url = ""

    async def _receive(self, request: web.Request) -> web.Response:
        key = request.headers.get(KEY_HEADER, "")
        body = await request.read()
        self.attempts[key] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if not key:
                return web.Response(status=400, text="no Idempotency-Key")
            if self.down:
                return web.Response(status=503)
            if self.attempts[key] <= self.fail_first:
                return web.Response(status=500)
            if key in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[key] = body
                self._changed.set()
            return web.Response(status=200)
        finally:
            self.in_flight -= 1

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/push", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}/push"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_accepted(self, count: int, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while len(self.accepted) < count:
                self._changed.clear()
                await self._changed.wait()
