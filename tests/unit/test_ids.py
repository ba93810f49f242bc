"""Snowflakes: Discord's layout, strictly increasing, safe when the clock steps backwards."""

from __future__ import annotations

import itertools

import pytest

from rayguild.ids import (
    DISCORD_EPOCH_MS,
    SnowflakeGenerator,
    new_session_id,
    session_shard_index,
    snowflake_at,
    snowflake_time_ms,
)


def test_layout_matches_discord() -> None:
    # Discord's documented example: 175928847299117063 -> 2016-04-30 11:18:25.796 UTC,
    # worker 1, process 0, increment 7.
    example = 175928847299117063
    assert snowflake_time_ms(example) == 1462015105796
    assert (example >> 17) & 0x1F == 1
    assert (example >> 12) & 0x1F == 0
    assert example & 0xFFF == 7


def test_generator_fields_and_time() -> None:
    gen = SnowflakeGenerator(3, 17, clock_ms=lambda: DISCORD_EPOCH_MS + 1000)
    flake = gen.next()
    assert flake >> 22 == 1000
    assert (flake >> 17) & 0x1F == 3
    assert (flake >> 12) & 0x1F == 17
    assert flake & 0xFFF == 0


def test_monotonic_under_clock_step_back_and_overflow() -> None:
    times = iter([5000, 5000, 4000, 3000] + [5000] * 5000)
    gen = SnowflakeGenerator(0, 0, clock_ms=lambda: DISCORD_EPOCH_MS + next(times))
    ids = [gen.next() for _ in range(5004)]
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert len(set(ids)) == len(ids)


def test_bounds_checked() -> None:
    with pytest.raises(ValueError, match="worker_id"):
        SnowflakeGenerator(32, 0)
    with pytest.raises(ValueError, match="process_id"):
        SnowflakeGenerator(0, -1)


def test_snowflake_at_is_a_lower_bound() -> None:
    ms = 1_700_000_000_000
    assert snowflake_time_ms(snowflake_at(ms)) == ms
    assert snowflake_at(ms) <= SnowflakeGenerator(31, 31, clock_ms=lambda: ms).next()


def test_session_id_names_its_shard() -> None:
    sid = new_session_id(513)
    assert len(sid) == 32 and session_shard_index(sid) == 513
