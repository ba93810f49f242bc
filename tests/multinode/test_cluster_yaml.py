"""cluster.yaml is a launcher file Ray itself accepts, with the keys an operator must fill in."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER_YAML = Path(__file__).parents[2] / "cluster.yaml"


def load() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CLUSTER_YAML.read_text())
    return config


def test_cluster_yaml_passes_rays_own_schema() -> None:
    prepared = prepare_config(copy.deepcopy(load()))  # fills the defaults `ray up` fills
    validate_config(prepared)
    assert prepared["available_node_types"]["local.cluster.node"]["max_workers"] == 2


def test_cluster_yaml_names_the_local_provider_and_the_commands_that_install_and_start() -> None:
    config = load()
    provider = config["provider"]
    assert provider["type"] == "local"
    assert provider["head_ip"] and len(provider["worker_ips"]) == config["max_workers"]
    assert config["auth"]["ssh_user"] and config["auth"]["ssh_private_key"]
    assert config["file_mounts"] == {"~/rayguild": "."}
    assert any("pip install" in c and "~/rayguild" in c for c in config["setup_commands"])
    head = " ".join(config["head_start_ray_commands"])
    assert "ray start --head" in head and "--dashboard-host 0.0.0.0" in head and "--port=6379" in head
    worker = " ".join(config["worker_start_ray_commands"])
    assert "ray start --address=$RAY_HEAD_IP:6379" in worker
    assert "REPLACE" in CLUSTER_YAML.read_text()  # the placeholders are marked
