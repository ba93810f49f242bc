"""rayguild's custom Ray metrics (``ray.util.metrics``), exported through Ray's metrics endpoint.

Labels are low-cardinality on purpose: the shard name (a few dozen at most), the event type
(a fixed set) and the kind of drop. Never a guild, user or session id: those go in the logs.
Names are prefixed ``rayguild_``; Ray adds its own ``ray_`` prefix when it exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rayguild.actors.cluster import Counter, Gauge, Histogram

LATENCY_BOUNDARIES_MS: list[float] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]


@dataclass(frozen=True, slots=True)
class ShardMetrics:
    events_in: Counter
    deliveries_out: Counter
    fanout_latency_ms: Histogram
    ray_calls: Counter
    active_sessions: Gauge
    passive_sessions: Gauge
    relays_per_guild: Gauge
    queue_depth: Gauge
    dropped_sessions: Counter
    resumes: Counter


_metrics: ShardMetrics | None = None


def count(counter: Counter, value: float, tags: dict[str, str]) -> None:
    """Add ``value`` if positive: Ray's Counter.inc refuses 0, and a metric must never fail a call."""
    if value > 0:
        counter.inc(value, tags=tags)


def shard_metrics() -> ShardMetrics:
    """The process's metric objects, made once (Ray registers a metric per name and process)."""
    global _metrics
    if _metrics is None:
        shard = ("shard",)
        _metrics = ShardMetrics(
            events_in=Counter("rayguild_events_in", "events published to guilds", ("shard", "t")),
            deliveries_out=Counter("rayguild_deliveries_out", "frames written to sessions", shard),
            fanout_latency_ms=Histogram(
                "rayguild_fanout_latency_ms",
                "publish accepted -> frames written on a session shard, per event and shard",
                LATENCY_BOUNDARIES_MS,
                shard,
            ),
            ray_calls=Counter(
                "rayguild_fanout_ray_calls", "batched calls towards session shards/relays", shard
            ),
            active_sessions=Gauge("rayguild_active_sessions", "sessions getting every event", shard),
            passive_sessions=Gauge("rayguild_passive_sessions", "sessions getting summaries only", shard),
            relays_per_guild=Gauge("rayguild_relays", "relay actors of the guilds on this shard", shard),
            queue_depth=Gauge("rayguild_queue_depth", "batches in flight towards session shards", shard),
            dropped_sessions=Counter(
                "rayguild_dropped_sessions",
                "sessions told to re-identify because they lagged",
                ("shard", "why"),
            ),
            resumes=Counter("rayguild_resumes", "op 6 resumes by outcome", ("shard", "outcome")),
        )
    return _metrics
