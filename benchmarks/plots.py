"""The plots of ``rayguild bench all``: the wire against routing only, and latency histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rayguild.benchmarks.stats import LogHistogram


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_wire(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Deliveries/s and session CPU per message against members, one line per (wire, config)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for key in dict.fromkeys((r["wire"], r["config"]) for r in rows):
        mine = sorted((r for r in rows if (r["wire"], r["config"]) == key), key=lambda r: r["members"])
        x = [r["members"] for r in mine]
        label = f"{key[1]} / {key[0]}"
        for ax, metric in ((left, "deliveries_per_s"), (right, "session_cpu_ms_per_message")):
            mean = [r[metric]["mean"] for r in mine]
            low = [r[metric]["min"] for r in mine]
            high = [r[metric]["max"] for r in mine]
            ax.errorbar(x, mean, yerr=[[m - lo for m, lo in zip(mean, low, strict=True)],
                                       [h - m for m, h in zip(mean, high, strict=True)]],
                        marker="o", capsize=3, label=label)  # fmt: skip
    for ax, title in ((left, "deliveries / s"), (right, "session-shard CPU ms / message")):
        ax.set_xscale("log")
        ax.set_xlabel("guild members")
        ax.set_title(title + " (min-max over repeats)")
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_histograms(records: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Per (wire, config) at the largest size: the merged log-bucketed latency histogram."""
    plt = _pyplot()
    largest = max(r["members"] for r in records)
    merged: dict[tuple[str, str], LogHistogram] = {}
    for r in records:
        if r["members"] != largest or not r["histogram"]:
            continue
        histogram = LogHistogram.from_json(r["histogram"])
        key = (r["wire"], r["config"])
        if key in merged:
            merged[key].merge(histogram)
        else:
            merged[key] = histogram
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (wire, config), histogram in merged.items():
        buckets = sorted(histogram.counts)
        ax.step([histogram.upper(b) for b in buckets], [histogram.counts[b] for b in buckets],
                where="post", label=f"{config} / {wire}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("publish -> last delivery (ms), log buckets")
    ax.set_ylabel("messages")
    ax.set_title(f"Latency histograms at {largest:,} members (all repeats)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
