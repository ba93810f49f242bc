"""``rayguild bench check docs/results``: does one more run land within the spread the results report?

Re-runs once each (``--repeats 1`` / ``--trials 1``, into a scratch folder) the fan-out, workload
and recovery commands recorded in ``summary.json``, and compares every metric the results
README tabulates with the committed repeats of the same configuration:

- ``in band``: the new value is within mean ± (max - min), the ± the README prints;
- ``in range``: within [min, max] of the committed repeats (with 3 repeats, an independent 4th
  run falls outside that range half of the time, so this is the strict reading).

Writes ``check.json`` (every verdict) next to the results, adds the counts and the worst misses
to ``summary.json`` and re-renders README.md. The storage run is not repeated: it is not on
Ray and only feeds the cost model's write cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rayguild.benchmarks import fanout, mixed, recovery
from rayguild.benchmarks.render import FANOUT_KEYS, WORKLOAD_KEYS, render
from rayguild.benchmarks.report import progress
from rayguild.benchmarks.results import fanout_records, field_of
from rayguild.benchmarks.stats import spread

RECOVERY_KEYS = ("reidentify_s", "delivered_s")
PARTS = ("fanout", "workload", "recovery")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rayguild bench check", description=__doc__)
    p.add_argument("results", type=Path, help="a folder `rayguild bench all` wrote (summary.json)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    return p.parse_args(argv)


def once(command: str, out: Path, repeat_flag: str) -> list[str]:
    """The arguments of a recorded command, run once into ``out``."""
    argv = shlex.split(command)[3:]  # after "rayguild bench X" / "python -m module"
    for flag, value in (("--out", str(out)), (repeat_flag, "1")):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


def verdict(bench: str, config: str, key: str, committed: Sequence[float], new: float) -> dict[str, Any]:
    s = spread(list(committed))
    band = s["max"] - s["min"]
    distance = abs(new - s["mean"])
    return {
        "bench": bench,
        "config": config,
        "key": key,
        "mean": s["mean"],
        "min": s["min"],
        "max": s["max"],
        "band": round(band, 3),
        "new": round(new, 3),
        "in_band": distance <= band + 1e-9,
        "in_range": s["min"] - 1e-9 <= new <= s["max"] + 1e-9,
        "bands_away": round(distance / band, 2)
        if band
        else (0.0 if distance < 1e-9 else None),  # None: no band
    }


def compare(
    bench: str,
    committed: Iterable[Mapping[str, Any]],
    new: Iterable[Mapping[str, Any]],
    group: Sequence[str],
    keys: Sequence[str],
) -> list[dict[str, Any]]:
    """One verdict per (configuration, key): the new records against the committed ones."""
    runs: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for record in committed:
        runs.setdefault(tuple(record[g] for g in group), []).append(record)
    verdicts = []
    for record in new:
        config = tuple(record[g] for g in group)
        if config not in runs:
            continue
        name = " ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in config)
        for key in keys:
            old = [float(field_of(r, key)) for r in runs[config]]
            verdicts.append(verdict(bench, name, key, old, float(field_of(record, key))))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: Path = args.results
    summary = json.loads((results / "summary.json").read_text())
    started, load = time.monotonic(), [round(v, 2) for v in os.getloadavg()]
    verdicts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rayguild-check-") as scratch:
        tmp = Path(scratch)
        for command in summary["commands"]:
            if command.startswith("rayguild bench fanout") and "fanout" in args.parts:
                progress(f"check: {command}")
                fanout.main(once(command, tmp / "fanout", "--repeats"))
                new = json.loads((tmp / "fanout" / "results.json").read_text())["records"]
                group = ("wire", "config", "members")
                verdicts += compare("fanout", fanout_records(results, summary), new, group, FANOUT_KEYS)
            elif command.startswith("rayguild bench workload") and "workload" in args.parts:
                progress(f"check: {command}")
                new = mixed.main(once(command, tmp / "workload", "--repeats"))
                verdicts += compare("workload", summary["workload"], new, ("mode",), WORKLOAD_KEYS)
            elif "benchmarks.recovery" in command and "recovery" in args.parts:
                progress(f"check: {command}")
                recovery.main(once(command, tmp / "recovery", "--trials"))
                new = json.loads((tmp / "recovery" / "results.json").read_text())["records"]
                old = json.loads((results / "recovery" / "results.json").read_text())["records"]
                verdicts += compare("recovery", old, new, ("failure",), RECOVERY_KEYS)
    command = " ".join(["rayguild bench check", *(sys.argv[3:] if argv is None else argv)])
    check = tally(verdicts) | {
        "command": command,
        "wall_s": round(time.monotonic() - started, 1),
        "loadavg_1_5_15": load,
    }
    (results / "check.json").write_text(json.dumps(check | {"verdicts": verdicts}, indent=2))
    summary["check"] = check
    (results / "summary.json").write_text(json.dumps(summary, indent=2))
    (results / "README.md").write_text(render(summary))
    for bench, counts in check["by_bench"].items():
        progress(f"{bench}: {counts['in_band']}/{counts['metrics']} in band, {counts['in_range']} in range")
    return 0


def tally(verdicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per benchmark and the five verdicts furthest outside their band."""
    by_bench: dict[str, dict[str, int]] = {}
    for v in verdicts:
        counts = by_bench.setdefault(v["bench"], {"metrics": 0, "in_band": 0, "in_range": 0})
        counts["metrics"] += 1
        counts["in_band"] += bool(v["in_band"])
        counts["in_range"] += bool(v["in_range"])
    outside = sorted((v for v in verdicts if not v["in_band"]), key=lambda v: -(v["bands_away"] or math.inf))
    return {"by_bench": by_bench, "worst": list(outside[:5])}


if __name__ == "__main__":
    raise SystemExit(main())
