"""One local Ray cluster for the whole test session, with a small set of real shards on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rayguild.actors.runtime import Runtime
from rayguild.config import Config, load_config
from rayguild.http_api.server import free_listen_ports


@pytest.fixture(scope="session")
def ray_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    data = Path(tmp_path_factory.mktemp("ray-sqlite")) / "rayguild.sqlite3"
    return load_config(
        environ={},
        namespace="rayguild-test",
        guild_shards=2,
        session_shards=2,
        presence_shards=1,
        sqlite_path=str(data),
        relay_size=3,
        relay_threshold_sessions=4,
        passive_guild_members=10_000_000,
        log_level="warning",
        passive_update_interval_s=3600.0,  # summaries would mix into the delivery counts
        dashboard_port=free_listen_ports(1),
        push_allowed_networks=("127.0.0.0/8",),  # the local webhook sink
        identify_interval_s=0.0,  # bots identify again at once (Discord: one per 5 s)
    )


@pytest.fixture(scope="session")
def runtime(ray_config: Config) -> Iterator[Runtime]:
    """Real Ray, real shard actors (no edge: the gateway tests bring their own)."""
    rt = Runtime(ray_config)
    rt.start(num_cpus=2, log_to_driver=False)  # the dashboard serves Ray's state API
    yield rt
    rt.shutdown()


@pytest.fixture(scope="session")
def edge_runtime(runtime: Runtime, ray_config: Config) -> Iterator[Runtime]:
    """The full node on the same Ray cluster: shards in their own namespace, edges on a free port."""
    from rayguild.http_api.server import start_edge

    config = replace(
        ray_config, namespace="rayguild-test-edge", port=free_listen_ports(1), relay_threshold_sessions=15_000
    )
    rt = Runtime(config, edge_factory=start_edge)
    rt.start()  # Ray is already up: this only creates and starts the shards
    yield rt
