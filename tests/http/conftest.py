"""REST tests: a real edge app on a loopback port over the in-process cluster and a SQLite file,
and the set-ups many tests share: accounts, a guild its members joined, the audit log's kinds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.sqlite import SqliteStorage

API = "/api/v10"
Client = TestClient[Any, Any]
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


@asynccontextmanager
async def edge_client(cluster: LocalCluster, index: int = 0, limit_scale: int = 1) -> AsyncIterator[Client]:
    """A client of edge ``index`` of ``cluster`` (its own storage object), every rate limit
    multiplied by ``limit_scale``."""
    app = build_app(await cluster.edge(index), RateLimiter(limit_scale=limit_scale))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def limit_scale() -> int:
    """Discord's rate limits; a module whose tests write in bursts overrides this fixture."""
    return 1


@pytest.fixture
async def client(cluster: LocalCluster, limit_scale: int) -> AsyncIterator[Client]:
    async with edge_client(cluster, 0, limit_scale) as test_client:
        yield test_client


def registrar(client: Client) -> Register:
    """Registers accounts through ``client``'s edge."""

    async def make(name: str = "alice", bot: bool = False) -> Account:
        response = await client.post(f"{API}/auth/register", json={"username": name, "bot": bot})
        assert response.status == 201, await response.text()
        body = await response.json()
        return Account(body["token"], body["user"])

    return make


@pytest.fixture
def register(client: Client) -> Register:
    return registrar(client)


async def call(client: Client, who: Any, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    """``who``'s request; asserts the status and returns the JSON body (None for 204)."""
    headers = {**who.headers, **kw.pop("headers", {})}
    response = await client.request(method, f"{API}{path}", headers=headers, **kw)
    assert response.status == status, await response.text()
    return await response.json() if response.status != 204 else None


@dataclass(frozen=True, slots=True)
class JoinedGuild:
    """A guild ``owner`` created; ``members`` joined it through ``invite`` (to ``channel``, its
    first channel; the invite never expires)."""

    owner: Account
    members: tuple[Account, ...]
    id: str
    channel: dict[str, Any]
    invite: dict[str, Any]


NewGuild = Callable[..., Awaitable[JoinedGuild]]


async def joined_guild(client: Client, name: str, owner: Account, *members: Account) -> JoinedGuild:
    """A ``JoinedGuild`` named ``name``, made through ``client``."""
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": name}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]
    invite = await call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={"max_age": 0})
    for member in members:
        await call(client, member, "POST", f"/invites/{invite['code']}")
    return JoinedGuild(owner, members, gid, channel, invite)


@pytest.fixture
def new_guild(client: Client) -> NewGuild:
    """``joined_guild`` through ``client``: ``await new_guild(name, owner, *members)``."""

    async def make(name: str, owner: Account, *members: Account) -> JoinedGuild:
        return await joined_guild(client, name, owner, *members)

    return make


async def audit_kinds(client: Client, who: Any, guild_id: str) -> list[int]:
    """The action types of the guild's audit log, newest first."""
    entries = (await call(client, who, "GET", f"/guilds/{guild_id}/audit-logs"))["audit_log_entries"]
    return [e["action_type"] for e in entries]
