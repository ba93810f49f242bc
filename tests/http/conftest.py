"""REST tests: a real edge app on a loopback port over the in-process cluster and a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.storage.sqlite import SqliteStorage

API = "/api/v10"
Register = Callable[..., Awaitable["Account"]]


class Account:
    """A registered user and the headers that authenticate as them."""

    def __init__(self, token: str, user: dict[str, Any]) -> None:
        self.token, self.user, self.id = token, user, user["id"]
        prefix = "Bot " if user["bot"] else ""
        self.headers = {"Authorization": f"{prefix}{token}"}


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[LocalCluster]:
    db = tmp_path / "rayguild.sqlite3"
    local = LocalCluster(
        Config(sqlite_path=str(db), tick_ms=1.0, identify_interval_s=0.0), lambda: SqliteStorage(db)
    )
    yield local
    await local.close()


@pytest.fixture
async def client(cluster: LocalCluster) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_app(await cluster.edge(0))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def registrar(client: TestClient[Any, Any]) -> Register:
    """Registers accounts through ``client``'s edge."""

    async def make(name: str = "alice", bot: bool = False) -> Account:
        response = await client.post(f"{API}/auth/register", json={"username": name, "bot": bot})
        assert response.status == 201, await response.text()
        body = await response.json()
        return Account(body["token"], body["user"])

    return make


@pytest.fixture
def register(client: TestClient[Any, Any]) -> Register:
    return registrar(client)
