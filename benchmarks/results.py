"""``rayguild bench all --out docs/results``: re-make every committed result with one command.

Runs, each in a fresh Ray: the fan-out sweep once per wire (routing only, zlib, zstd; every
configuration ``--repeats`` times, ``--messages`` per repeat so that the pooled percentiles rest
on at least 1,000 messages), the mixed Zipf workload (relays vs relays + passive pruning, passive
updates at their default interval, session flips, cache-defeating changes), the SQLite insert
benchmark and the recovery trials; then fits the cost model on the smallest fan-out size and
checks it against the larger ones. Writes, under ``--out``: one folder per run (results.json,
results.md, plots) and ``summary.json`` / ``README.md`` (benchmarks/render.py: the machine block
with the load average, the exact commands, each part's wall time, the tables with the spread
over repeats, the cost-model check and its predictions). ``rayguild bench check`` (benchmarks/
check.py) re-runs the quoted configurations once and compares them with these spreads. With
``--parts`` only those parts run; the summary still reads every part's raw results left in
``--out`` (so one part can be re-made, or a run that stopped in its last part completed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from rayguild.benchmarks import costmodel, fanout, mixed, recovery, storage
from rayguild.benchmarks.plots import plot_histograms, plot_wire
from rayguild.benchmarks.render import FANOUT_KEYS, render
from rayguild.benchmarks.report import progress
from rayguild.benchmarks.stats import LogHistogram, spread
from rayguild.benchmarks.workload import cache_report, events, plan_guilds

PARTS = ("fanout", "workload", "storage", "recovery")
WORKLOAD_RATE, WORKLOAD_SEED = 200.0, 7

LIBRARIES = ("ray", "numpy", "zstandard", "aiohttp", "orjson", "matplotlib", "psutil")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rayguild bench all", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("docs/results"))
    p.add_argument("--members", type=int, nargs="+", default=[1_000, 100_000])
    p.add_argument("--sessions", type=int, default=2_000)
    p.add_argument("--messages", type=int, default=334, help="per repeat: 3 repeats pool 1,002")
    p.add_argument("--rate", type=float, default=30.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--wires", nargs="+", default=["none", "zlib", "zstd"])
    p.add_argument("--workload-guilds", type=int, default=20)
    p.add_argument("--workload-duration-s", type=float, default=15.0)
    p.add_argument(
        "--workload-max-members", type=int, default=20_000, help="the largest guild of the Zipf plan"
    )
    p.add_argument("--parts", nargs="*", choices=PARTS, default=list(PARTS), help="none: only re-read")
    p.add_argument("--recovery-failures", nargs="+", default=["guild", "session", "relay", "node"])
    p.add_argument("--storage-inserts", type=int, default=2_000)
    p.add_argument(
        "--render-only", action="store_true", help="re-make summary and README from the runs in --out"
    )
    return p.parse_args(argv)


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "libraries": versions,
    }


def aggregate(records: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per (wire, config, members): the spread of each metric over the repeats."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["wire"], r["config"], r["members"]), []).append(r)
    rows = []
    for (wire, config, members), group in groups.items():
        row: dict[str, Any] = {"wire": wire, "config": config, "members": members, "repeats": len(group)}
        row["latency_samples"] = sum(r["latency"]["count"] for r in group)
        row["pooled"] = pooled([r["histogram"] for r in group if r["histogram"]])
        for key in keys:
            row[key] = spread([float(field_of(r, key)) for r in group])
        rows.append(row)
    return rows


def pooled(histograms: Sequence[Mapping[str, Any]]) -> dict[str, float | int]:
    """Percentiles of all repeats' messages together, from their merged log histograms."""
    merged = LogHistogram()
    for h in histograms:
        merged.merge(LogHistogram.from_json(h))
    return {"count": merged.total, **{f"p{p:g}".replace(".", ""): round(merged.percentile(p), 3)
                                      for p in (50.0, 99.0, 99.9)}}  # fmt: skip


def field_of(record: Mapping[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        value = value[part]
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        return render_again(out)
    path = out / "summary.json"
    previous: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    this = f"rayguild bench all {' '.join(sys.argv[2:] if argv is None else argv)}".strip()
    run: dict[str, Any] = {"command": this, "machine_before": machine(), "wall_s": {}}
    started = time.monotonic()
    for part in args.parts:  # run what was asked; then everything is read back from the raw results
        RUNNERS[part](args, out)
        now = time.monotonic()
        run["wall_s"][part], started = round(now - started, 1), now
    run["machine_after"] = machine()
    runs = previous.get("runs", []) + ([run] if args.parts else [])
    summary: dict[str, Any] = {"runs": runs, **collect(args, out)}
    first = previous.get("commands", [f"rayguild bench all --out {out}"])[0]
    summary["commands"] = [this if args.parts else first, *summary["commands"]]
    if (out / "check.json").exists():  # rayguild bench check's verdict counts, kept across re-reads
        summary["check"] = {
            k: v for k, v in json.loads((out / "check.json").read_text()).items() if k != "verdicts"
        }
    path.write_text(json.dumps(summary, indent=2))
    (out / "README.md").write_text(render(summary))
    progress(f"wrote {path} and README.md")
    return 0


def run_fanout(args: argparse.Namespace, out: Path) -> None:
    for wire in args.wires:
        run_argv = ["--members", *map(str, args.members), "--sessions", str(args.sessions),
                    "--messages", str(args.messages), "--rate", str(args.rate),
                    "--repeats", str(args.repeats), "--wire", wire, "--out", str(out / f"fanout-{wire}")]  # fmt: skip
        progress("rayguild bench fanout " + " ".join(run_argv))
        fanout.main(run_argv)


def run_workload(args: argparse.Namespace, out: Path) -> None:
    workload_argv = ["--guilds", str(args.workload_guilds), "--max-members", str(args.workload_max_members),
                     "--sessions", str(args.sessions), "--relay-above", str(args.workload_max_members // 20),
                     "--rate", str(WORKLOAD_RATE), "--seed", str(WORKLOAD_SEED),
                     "--duration-s", str(args.workload_duration_s), "--repeats", str(args.repeats),
                     "--out", str(out / "workload")]  # fmt: skip
    progress("rayguild bench workload " + " ".join(workload_argv))
    mixed.main(workload_argv)


def run_storage(args: argparse.Namespace, out: Path) -> None:
    storage.main(["--out", str(out / "storage"), "--backends", "sqlite", "--inserts", str(args.storage_inserts),
                  "--fetches", "500", "--concurrency", "1"])  # fmt: skip


def run_recovery(args: argparse.Namespace, out: Path) -> None:
    recovery.main(["--out", str(out / "recovery"), "--trials", str(args.repeats),
                   "--failures", *args.recovery_failures])  # fmt: skip


RUNNERS = {"fanout": run_fanout, "workload": run_workload, "storage": run_storage, "recovery": run_recovery}


def collect(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The summary's sections from the raw results under ``out`` (this run's parts, and those an
    earlier run left there: ``--parts`` re-makes some without losing the others)."""
    found: dict[str, Any] = {"commands": []}

    def raw(folder: str) -> dict[str, Any] | None:
        path = out / folder / "results.json"
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text())
        found["commands"].append(data["command"])
        return data

    records = [r for wire in args.wires if (data := raw(f"fanout-{wire}")) for r in data["records"]]
    if records:
        found["fanout"] = aggregate(records, FANOUT_KEYS)
        plot_wire(found["fanout"], out / "fanout_wire.png")
        plot_histograms(records, out / "latency_histograms.png")
    if workload := raw("workload"):
        found["workload"] = workload["records"]
        w = workload["args"]
        plans = plan_guilds(w["guilds"], w["max_members"])
        found["workload_caches"] = cache_report(
            plans, events(plans, w["rate"], w["duration_s"], seed=w["seed"])
        )
    write_us = 0.0
    if stored := raw("storage"):
        inserts = [r for r in stored["results"] if r["phase"] == "insert"]
        write_us = 1e6 / inserts[0]["ops_per_s"] if inserts else 0.0
    if recovered := raw("recovery"):
        found["recovery"] = recovered["summary"]
    if records:
        found["costmodel"] = model_check(records, min(r["members"] for r in records), write_us)
    return found


def render_again(out: Path) -> int:
    """Summary, plots and README again from the committed raw results (the model or the tables
    changed, the measurements did not); the machine blocks and commands are kept."""
    summary = json.loads((out / "summary.json").read_text())
    records = fanout_records(out, summary)
    summary["fanout"] = aggregate(records, FANOUT_KEYS)
    plot_wire(summary["fanout"], out / "fanout_wire.png")
    plot_histograms(records, out / "latency_histograms.png")
    cm = summary["costmodel"]
    summary["costmodel"] = model_check(records, cm["fit_on_members"], cm["storage_write_us"])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "README.md").write_text(render(summary))
    return 0


def fanout_records(out: Path, summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every fan-out record of the runs ``summary`` aggregates (one results.json per wire)."""
    return [
        record for wire in dict.fromkeys(r["wire"] for r in summary.get("fanout", []))
        for record in json.loads((out / f"fanout-{wire}" / "results.json").read_text())["records"]
    ]  # fmt: skip


def model_check(records: Sequence[Mapping[str, Any]], smallest: int, write_us: float) -> dict[str, Any]:
    """Fit on the smallest size per wire; check the others; price the two target deployments."""
    result: dict[str, Any] = {
        "fit_on_members": smallest,
        "storage_write_us": round(write_us, 1),
        "by_wire": {},
    }
    for wire in dict.fromkeys(r["wire"] for r in records):
        mine = [r for r in records if r["wire"] == wire]
        costs = costmodel.calibrate([r for r in mine if r["members"] == smallest], storage_write_us=write_us)
        # bytes per member from the largest guild: at small sizes the allocator's noise exceeds the rows
        largest = [
            r["guild_rss_bytes_per_member"] for r in mine if r["members"] == max(m["members"] for m in mine)
        ]
        costs = replace(costs, bytes_per_member=costmodel.median(largest))
        checks = [costmodel.check(costs, r) for r in mine if r["members"] != smallest]
        errors = [abs(c["relative_error"]) for c in checks]
        guild = costmodel.Deployment(members=1_000_000, online=1_000_000, messages_per_s=10, active_fraction=0.1,
                                     passive_updates_per_s=0.1)  # fmt: skip
        cluster = costmodel.Deployment(members=5_000_000, online=5_000_000, messages_per_s=50_000,
                                       active_fraction=0.1, mean_recipients=40, guilds_per_user=20,
                                       passive_updates_per_s=0.1)  # fmt: skip
        result["by_wire"][wire] = {
            "costs": {k: round(v, 4) for k, v in asdict(costs).items()},
            "checks": checks,
            "mean_abs_error": round(sum(errors) / len(errors), 3) if errors else None,
            "max_abs_error": round(max(errors), 3) if errors else None,
            "one_million_online_guild_10_msg_s": costmodel.predict(costs, guild).as_dict(),
            "five_million_users_cluster": costmodel.predict(costs, cluster).as_dict(),
        }
    return result


if __name__ == "__main__":
    raise SystemExit(main())
