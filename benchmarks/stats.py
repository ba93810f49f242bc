"""Statistics a benchmark reports: percentiles with their sample count, HDR-style histograms, and
the spread of repeated runs.

- ``LogHistogram``: counts in log-spaced buckets (each bucket ``1 + precision`` times wider than
  the one before, from ``lowest``), so a histogram of millions of latencies is a few hundred
  integers and any percentile read from it is within ``precision`` of the true value. The JSON
  form is ``{"lowest", "precision", "counts": {bucket_index: count}}`` (only the non-empty ones).
- ``summarize``: p50/p90/p99/p999/max of a sample and its count; a percentile whose tail holds
  fewer than one sample is still reported, the count beside it says how much it rests on.
- ``spread``: mean, min, max and relative spread ((max - min) / mean) of one metric over repeats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


class LogHistogram:
    __slots__ = ("_log_base", "counts", "lowest", "precision")

    def __init__(self, lowest: float = 0.001, precision: float = 0.02) -> None:
        if lowest <= 0 or precision <= 0:
            raise ValueError("lowest and precision must be positive")
        self.lowest, self.precision = lowest, precision
        self._log_base = math.log1p(precision)
        self.counts: dict[int, int] = {}

    def bucket(self, value: float) -> int:
        """Index of the bucket holding ``value`` (values at or below ``lowest`` share bucket 0)."""
        if value <= self.lowest:
            return 0
        return int(math.log(value / self.lowest) / self._log_base) + 1

    def upper(self, index: int) -> float:
        """The largest value bucket ``index`` holds."""
        return self.lowest * (1 + self.precision) ** index

    def add(self, values: Iterable[float]) -> None:
        array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
        if array.size == 0:
            return
        clipped = np.maximum(array, self.lowest)
        indices = np.where(
            array <= self.lowest, 0, (np.log(clipped / self.lowest) / self._log_base).astype(np.int64) + 1
        )
        for index, count in zip(*np.unique(indices, return_counts=True), strict=True):
            self.counts[int(index)] = self.counts.get(int(index), 0) + int(count)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, p: float) -> float:
        """The upper bound of the bucket holding the ``p``-th percentile (0 if empty)."""
        total = self.total
        if total == 0:
            return 0.0
        rank = max(1, math.ceil(total * p / 100.0))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return self.upper(index)
        return self.upper(max(self.counts))

    def merge(self, other: LogHistogram) -> None:
        if (other.lowest, other.precision) != (self.lowest, self.precision):
            raise ValueError("histograms with different buckets cannot be merged")
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count

    def as_json(self) -> dict[str, Any]:
        return {
            "lowest": self.lowest,
            "precision": self.precision,
            "counts": {str(k): v for k, v in sorted(self.counts.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogHistogram:
        histogram = cls(float(data["lowest"]), float(data["precision"]))
        histogram.counts = {int(k): int(v) for k, v in data["counts"].items()}
        return histogram


def summarize(values: Sequence[float] | np.ndarray) -> dict[str, float | int]:
    """Count, percentiles (``p50`` ... ``p999``) and max of a sample, exact (not from buckets)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return {"count": 0, **{_name(p): 0.0 for p in PERCENTILES}, "max": 0.0}
    cuts = np.percentile(array, PERCENTILES)
    return {
        "count": int(array.size),
        **{_name(p): round(float(v), 3) for p, v in zip(PERCENTILES, cuts, strict=True)},
        "max": round(float(array.max()), 3),
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, min, max, and (max - min) / mean of one metric over repeated runs."""
    if not values:
        return {"mean": 0.0, "min": 0.0, "max": 0.0, "spread": 0.0}
    mean = sum(values) / len(values)
    low, high = min(values), max(values)
    return {
        "mean": round(mean, 3),
        "min": round(low, 3),
        "max": round(high, 3),
        "spread": round((high - low) / mean, 3) if mean else 0.0,
    }


def _name(p: float) -> str:
    return "p" + (f"{p:g}".replace(".", ""))
