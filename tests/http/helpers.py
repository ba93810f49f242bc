"""Plain helpers the REST tests and the contract tests share (no fixtures: conftest.py has those)."""

from __future__ import annotations

import asyncio
from typing import Any

from rayguild.errors import StorageUnavailable

MARK = "slowmode:"  # the settings documents slowmode claims by compare-and-set


class MarkProbe:
    """Watches and disturbs the settings documents named ``prefix`` (by default the slowmode
    marks) in every storage object it wraps (each edge has its own): ``gate(n)`` holds the first
    ``n`` reads of one until all ``n`` arrived, so ``n`` requests surely overlap; ``lost`` counts swaps that returned False; ``timeouts`` lists
    what the next swaps do instead of answering: "applied" (store, then raise StorageUnavailable,
    as a Cassandra CAS write timeout after the commit), "unapplied" (raise without storing), or
    "down" (raise without storing, and the re-read of the mark raises too)."""

    def __init__(self, prefix: str = MARK) -> None:
        self.prefix, self.lost, self.timeouts = prefix, 0, list[str]()
        self._gate: asyncio.Barrier | None = None
        self._gated, self._down = 0, False

    def gate(self, parties: int) -> None:
        self._gate, self._gated = asyncio.Barrier(parties), 0

    def wrap(self, storage: Any) -> Any:
        return _Probed(storage, self)


class _Probed:
    def __init__(self, inner: Any, probe: MarkProbe) -> None:
        self._inner, self._probe = inner, probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_setting(self, owner_id: int, name: str) -> str | None:
        probe = self._probe
        if name.startswith(probe.prefix):
            if probe._down:
                probe._down = False
                raise StorageUnavailable("the database went away")
            if probe._gate is not None and probe._gated < probe._gate.parties:
                probe._gated += 1
                async with asyncio.timeout(10):  # every gated claim arrives at once, or the test fails
                    await probe._gate.wait()
        found: str | None = await self._inner.get_setting(owner_id, name)
        return found

    async def swap_setting(self, owner_id: int, name: str, expected: str | None, document: str) -> bool:
        probe = self._probe
        if name.startswith(probe.prefix) and probe.timeouts:
            outcome = probe.timeouts.pop(0)
            if outcome == "applied":
                await self._inner.swap_setting(owner_id, name, expected, document)
            probe._down = outcome == "down"
            raise StorageUnavailable(f"write timeout of type CAS ({outcome})")
        swapped: bool = await self._inner.swap_setting(owner_id, name, expected, document)
        if name.startswith(probe.prefix) and not swapped:
            probe.lost += 1
        return swapped
