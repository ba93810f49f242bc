"""Multi-node tests on ``ray.cluster_utils.Cluster``: a head and two workers on this machine.

The cluster needs its own driver, which a process can have only once, so these tests run in a
pytest process of their own (``pytest tests/multinode``, the second run in scripts/test.sh); a run
that also collects other tests skips them here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray.cluster_utils import Cluster

from rayguild.http_api.server import free_listen_ports

OWN_DRIVER = {"test_nodes.py", "test_relay_node.py"}
NODE_ARGS = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name not in OWN_DRIVER:
        return None
    here = Path(__file__).parent.resolve()
    asked = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    return not all(here in (p, *p.parents) for p in asked)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Cluster]:
    # The dashboard serves Ray's state API (`rayguild status` and these tests read it).
    head = {**NODE_ARGS, "include_dashboard": True, "dashboard_port": free_listen_ports(1)}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(2):
        cluster.add_node(**NODE_ARGS)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()
