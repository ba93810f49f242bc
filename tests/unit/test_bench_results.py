"""bench all / bench check without Ray: pooled percentiles, the spread verdicts, the cache report,
and that the README renders every section it is given."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from rayguild.benchmarks.check import compare, once, tally, verdict
from rayguild.benchmarks.render import FANOUT_KEYS, render
from rayguild.benchmarks.results import aggregate, machine, pooled
from rayguild.benchmarks.stats import LogHistogram, summarize
from rayguild.benchmarks.workload import Event, cache_report, events, plan_guilds


def record(wire: str, config: str, members: int, repeat: int, latencies: np.ndarray) -> dict[str, Any]:
    histogram = LogHistogram()
    histogram.add(latencies)
    base = {key: float(repeat + 1) for key in FANOUT_KEYS if "." not in key}
    return base | {
        "wire": wire,
        "config": config,
        "members": members,
        "repeat": repeat,
        "latency": summarize(latencies),
        "histogram": histogram.as_json(),
    }


def test_pooled_percentiles_rest_on_every_repeats_messages() -> None:
    rng = np.random.default_rng(1)
    runs = [record("zlib", "direct", 1_000, r, rng.exponential(10.0, 334)) for r in range(3)]
    (row,) = aggregate(runs, FANOUT_KEYS)
    assert row["pooled"]["count"] == 1_002 and row["latency_samples"] == 1_002
    assert row["deliveries_per_s"] == {"mean": 2.0, "min": 1.0, "max": 3.0, "spread": 1.0}
    # the pooled percentile is the whole sample's, within the histogram's 2 % buckets
    values = rng.exponential(10.0, 3_000)
    parts = [LogHistogram() for _ in range(3)]
    for histogram, part in zip(parts, np.array_split(values, 3), strict=True):
        histogram.add(part)
    merged = pooled([h.as_json() for h in parts])
    assert merged["count"] == 3_000
    assert merged["p99"] == pytest.approx(np.percentile(values, 99), rel=0.03)
    assert merged["p50"] == pytest.approx(np.percentile(values, 50), rel=0.03)


def test_a_verdict_reads_the_band_the_readme_prints() -> None:
    inside = verdict("fanout", "zlib direct 1,000", "latency.p99", [10.0, 12.0, 14.0], 15.5)
    assert inside["band"] == 4.0 and inside["in_band"] and not inside["in_range"]
    outside = verdict("fanout", "x", "k", [10.0, 12.0, 14.0], 17.0)
    assert not outside["in_band"] and outside["bands_away"] == 1.25
    flat = verdict("fanout", "x", "bytes_per_session", [5.0, 5.0, 5.0], 5.0)
    assert flat["in_band"] and flat["in_range"] and flat["bands_away"] == 0.0
    moved = verdict("fanout", "x", "bytes_per_session", [5.0, 5.0, 5.0], 6.0)
    assert not moved["in_band"] and moved["bands_away"] is None
    counts = tally([inside, outside, flat, moved])
    assert counts["by_bench"]["fanout"] == {"metrics": 4, "in_band": 2, "in_range": 1}
    assert [w["new"] for w in counts["worst"]] == [6.0, 17.0]  # no band first, then the furthest


def test_compare_matches_configurations_and_skips_unknown_ones() -> None:
    committed = [{"mode": "relays", "frames": f} for f in (100, 110, 120)]
    new = [{"mode": "relays", "frames": 125}, {"mode": "elsewhere", "frames": 1}]
    (only,) = compare("workload", committed, new, ("mode",), ("frames",))
    assert only["config"] == "relays" and only["in_band"] and not only["in_range"]


def test_a_recorded_command_is_run_once_into_the_scratch_folder(tmp_path: Any) -> None:
    command = (
        "rayguild bench fanout --members 1000 100000 --repeats 3 --wire zlib --out docs/results/fanout-zlib"
    )
    assert once(command, tmp_path, "--repeats") == [
        "--members", "1000", "100000", "--repeats", "1", "--wire", "zlib", "--out", str(tmp_path),
    ]  # fmt: skip
    recovery = "python -m rayguild.benchmarks.recovery --out docs/results/recovery --trials 3"
    assert once(recovery, tmp_path, "--trials") == ["--out", str(tmp_path), "--trials", "1"]


def test_the_cache_report_follows_the_clearing_rules() -> None:
    plans = plan_guilds(2, 100, channels=2)

    def at(kind: str, guild: int = 0, channel: int = 0) -> Event:
        return Event(0.0, guild, kind, channel, 0, ())

    stream = [
        at("message"),  # first to the channel: both miss
        at("message"),  # both hit
        at("presence"),
        at("message"),  # a presence update clears nothing
        at("go_passive"),
        at("message"),  # a flip clears the recipients, not the view
        at("role_change", guild=1),
        at("message"),  # another guild's change clears nothing here
        at("leave"),
        at("message"),  # churn clears both
        at("message", channel=1),  # another channel: first message, both miss
    ]
    report = cache_report(plans, stream)
    assert report["messages"] == 7
    assert report["view_cache_misses"] == 3 and report["recipient_cache_misses"] == 4


def test_the_default_mix_defeats_the_caches_sometimes() -> None:
    plans = plan_guilds(20, 20_000)
    stream = list(events(plans, 200.0, 15.0, seed=7))
    kinds = Counter(e.kind for e in stream)
    assert kinds["go_passive"] > 30 and kinds["go_active"] > 30
    report = cache_report(plans, stream)
    assert report["messages"] == kinds["message"]
    assert 0.05 < report["view_miss_share"] < 0.95  # sometimes, not never and not always
    assert report["recipient_miss_share"] >= report["view_miss_share"]


def test_the_readme_renders_each_section_it_is_given() -> None:
    rng = np.random.default_rng(2)
    runs = [record("none", "relays", 1_000, r, rng.exponential(5.0, 400)) for r in range(3)]
    workload = {"mode": "relays", "repeat": 0, "wall_s": 15.0, "guild_cpu_s": 1.0, "relay_cpu_s": 1.0,
                "session_cpu_s": 1.0, "ray_cpu_s": 3.0, "frames": 10, "events": {"message": 3, "go_active": 1},
                "latency_ms": {"count": 3, "p50": 1.0, "p99": 2.0}}  # fmt: skip
    summary = {
        "runs": [
            {
                "command": "rayguild bench all --out x",
                "machine_before": machine(),
                "machine_after": machine(),
                "wall_s": {"fanout": 60.0, "workload": 30.0},
            },
        ],
        "commands": ["rayguild bench all --out x"],
        "fanout": aggregate(runs, FANOUT_KEYS),
        "workload": [workload],
        "workload_caches": {
            "messages": 3,
            "view_cache_misses": 1,
            "recipient_cache_misses": 2,
            "view_miss_share": 0.33,
            "recipient_miss_share": 0.67,
        },
        "check": {
            "command": "rayguild bench check x",
            "wall_s": 60.0,
            "loadavg_1_5_15": [1.0, 1.0, 1.0],
            "by_bench": {"fanout": {"metrics": 9, "in_band": 8, "in_range": 5}},
            "worst": [],
        },
    }
    text = render(summary)
    assert "| none | relays | 1,000 | 1,200 |" in text
    assert (
        "`rayguild bench all --out x`: fanout 1.0 min, workload 0.5 min; load" in text
        and "go_active 1" in text
    )
    assert "1 (33.0 %) found their guild's VIEW_CHANNEL column cleared" in text
    assert "| fanout | 9 | 8 (89 %) | 5 (56 %) |" in text
    assert "## Cost model" not in text and "## Recovery" not in text  # not run: not shown
