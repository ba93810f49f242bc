"""The cost model's arithmetic: stage costs times load, memory per row and session, the fit."""

from __future__ import annotations

import pytest

from rayguild.benchmarks.costmodel import Deployment, StageCosts, calibrate, check, fit_line, predict

COSTS = StageCosts(
    routing_us_per_recipient=0.5,
    session_us_per_frame=2.0,
    routing_us_per_message=0.0,
    session_us_per_message=0.0,
    ray_call_us=100.0,
    storage_write_us=200.0,
    bytes_per_member=40.0,
    bytes_per_session=10_000.0,
)


def test_one_million_online_guild() -> None:
    d = Deployment(members=1_000_000, online=1_000_000, messages_per_s=10, active_fraction=0.1,
                   sessions_per_relay=15_000, sessions_per_shard=50_000, core_utilization=1.0)  # fmt: skip
    p = predict(COSTS, d)
    assert p.recipients_per_message == 100_000
    assert p.relays == 67 and p.session_shards == 20
    assert p.ray_calls_per_s == 10 * 67 * 21
    assert p.routing_cores == pytest.approx(10 * 100_000 * 0.5e-6)
    assert p.session_cores == pytest.approx(10 * 100_000 * 2e-6)
    assert p.ray_cores == pytest.approx(10 * 67 * 21 * 100e-6)
    assert p.storage_cores == pytest.approx(10 * 200e-6)
    assert p.cores == pytest.approx(p.routing_cores + p.session_cores + p.ray_cores + p.storage_cores)
    assert p.memory_bytes == 1_000_000 * 40 + 1_000_000 * 10_000


def test_passive_updates_and_utilization_and_many_guilds() -> None:
    d = Deployment(members=100, online=100, messages_per_s=1, active_fraction=0.5, passive_updates_per_s=0.1,
                   guilds_per_user=3, core_utilization=0.5)  # fmt: skip
    p = predict(COSTS, d)
    frames_per_s = 1 * 50 + 50 * 0.1
    assert p.session_cores == pytest.approx(frames_per_s * 2e-6 / 0.5)
    assert p.relays == 0 and p.ray_calls_per_s == 1  # a small guild calls its one session shard
    assert p.memory_bytes == 100 * 3 * 40 + 100 * 10_000
    unpruned = predict(COSTS, Deployment(members=100, online=100, messages_per_s=1, active_fraction=0.5,
                                         prune_passive=False))  # fmt: skip
    assert unpruned.recipients_per_message == 100


def test_a_cluster_prices_the_average_message_not_the_whole_population() -> None:
    d = Deployment(members=5_000_000, online=5_000_000, messages_per_s=1_000, active_fraction=0.1,
                   mean_recipients=40, guilds_per_user=20, sessions_per_shard=50_000,
                   core_utilization=1.0)  # fmt: skip
    p = predict(COSTS, d)
    assert p.recipients_per_message == 40 and p.relays == 0
    assert p.session_shards == 100 and p.ray_calls_per_s == 1_000 * 40  # one call per shard reached
    assert p.routing_cores == pytest.approx(1_000 * 40 * 0.5e-6)
    assert p.memory_bytes == 5_000_000 * 20 * 40 + 5_000_000 * 10_000


def record(members: int, active: int, guild_ms: float, session_ms: float) -> dict[str, object]:
    return {"members": members, "config": "relays", "active_sessions": active,
            "guild_process_cpu_ms_per_message": guild_ms * 0.75, "relay_cpu_ms_per_message": guild_ms * 0.25,
            "session_cpu_ms_per_message": session_ms,
            "guild_rss_bytes_per_member": 50.0, "session_rss_bytes_per_session": 9_000.0}  # fmt: skip


def test_calibrate_fits_a_fixed_and_a_per_recipient_cost_and_check_states_the_error() -> None:
    # guild + relays: 10 us + 1 us/recipient; session shards: 40 us + 3 us/frame (one shard)
    runs = [record(1_000, n, (10 + 1.0 * n) / 1000, (40 + 3.0 * n) / 1000) for n in (100, 1_000)]
    costs = calibrate(runs, ray_call_us=80.0, storage_write_us=150.0)
    assert costs.routing_us_per_recipient == pytest.approx(1.0)
    assert costs.routing_us_per_message == pytest.approx(10.0)
    assert costs.session_us_per_frame == pytest.approx(3.0)
    assert costs.session_us_per_message == pytest.approx(40.0)
    assert (costs.ray_call_us, costs.storage_write_us) == (80.0, 150.0)
    assert (costs.bytes_per_member, costs.bytes_per_session) == (50.0, 9_000.0)
    result = check(costs, record(4_000, 4_000, 5.0, 15.0))
    assert result["predicted_cpu_ms_per_message"] == pytest.approx((50 + 16_000) / 1000)
    assert result["measured_cpu_ms_per_message"] == pytest.approx(20.0)
    assert result["relative_error"] == pytest.approx((16.05 - 20) / 20, abs=1e-3)
    assert fit_line([2.0, 2.0], [4.0, 4.0]) == (0.0, 2.0)  # one recipient count: through the origin
    assert fit_line([1.0, 3.0], [5.0, 3.0]) == (4.0, 0.0)  # cost falling with recipients: all fixed
