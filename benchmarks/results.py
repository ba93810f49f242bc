"""``rayguild bench all --out docs/results``: re-make every committed result with one command.

Runs, each in a fresh Ray: the fan-out sweep once per wire (routing only, zlib, zstd; every
configuration ``--repeats`` times), the mixed Zipf workload (relays vs relays + passive pruning,
passive updates at their default interval), and the SQLite insert benchmark; then fits the cost
model on the smallest fan-out size and checks it against the larger ones. Writes, under
``--out``: one folder per run (results.json, results.md, plots) and ``summary.json`` /
``README.md`` (the machine block with the load average, the exact commands, the side-by-side
tables with the spread over repeats, the cost-model check and its predictions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from rayguild.benchmarks import costmodel, fanout, mixed, recovery, storage
from rayguild.benchmarks.plots import plot_histograms, plot_wire
from rayguild.benchmarks.report import progress
from rayguild.benchmarks.stats import spread

LIBRARIES = ("ray", "numpy", "zstandard", "aiohttp", "orjson", "matplotlib", "psutil")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rayguild bench all", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("docs/results"))
    p.add_argument("--members", type=int, nargs="+", default=[1_000, 100_000])
    p.add_argument("--sessions", type=int, default=2_000)
    p.add_argument("--messages", type=int, default=60)
    p.add_argument("--rate", type=float, default=15.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--wires", nargs="+", default=["none", "zlib", "zstd"])
    p.add_argument("--workload-duration-s", type=float, default=15.0)
    p.add_argument(
        "--workload-max-members", type=int, default=20_000, help="the largest guild of the Zipf plan"
    )
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
        for key in keys:
            row[key] = spread([float(_get(r, key)) for r in group])
        rows.append(row)
    return rows


def _get(record: Mapping[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        value = value[part]
    return value


FANOUT_KEYS = (
    "deliveries_per_s",
    "latency.p50",
    "latency.p99",
    "guild_process_cpu_ms_per_message",
    "relay_cpu_ms_per_message",
    "session_cpu_ms_per_message",
    "guild_rss_bytes_per_member",
    "session_rss_bytes_per_session",
    "bytes_per_session",
)


def table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    head = ["wire", "config", "members", "samples", *keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row["wire"]), str(row["config"]), f"{row['members']:,}", f"{row['latency_samples']:,}"]
        cells += [f"{row[k]['mean']:,.3g} ±{row[k]['spread'] * 100:.0f}%" for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        return render_again(out)
    commands: list[str] = [f"rayguild bench all {' '.join(sys.argv[2:] if argv is None else argv)}".strip()]
    summary: dict[str, Any] = {"machine_before": machine()}
    records: list[dict[str, Any]] = []
    for wire in args.wires:
        run_argv = ["--members", *map(str, args.members), "--sessions", str(args.sessions),
                    "--messages", str(args.messages), "--rate", str(args.rate), "--repeats", str(args.repeats),
                    "--wire", wire, "--out", str(out / f"fanout-{wire}")]  # fmt: skip
        commands.append("rayguild bench fanout " + " ".join(run_argv))
        progress(commands[-1])
        fanout.main(run_argv)
        records += json.loads((out / f"fanout-{wire}" / "results.json").read_text())["records"]
    rows = aggregate(records, FANOUT_KEYS)
    summary["fanout"] = rows
    plot_wire(rows, out / "fanout_wire.png")
    plot_histograms(records, out / "latency_histograms.png")

    workload_argv = ["--guilds", "20", "--max-members", str(args.workload_max_members), "--sessions", str(args.sessions),
                     "--relay-above", str(args.workload_max_members // 20),
                     "--duration-s", str(args.workload_duration_s), "--repeats", str(args.repeats),
                     "--out", str(out / "workload")]  # fmt: skip
    commands.append("rayguild bench workload " + " ".join(workload_argv))
    progress(commands[-1])
    summary["workload"] = mixed.main(workload_argv)

    storage_argv = ["--out", str(out / "storage"), "--backends", "sqlite", "--inserts", "2000",
                    "--fetches", "500", "--concurrency", "1"]  # fmt: skip
    commands.append("python -m rayguild.benchmarks.storage " + " ".join(storage_argv))
    storage.main(storage_argv)
    inserts = [r for r in json.loads((out / "storage" / "results.json").read_text())["results"]
               if r["phase"] == "insert"]  # fmt: skip
    write_us = 1e6 / inserts[0]["ops_per_s"] if inserts else 0.0

    recovery_argv = ["--out", str(out / "recovery"), "--trials", str(args.repeats)]
    commands.append("python -m rayguild.benchmarks.recovery " + " ".join(recovery_argv))
    recovery.main(recovery_argv)
    summary["recovery"] = json.loads((out / "recovery" / "results.json").read_text())["summary"]

    smallest = min(args.members)
    summary["costmodel"] = model_check(records, smallest, write_us)
    summary["commands"] = commands
    summary["machine_after"] = machine()
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "README.md").write_text(render(summary))
    progress(f"wrote {out}/summary.json and README.md")
    return 0


def render_again(out: Path) -> int:
    """Summary, plots and README again from the committed raw results (the model or the tables
    changed, the measurements did not); the machine blocks and commands are kept."""
    summary = json.loads((out / "summary.json").read_text())
    records = [
        record for wire in dict.fromkeys(r["wire"] for r in summary["fanout"])
        for record in json.loads((out / f"fanout-{wire}" / "results.json").read_text())["records"]
    ]  # fmt: skip
    summary["fanout"] = aggregate(records, FANOUT_KEYS)
    plot_wire(summary["fanout"], out / "fanout_wire.png")
    plot_histograms(records, out / "latency_histograms.png")
    cm = summary["costmodel"]
    summary["costmodel"] = model_check(records, cm["fit_on_members"], cm["storage_write_us"])
    recovered = out / "recovery" / "results.json"
    if "recovery" not in summary and recovered.exists():  # results from before bench all ran it
        result = json.loads(recovered.read_text())
        summary["recovery"] = result["summary"]
        summary["commands"].append(result["command"])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "README.md").write_text(render(summary))
    return 0


def passive_saving(runs: Sequence[Mapping[str, Any]]) -> str:
    """The passive pruning's saving over the workload's repeats: frames, CPU and wall time."""

    def mean(mode: str, key: str) -> float:
        values = [float(r[key]) for r in runs if r["mode"] == mode]
        return sum(values) / len(values) if values else 0.0

    parts = []
    for key, label in (("frames", "frames"), ("session_cpu_s", "session CPU"), ("relay_cpu_s", "relay CPU"),
                       ("guild_cpu_s", "guild CPU"), ("ray_cpu_s", "all Ray CPU")):  # fmt: skip
        full, pruned = mean("relays", key), mean("relays+passive", key)
        parts.append(f"{label} {(pruned - full) / full * 100:+.0f} %" if full else f"{label} n/a")
    return "Passive pruning, mean over the repeats (same event plan): " + ", ".join(parts) + "."


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


def render(summary: Mapping[str, Any]) -> str:
    m = summary["machine_before"]
    lines = [
        "# Committed benchmark results",
        "",
        "Re-made by the first command below; every other line is what it ran.",
        "",
        "```",
        *summary["commands"],
        "```",
        "",
        f"Machine: {m['cores']} cores, {m['memory_bytes'] / 2**30:.1f} GiB, Python {m['python']}, "
        f"{m['platform']}; load average (1/5/15 min) {m['loadavg_1_5_15']} before, "
        f"{summary['machine_after']['loadavg_1_5_15']} after (the machine was shared).",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        "",
        "## Fan-out: routing only (`none`) and the wire (`zlib`, `zstd`) side by side",
        "",
        "Mean over the repeats ± relative spread ((max - min) / mean). `samples` is how many messages",
        "the latency percentiles rest on (all repeats together). RSS columns are measured",
        "(/proc VmRSS growth of the shard processes); `bytes_per_session` is the old formula.",
        "",
        table(summary["fanout"], FANOUT_KEYS),
        "",
        "## Mixed workload (Zipf guild sizes, churn, presence, cache-defeating changes)",
        "",
        "CPU seconds from /proc over the run; `Ray CPU` is every process of the run's Ray (GCS, raylet,",
        "all actors). The passive saving is the difference between the two modes' rows.",
        "",
        "| mode | repeat | wall s | guild CPU s | relay CPU s | session CPU s | Ray CPU s | frames | msgs | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in summary["workload"]:
        lat = w["latency_ms"]
        lines.append(
            f"| {w['mode']} | {w['repeat']} | {w['wall_s']} | {w['guild_cpu_s']} | {w['relay_cpu_s']} | "
            f"{w['session_cpu_s']} | {w['ray_cpu_s']} | "
            f"{w['frames']:,} | {lat['count']:,} | {lat['p50']} | {lat['p99']} |"
        )
    lines += ["", passive_saving(summary["workload"])]
    cm = summary["costmodel"]
    lines += ["", f"## Cost model (fit on {cm['fit_on_members']:,} members, checked on the others)", ""]
    lines += ["CPU per message = fixed + per recipient, fitted by least squares; the error is the model's CPU",
              "per message against the measured one at the other sizes.", ""]  # fmt: skip
    lines += ["| wire | routing µs/recipient | session µs/frame | fixed µs/msg (routing, per session shard) | B/member | B/session | mean abs error | max abs error | 1M-online guild @10 msg/s: cores, GiB | 5M users, 50k msg/s, 40 recipients each: cores, GiB |",
              "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for wire, w in cm["by_wire"].items():
        c, g, k = w["costs"], w["one_million_online_guild_10_msg_s"], w["five_million_users_cluster"]
        lines.append(
            f"| {wire} | {c['routing_us_per_recipient']} | {c['session_us_per_frame']} | "
            f"{c['routing_us_per_message']:.0f}, {c['session_us_per_message']:.0f} | "
            f"{c['bytes_per_member']:,.0f} | {c['bytes_per_session']:,.0f} | {w['mean_abs_error']} | "
            f"{w['max_abs_error']} | {g['cores']:.1f}, {g['memory_bytes'] / 2**30:.1f} | "
            f"{k['cores']:.1f}, {k['memory_bytes'] / 2**30:.1f} |"
        )
    if "recovery" in summary:
        lines += ["", "## Recovery (3-node Ray cluster on this box)", "",
                  "Seconds from the moment the killed process is gone (its pid polled): mean (min-max).", "",
                  "| failure | trials | gone after the kill call | re-identify possible | first message delivered |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for r in summary["recovery"]:
            cells = [f"{r[k]['mean']:.2f} ({r[k]['min']:.2f}-{r[k]['max']:.2f})"
                     for k in ("dying_s", "reidentify_s", "delivered_s")]  # fmt: skip
            lines.append(f"| {r['failure']} | {r['trials']} | " + " | ".join(cells) + " |")
    lines += ["", "Plots: fanout_wire.png, latency_histograms.png; raw records in fanout-*/results.json.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
