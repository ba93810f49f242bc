"""The mixed workload generator: Zipf sizes, size-weighted traffic, the event mix, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from rayguild.benchmarks.workload import Mix, events, guild_sizes, plan_guilds


def test_guild_sizes_follow_a_bounded_zipf_law() -> None:
    sizes = guild_sizes(100, 50_000, min_members=20)
    assert sizes[0] == 50_000 and sizes[1] == 25_000 and sizes[9] == 5_000
    assert sizes.min() == 500  # rank 100: 50_000 / 100
    assert list(sizes) == sorted(sizes, reverse=True)
    assert guild_sizes(10, 100, min_members=40)[-1] == 40  # the floor holds
    with pytest.raises(ValueError):
        guild_sizes(0, 100)


def test_events_follow_the_mix_and_the_guild_sizes() -> None:
    plans = plan_guilds(10, 10_000, channels=4, roles=6)
    stream = list(events(plans, rate_per_s=1_000, duration_s=20, seed=3))
    assert len(stream) == 20_000
    assert stream[1].at_s == pytest.approx(0.001) and stream[-1].at_s < 20
    kinds = Counter(e.kind for e in stream)
    assert kinds["message"] / len(stream) == pytest.approx(0.76, abs=0.02)
    assert kinds["go_passive"] / len(stream) == pytest.approx(0.02, abs=0.005)
    assert kinds["overwrite_change"] / len(stream) == pytest.approx(0.01, abs=0.005)
    by_guild = Counter(e.guild for e in stream)
    weights = np.array([p.members for p in plans]) / sum(p.members for p in plans)
    assert by_guild[0] / len(stream) == pytest.approx(weights[0], abs=0.02)  # the biggest talks most
    assert all(0 <= e.channel < 4 and 0 <= e.member < plans[e.guild].members for e in stream)
    assert all(set(e.roles) <= set(range(6)) for e in stream)


def test_the_same_seed_gives_the_same_plan() -> None:
    plans = plan_guilds(5, 1_000)
    assert list(events(plans, 100, 2, seed=9)) == list(events(plans, 100, 2, seed=9))
    assert list(events(plans, 100, 2, seed=9)) != list(events(plans, 100, 2, seed=10))


def test_a_mix_must_sum_to_one() -> None:
    with pytest.raises(ValueError):
        Mix(message=0.9).kinds()
