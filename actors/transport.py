"""How a command reaches a shard: a ``Transport`` names shards and hands out their endpoints.

Two transports run the same clients and bodies: Ray's (``rayguild.actors.cluster.RayTransport``,
every shard a named actor) and ``LocalTransport`` (every body in this process, for tests and a
single-process node). Both keep what the rest relies on: a command is submitted when ``send`` is
called (the body starts on commands in submission order), the answer is awaited separately,
and an unknown or dead shard raises ``ShardUnavailable``. Ordering across concurrent commands
and back-pressure are NOT the transport's job: the ``Outbox`` above it numbers batches and
bounds what is in flight, identically on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol

from rayguild.errors import ShardUnavailable


class Endpoint(Protocol):
    """One shard, as a caller sees it."""

    name: str

    def send(self, command: object) -> Awaitable[Any]:
        """Submit ``command`` now; await the result (or a ``RayguildError``)."""
        ...

    def notify(self, command: object) -> None:
        """Submit ``command`` and do not wait: nobody needs its answer."""
        ...


class Transport(Protocol):
    def endpoint(self, name: str) -> Endpoint:
        """The shard named ``name`` (``guild-0``, ``session-3``...); cheap, cached."""
        ...


class Body(Protocol):
    async def handle(self, cmd: object) -> object: ...


class LocalEndpoint:
    def __init__(self, transport: LocalTransport, name: str) -> None:
        self._transport = transport
        self.name = name

    def send(self, command: object) -> asyncio.Future[Any]:
        body = self._transport.bodies.get(self.name)
        if body is None:
            raise ShardUnavailable(f"no shard named {self.name} in this process")
        return asyncio.ensure_future(body.handle(command))  # started in submission order

    def notify(self, command: object) -> None:
        task = self.send(command)
        self._transport.background.add(task)
        task.add_done_callback(self._transport.background.discard)


class LocalTransport:
    """Every shard body in this process, by name (registered by whoever builds them)."""

    def __init__(self) -> None:
        self.bodies: dict[str, Body] = {}
        self.background: set[asyncio.Future[Any]] = set()
        self._endpoints: dict[str, LocalEndpoint] = {}

    def register(self, name: str, body: Body) -> None:
        self.bodies[name] = body

    def endpoint(self, name: str) -> LocalEndpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            endpoint = self._endpoints[name] = LocalEndpoint(self, name)
        return endpoint
