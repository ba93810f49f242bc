"""The benchmarks on real Ray at a tiny size, so they cannot rot: ``rayguild bench all`` (fan-out with
the zlib wire, the mixed workload, storage; then recovery alone) and ``rayguild bench check`` on
its output. Each runs as the command a researcher types, in its own process with its own Ray
(the benchmarks start and stop Ray themselves). The asserts are on work done and on what the
results say, never on speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rayguild.benchmarks.render import FANOUT_KEYS, WORKLOAD_KEYS

MESSAGES, REPEATS, SESSIONS = 4, 2, 40


def bench(*argv: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rayguild.cli", "bench", *argv], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_bench_all_and_check_on_ray(tmp_path: Path) -> None:
    out = tmp_path / "results"
    bench("all", "--out", str(out), "--members", "100", "200", "--sessions", str(SESSIONS),
          "--messages", str(MESSAGES), "--rate", "20", "--repeats", str(REPEATS), "--wires", "zlib",
          "--workload-guilds", "4", "--workload-max-members", "200", "--workload-duration-s", "2",
          "--parts", "fanout", "workload", "storage", "--storage-inserts", "50")  # fmt: skip
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())

    records = json.loads((out / "fanout-zlib" / "results.json").read_text())["records"]
    assert len(records) == 2 * 3 * REPEATS  # sizes x modes x repeats
    for r in records:
        assert r["messages"] == MESSAGES and r["latency"]["count"] == MESSAGES  # every message measured
        assert r["deliveries"] == MESSAGES * r["active_sessions"] > 0  # nothing dropped
        assert r["wire_frames"] == r["deliveries"] and 0 < r["wire_bytes_out"] < r["wire_bytes_in"]
        assert r["session_rss_bytes_per_session"] != 0.0  # measured, not left at its default
    assert len(summary["fanout"]) == 6
    assert all(row["pooled"]["count"] == MESSAGES * REPEATS for row in summary["fanout"])
    passive = [r for r in records if r["config"] == "relays+passive"]
    assert all(r["active_sessions"] < SESSIONS for r in passive)  # pruning leaves sessions out

    runs = summary["workload"]
    assert [r["mode"] for r in runs] == ["relays", "relays+passive"] * REPEATS
    for r in runs:
        assert r["events"]["message"] == summary["workload_caches"]["messages"] > 0
        assert r["frames"] > 0 and r["latency_ms"]["count"] > 0
    flips = runs[0]["events"].get("go_passive", 0) + runs[0]["events"].get("go_active", 0)
    assert flips > 0 and runs[0]["events"].get("join", 0) > 0
    assert summary["workload_caches"]["view_cache_misses"] > 0
    assert summary["costmodel"]["by_wire"]["zlib"]["checks"]  # fitted on 100, checked on 200
    assert (out / "fanout_wire.png").stat().st_size > 0 and (
        out / "latency_histograms.png"
    ).stat().st_size > 0
    readme = (out / "README.md").read_text()
    assert "rayguild bench fanout --members 100 200" in readme and "load [" in readme

    bench("check", str(out), "--parts", "fanout", "workload")
    check = json.loads((out / "check.json").read_text())
    assert check["by_bench"]["fanout"]["metrics"] == 6 * len(FANOUT_KEYS)
    assert check["by_bench"]["workload"]["metrics"] == 2 * len(WORKLOAD_KEYS)
    assert all(v["in_band"] for v in check["verdicts"] if v["in_range"])  # the range lies inside the band
    assert all(isinstance(v["new"], float) for v in check["verdicts"])  # every metric was measured again
    assert "## Check" in (out / "README.md").read_text()


def test_recovery_on_ray(tmp_path: Path) -> None:
    out = tmp_path / "results"
    bench("all", "--out", str(out), "--parts", "recovery", "--recovery-failures", "relay", "--repeats", "1")
    (row,) = json.loads((out / "summary.json").read_text())["recovery"]
    assert row["failure"] == "relay" and row["trials"] == 1
    assert row["delivered_s"]["mean"] > 0  # service came back: a message reached a live session
