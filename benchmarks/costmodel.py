"""A cost model toward Discord's scale: measured per-stage costs in, cores and memory out.

Stages (each a cost measured on this box by ``rayguild bench fanout``; ``calibrate`` derives
them from its records):
- routing: guild-shard and relay process CPU per recipient (bitmap, permission filter, batching,
  serialising the Ray calls: the calls' cost is in here, ``ray_call_us`` prices extra hops);
- session: session-shard CPU per delivered frame (seq, replay ring, JSON frame) — the wire
  (compress + websocket header) is in it when the run used ``--wire``;
- ray_call: CPU per Ray call (guild -> relay, relay or guild -> session shard), both sides;
- storage_write: CPU per stored message (``rayguild bench storage``);
- memory: resident bytes per member row (guild shard) and per connected session (session shard,
  replay ring, share of the event log, compression context).

``predict`` prices a deployment; ``check`` compares a prediction with a measured run and gives
the relative error. Everything is arithmetic on the inputs: no clock, no Ray.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StageCosts:
    routing_us_per_recipient: float
    session_us_per_frame: float
    routing_us_per_message: float  # fixed per message, whatever its recipients (the fit's intercept)
    session_us_per_message: float
    ray_call_us: float
    storage_write_us: float
    bytes_per_member: float
    bytes_per_session: float


@dataclass(frozen=True, slots=True)
class Deployment:
    """One guild (or a cluster of them) at a message rate.

    ``members`` rows are held by guild shards; ``online`` sessions are connected; of these
    ``active_fraction`` view the guild (the rest are passive, pruned to periodic updates when
    ``prune_passive``). For a cluster of many guilds, ``guilds_per_user`` multiplies member rows
    and ``mean_recipients`` replaces ``online * active_fraction`` (a message reaches one guild).
    """

    members: int
    online: int
    messages_per_s: float
    active_fraction: float = 1.0
    prune_passive: bool = True
    sessions_per_relay: int = 15_000
    sessions_per_shard: int = 50_000
    guilds_per_user: float = 1.0
    passive_updates_per_s: float = 0.0  # per passive session (1 / passive interval)
    mean_recipients: float = 0.0  # a cluster of many guilds: recipients of the average message
    core_utilization: float = 0.7  # keep cores this busy at most


@dataclass(frozen=True, slots=True)
class Prediction:
    recipients_per_message: float
    relays: int
    session_shards: int
    ray_calls_per_s: float
    routing_cores: float
    session_cores: float
    ray_cores: float
    storage_cores: float
    cores: float
    memory_bytes: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def predict(costs: StageCosts, d: Deployment) -> Prediction:
    recipients = d.mean_recipients or d.online * (d.active_fraction if d.prune_passive else 1.0)
    passive = d.online * (1.0 - d.active_fraction) if d.prune_passive else 0.0
    frames_per_s = d.messages_per_s * recipients + passive * d.passive_updates_per_s
    guild_online = d.mean_recipients or d.online  # sessions one message's guild has connected
    relays = math.ceil(guild_online / d.sessions_per_relay) if guild_online > d.sessions_per_relay else 0
    shards = max(1, math.ceil(d.online / d.sessions_per_shard))
    # per message: the guild calls each relay (or each session shard it reaches directly); each
    # relay calls each session shard it reaches
    reached = min(shards, max(1, math.ceil(recipients)))
    hops = relays * (1 + min(shards, d.sessions_per_relay)) if relays else reached
    ray_calls_per_s = d.messages_per_s * hops
    busy = d.core_utilization
    routing = d.messages_per_s * (recipients * costs.routing_us_per_recipient + costs.routing_us_per_message)
    routing = routing / 1e6 / busy
    session = (
        frames_per_s * costs.session_us_per_frame + d.messages_per_s * reached * costs.session_us_per_message
    )
    session = session / 1e6 / busy
    ray = ray_calls_per_s * costs.ray_call_us / 1e6 / busy
    storage = d.messages_per_s * costs.storage_write_us / 1e6 / busy
    memory = d.members * d.guilds_per_user * costs.bytes_per_member + d.online * costs.bytes_per_session
    return Prediction(
        recipients_per_message=recipients,
        relays=relays,
        session_shards=shards,
        ray_calls_per_s=ray_calls_per_s,
        routing_cores=routing,
        session_cores=session,
        ray_cores=ray,
        storage_cores=storage,
        cores=routing + session + ray + storage,
        memory_bytes=memory,
    )


def calibrate(
    records: Sequence[Mapping[str, Any]], ray_call_us: float = 0.0, storage_write_us: float = 0.0
) -> StageCosts:
    """Per-stage costs from fan-out records: CPU per message = fixed + per recipient, fitted by
    least squares over the records (different recipient counts: modes with and without passive
    pruning), from the shards' /proc CPU seconds; memory: the median RSS growth per member and per
    session. ``ray_call_us`` and ``storage_write_us`` come from their own benchmarks."""
    rows = [r for r in records if r["active_sessions"]]
    recipients = [float(r["active_sessions"]) for r in rows]
    routing_fixed, routing_each = fit_line(recipients, [routing_ms(r) * 1000 for r in rows])
    session_fixed, session_each = fit_line(recipients, [r["session_cpu_ms_per_message"] * 1000 for r in rows])
    shards = max((int(r.get("session_shards", 1)) for r in rows), default=1)
    return StageCosts(
        routing_us_per_recipient=routing_each,
        session_us_per_frame=session_each,
        routing_us_per_message=routing_fixed,
        session_us_per_message=session_fixed / shards,
        ray_call_us=ray_call_us,
        storage_write_us=storage_write_us,
        bytes_per_member=median([r["guild_rss_bytes_per_member"] for r in rows]),
        bytes_per_session=median([r["session_rss_bytes_per_session"] for r in rows]),
    )


def fit_line(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line; through the origin if x does not vary. A
    negative slope (the per-item cost drowned in the fixed one and its noise) is taken as 0: the
    cost is then all fixed, the mean of ``y``."""
    n = len(x)
    if n == 0:
        return 0.0, 0.0
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx == 0:
        return 0.0, (my / mx if mx else 0.0)
    slope = max(0.0, sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx)
    return my - slope * mx, slope


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def routing_ms(record: Mapping[str, Any]) -> float:
    """CPU ms per message before the session shards: the guild-shard process and its relays."""
    return float(record["guild_process_cpu_ms_per_message"] + record["relay_cpu_ms_per_message"])


def check(costs: StageCosts, record: Mapping[str, Any]) -> dict[str, float]:
    """The model's CPU per message (guild + session shards) for a measured run, and its error."""
    recipients = record["active_sessions"]
    shards = int(record.get("session_shards", 1))
    per_message = costs.routing_us_per_message + shards * costs.session_us_per_message
    predicted = (
        recipients * (costs.routing_us_per_recipient + costs.session_us_per_frame) + per_message
    ) / 1000
    measured = routing_ms(record) + record["session_cpu_ms_per_message"]
    return {
        "members": record["members"],
        "config": record["config"],
        "predicted_cpu_ms_per_message": round(predicted, 3),
        "measured_cpu_ms_per_message": round(measured, 3),
        "relative_error": round((predicted - measured) / measured, 3) if measured else 0.0,
    }
