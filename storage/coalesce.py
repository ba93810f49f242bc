"""Single-flight reads: identical reads in flight share one query, as Discord's data services do.

Keys are grouped by scope (a channel, a guild, a user...). A write calls ``forget(scope)`` once it
is acknowledged, so a read that starts after a write never joins a query issued before it:
coalescing never hides a caller's own acknowledged write. A caller that is cancelled does not
cancel the shared query for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """Runs at most one query per (scope, key) at a time; later identical callers await it."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, dict[Hashable, asyncio.Task[Any]]] = {}
        self.shared = 0  # callers that joined a query already in flight (for tests and metrics)

    async def run(self, scope: Hashable, key: Hashable, query: Callable[[], Awaitable[T]]) -> T:
        flights = self._flights.setdefault(scope, {})
        task = flights.get(key)
        if task is None:
            task = asyncio.ensure_future(query())
            flights[key] = task
            task.add_done_callback(lambda done: self._finish(scope, key, done))
        else:
            self.shared += 1
        result: T = await asyncio.shield(task)
        return result

    def forget(self, *scopes: Hashable) -> None:
        """Queries in flight for ``scopes`` are no longer joined by new callers."""
        for scope in scopes:
            self._flights.pop(scope, None)

    def _finish(self, scope: Hashable, key: Hashable, task: asyncio.Task[Any]) -> None:
        flights = self._flights.get(scope)
        if flights is not None and flights.get(key) is task:
            del flights[key]
            if not flights:
                del self._flights[scope]
        if not task.cancelled():
            task.exception()  # retrieved here so an error nobody awaited is not logged as lost
