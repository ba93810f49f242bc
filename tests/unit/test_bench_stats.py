"""Benchmark statistics: log-bucketed histograms, percentiles with their count, repeat spread."""

from __future__ import annotations

import numpy as np
import pytest

from rayguild.benchmarks.stats import LogHistogram, spread, summarize


def test_histogram_percentiles_are_within_the_bucket_precision() -> None:
    values = np.random.default_rng(1).lognormal(mean=1.0, sigma=1.0, size=20_000)
    histogram = LogHistogram(lowest=0.001, precision=0.02)
    histogram.add(values)
    assert histogram.total == 20_000
    for p in (50, 90, 99, 99.9):
        exact = float(np.percentile(values, p))
        assert exact <= histogram.percentile(p) <= exact * 1.02 * 1.001


def test_histogram_buckets_are_log_spaced_and_round_trip_through_json() -> None:
    histogram = LogHistogram(lowest=1.0, precision=1.0)  # buckets (.., 1], (1, 2], (2, 4], (4, 8] ...
    histogram.add([0.5, 1.0, 1.5, 3.0, 3.9, 7.0])
    assert histogram.counts == {0: 2, 1: 1, 2: 2, 3: 1}
    again = LogHistogram.from_json(histogram.as_json())
    assert again.counts == histogram.counts and again.upper(3) == 8.0
    again.merge(histogram)
    assert again.total == 12
    with pytest.raises(ValueError):
        again.merge(LogHistogram(lowest=1.0, precision=0.5))


def test_empty_histogram_and_summary() -> None:
    assert LogHistogram().percentile(99) == 0.0
    assert summarize([])["count"] == 0


def test_summary_reports_the_count_behind_the_percentiles() -> None:
    summary = summarize(list(range(1, 1001)))
    assert summary["count"] == 1000
    assert summary["p50"] == pytest.approx(500.5)
    assert summary["p999"] == pytest.approx(999.001)
    assert summary["max"] == 1000


def test_spread_over_repeats() -> None:
    assert spread([10.0, 12.0, 8.0]) == {"mean": 10.0, "min": 8.0, "max": 12.0, "spread": 0.4}
    assert spread([])["mean"] == 0.0
