"""Discord's 10-day message buckets: which bucket a snowflake falls in, and bucket ranges.

A bucket is ``(ms since the Discord epoch) // BUCKET_SIZE_MS``; it only grows with time, so
a channel's history is its buckets walked from newest to oldest.
"""

from __future__ import annotations

import time

from rayguild.ids import DISCORD_EPOCH_MS

BUCKET_SIZE_MS = 1000 * 60 * 60 * 24 * 10


def bucket_of(snowflake: int) -> int:
    """The bucket holding the message with id ``snowflake``."""
    return (snowflake >> 22) // BUCKET_SIZE_MS


def current_bucket(now_ms: int | None = None) -> int:
    """The bucket a message made at ``now_ms`` (default: now) goes into."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return max(0, ms - DISCORD_EPOCH_MS) // BUCKET_SIZE_MS


def buckets_between(first_id: int, last_id: int | None = None) -> range:
    """Every bucket from the one of ``first_id`` up to the one of ``last_id`` (default: now)."""
    last = current_bucket() if last_id is None else bucket_of(last_id)
    return range(bucket_of(first_id), last + 1)
