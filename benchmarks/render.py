"""The Markdown of docs/results/README.md, from ``summary.json`` (``rayguild bench all``).

Only formatting: every number comes from the summary (``results.py`` measures and aggregates,
``check.py`` adds its verdicts). Sections a run did not make (``--parts``) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
WORKLOAD_KEYS = ("wall_s", "guild_cpu_s", "relay_cpu_s", "session_cpu_s", "ray_cpu_s", "frames",
                 "latency_ms.p50", "latency_ms.p99")  # fmt: skip


def table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    head = ["wire", "config", "members", "msgs pooled", "pooled p50 ms", "pooled p99 ms", *keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        pool = row.get("pooled") or {"count": row["latency_samples"], "p50": 0.0, "p99": 0.0}
        cells = [str(row["wire"]), str(row["config"]), f"{row['members']:,}", f"{pool['count']:,}",
                 f"{pool['p50']:.3g}", f"{pool['p99']:.3g}"]  # fmt: skip
        cells += [f"{row[k]['mean']:,.3g} ±{row[k]['spread'] * 100:.0f}%" for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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


def render(summary: Mapping[str, Any]) -> str:
    runs = summary["runs"]
    m = runs[0]["machine_before"] if runs else {}
    lines = [
        "# Committed benchmark results",
        "",
        "Re-made by the first command below; every other line is what it ran.",
        "",
        "```",
        *summary["commands"],
        "```",
        "",
    ]
    if m:
        lines += [
            f"Machine: {m['cores']} cores, {m['memory_bytes'] / 2**30:.1f} GiB, Python {m['python']}, "
            f"{m['platform']}; shared with other test suites.",
            "Libraries: " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
            "",
            "Runs (load average over 1/5/15 min before and after each):",
            "",
        ]
    for r in runs:
        walls = r.get("wall_s", {})
        took = ", ".join(f"{k} {v / 60:.1f} min" for k, v in walls.items())
        note = f" ({r['note']})" if r.get("note") else ""
        lines.append(
            f"- `{r['command']}`: {took}; load {r['machine_before']['loadavg_1_5_15']} before, "
            f"{r['machine_after']['loadavg_1_5_15']} after{note}."
        )
    if summary.get("fanout"):
        lines += _fanout(summary["fanout"])
    if summary.get("workload"):
        lines += _workload(summary["workload"], summary.get("workload_caches"))
    if summary.get("costmodel"):
        lines += _costmodel(summary["costmodel"])
    if summary.get("recovery"):
        lines += _recovery(summary["recovery"])
    if summary.get("check"):
        lines += _check(summary["check"])
    lines += ["", "Plots: fanout_wire.png, latency_histograms.png; raw records in fanout-*/results.json.", ""]
    return "\n".join(lines)


def _fanout(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        "",
        "## Fan-out: routing only (`none`) and the wire (`zlib`, `zstd`) side by side",
        "",
        "`msgs pooled` is how many messages the pooled percentiles rest on (every repeat's messages",
        "together, read from the merged log histograms, within 2 %). The other columns are the mean",
        "over the repeats ± relative spread ((max - min) / mean); `latency.p50` / `latency.p99` are",
        "per repeat (each on a third of the messages). RSS columns are measured (/proc VmRSS growth",
        "of the shard processes); `bytes_per_session` is the old formula.",
        "",
        table(rows, FANOUT_KEYS),
    ]


def _workload(runs: Sequence[Mapping[str, Any]], caches: Mapping[str, Any] | None) -> list[str]:
    lines = [
        "",
        "## Mixed workload (Zipf guild sizes, churn, session flips, presence, cache-defeating changes)",
        "",
        "CPU seconds from /proc over the run; `Ray CPU` is every process of the run's Ray (GCS, raylet,",
        "all actors). The passive saving is the difference between the two modes' rows.",
        "",
        "| mode | repeat | wall s | guild CPU s | relay CPU s | session CPU s | Ray CPU s | frames | msgs | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in runs:
        lat = w["latency_ms"]
        lines.append(
            f"| {w['mode']} | {w['repeat']} | {w['wall_s']} | {w['guild_cpu_s']} | {w['relay_cpu_s']} | "
            f"{w['session_cpu_s']} | {w['ray_cpu_s']} | "
            f"{w['frames']:,} | {lat['count']:,} | {lat['p50']} | {lat['p99']} |"
        )
    kinds = runs[0].get("events", {})
    lines += ["", "Events of one run: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()) + "."]
    if caches:
        lines.append(
            f"Caches defeated: of {caches['messages']:,} messages, {caches['view_cache_misses']:,} "
            f"({caches['view_miss_share'] * 100:.1f} %) found their guild's VIEW_CHANNEL column cleared and "
            f"{caches['recipient_cache_misses']:,} ({caches['recipient_miss_share'] * 100:.1f} %) its recipient "
            "cache cleared since the last message to that channel (first messages included); counted from "
            "the event plan and the shards' clearing rules (benchmarks/workload.py `cache_report`)."
        )
    return [*lines, "", passive_saving(runs)]


def _costmodel(cm: Mapping[str, Any]) -> list[str]:
    lines = ["", f"## Cost model (fit on {cm['fit_on_members']:,} members, checked on the others)", ""]
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
    return lines


def _recovery(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["", "## Recovery (3-node Ray cluster on this box)", "",
             "Seconds from the moment the killed process is gone (its pid polled): mean (min-max).", "",
             "| failure | trials | gone after the kill call | re-identify possible | first message delivered |",
             "|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        cells = [f"{r[k]['mean']:.2f} ({r[k]['min']:.2f}-{r[k]['max']:.2f})"
                 for k in ("dying_s", "reidentify_s", "delivered_s")]  # fmt: skip
        lines.append(f"| {r['failure']} | {r['trials']} | " + " | ".join(cells) + " |")
    return lines


def _check(check: Mapping[str, Any]) -> list[str]:
    """The verdicts of ``rayguild bench check``: one more run of each quoted configuration."""
    lines = ["", "## Check: one more run of each configuration against the spread above", "",
             f"`{check['command']}` ({check['wall_s'] / 60:.1f} min, load average {check['loadavg_1_5_15']} "
             "before). A metric is `in band` when the new run is within mean ± (max - min) of the committed",
             "repeats (the ± printed above), `in range` when within [min, max].", "",
             "| bench | metrics | in band | in range |", "|---|---|---|---|"]  # fmt: skip
    for bench, c in check["by_bench"].items():
        lines.append(f"| {bench} | {c['metrics']} | {c['in_band']} ({c['in_band'] / c['metrics'] * 100:.0f} %) | "
                     f"{c['in_range']} ({c['in_range'] / c['metrics'] * 100:.0f} %) |")  # fmt: skip
    worst = check.get("worst", [])
    if worst:
        lines += ["", "Furthest outside (new value vs committed mean ± band): " + "; ".join(
            f"{w['bench']} {w['config']} {w['key']}: {w['new']:,.4g} vs {w['mean']:,.4g} ± {w['band']:,.3g}"
            for w in worst) + "."]  # fmt: skip
    return lines
