"""REST tests' fixtures: a real edge app on a loopback port over the in-process cluster and a
SQLite file, a second edge of it, accounts, a guild its members joined (the plain helpers behind
them are in tests/http/helpers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from rayguild.config import Config
from rayguild.http_api.local import LocalCluster
from rayguild.storage.sqlite import SqliteStorage
from tests.http.helpers import (
    Account,
    Client,
    JoinedGuild,
    NewGuild,
    Register,
    edge_client,
    joined_guild,
    registrar,
)


@pytest.fixture
def wrap_storage() -> Callable[[SqliteStorage], Any]:
    """What every part of the cluster gets as its storage object: a module that watches or counts
    storage calls overrides this (the cluster stays the one below)."""
    return lambda storage: storage


@pytest.fixture
async def cluster(
    tmp_path: Path, wrap_storage: Callable[[SqliteStorage], Any]
) -> AsyncIterator[LocalCluster]:
    db = tmp_path / "rayguild.sqlite3"
    config = Config(sqlite_path=str(db), tick_ms=1.0, identify_interval_s=0.0)
    local = LocalCluster(config, lambda: wrap_storage(SqliteStorage(db)))
    yield local
    await local.close()


@pytest.fixture
def limit_scale() -> int:
    """Discord's rate limits; a module whose tests write in bursts overrides this fixture."""
    return 1


@pytest.fixture
async def client(cluster: LocalCluster, limit_scale: int) -> AsyncIterator[Client]:
    async with edge_client(cluster, 0, limit_scale) as test_client:
        yield test_client


@pytest.fixture
async def other_edge(cluster: LocalCluster, limit_scale: int) -> AsyncIterator[Client]:
    """A second edge of the same cluster (its own storage object), limits as ``client``'s."""
    async with edge_client(cluster, 1, limit_scale) as test_client:
        yield test_client


@pytest.fixture
def register(client: Client) -> Register:
    return registrar(client)


@pytest.fixture
def new_guild(client: Client) -> NewGuild:
    """``joined_guild`` through ``client``: ``await new_guild(name, owner, *members)``."""

    async def make(name: str, owner: Account, *members: Account) -> JoinedGuild:
        return await joined_guild(client, name, owner, *members)

    return make
