"""Typed ids and Discord-layout snowflakes.

A snowflake is ``(ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment``.
A generator never returns the same id twice and its ids strictly increase, even when
the wall clock steps backwards: it keeps issuing from the last timestamp it used.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import NewType

DISCORD_EPOCH_MS = 1_420_070_400_000
WORKER_BITS = 5
PROCESS_BITS = 5
INCREMENT_BITS = 12
MAX_WORKER = (1 << WORKER_BITS) - 1
MAX_PROCESS = (1 << PROCESS_BITS) - 1
MAX_INCREMENT = (1 << INCREMENT_BITS) - 1

Snowflake = NewType("Snowflake", int)
# Guild, user and channel ids are plain ints, as in storage and the REST layer. A session id is a
# string that names its shard (``session_shard_index``): every command field holding one is a
# ``SessionId``, and a client wraps the string it is given.
SessionId = NewType("SessionId", str)


def snowflake_time_ms(snowflake: int) -> int:
    """Unix time in milliseconds at which ``snowflake`` was made."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def snowflake_at(unix_ms: int) -> Snowflake:
    """The smallest snowflake of the millisecond ``unix_ms`` (for range bounds)."""
    return Snowflake(max(0, unix_ms - DISCORD_EPOCH_MS) << 22)


class SnowflakeGenerator:
    """Issues strictly increasing snowflakes for one (worker, process) pair; thread-safe."""

    def __init__(
        self,
        worker_id: int,
        process_id: int,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        if not 0 <= worker_id <= MAX_WORKER:
            raise ValueError(f"worker_id must be 0-{MAX_WORKER}, got {worker_id}")
        if not 0 <= process_id <= MAX_PROCESS:
            raise ValueError(f"process_id must be 0-{MAX_PROCESS}, got {process_id}")
        self._prefix = (worker_id << 17) | (process_id << 12)
        self._clock_ms = clock_ms
        self._last_ms = 0
        self._increment = 0
        self._lock = threading.Lock()

    def next(self) -> Snowflake:
        with self._lock:
            now = self._clock_ms() - DISCORD_EPOCH_MS
            if now > self._last_ms:
                self._last_ms, self._increment = now, 0
            elif self._increment < MAX_INCREMENT:
                # Same millisecond, or the clock stepped back: stay on the last timestamp.
                self._increment += 1
            else:
                # 4096 ids in one millisecond: borrow the next one rather than repeat.
                self._last_ms, self._increment = self._last_ms + 1, 0
            return Snowflake((self._last_ms << 22) | self._prefix | self._increment)


def new_session_id(shard_index: int) -> SessionId:
    """A 32-hex session id whose first four hex digits name the session shard holding it."""
    return SessionId(f"{shard_index:04x}{secrets.token_hex(14)}")


def session_shard_index(session_id: str) -> int:
    """The index of the session shard that made ``session_id`` (see ``new_session_id``)."""
    return int(session_id[:4], 16)
