"""Plain helpers the REST tests and the contract tests share (no fixtures: conftest.py has those):
accounts, requests, a guild its members joined, the audit log's kinds, a second edge's client, and
a storage wrapper that watches and disturbs settings documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from rayguild.errors import StorageUnavailable
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter

API = "/api/v10"
Client = TestClient[Any, Any]
Register = Callable[..., Awaitable["Account"]]


NewGuild = Callable[..., Awaitable["JoinedGuild"]]


class Account:
    """A registered user and the headers that authenticate as them."""

    def __init__(self, token: str, user: dict[str, Any]) -> None:
        self.token, self.user, self.id = token, user, user["id"]
        prefix = "Bot " if user["bot"] else ""
        self.headers = {"Authorization": f"{prefix}{token}"}


@asynccontextmanager
async def edge_client(cluster: LocalCluster, index: int = 0, limit_scale: int = 1) -> AsyncIterator[Client]:
    """A client of edge ``index`` of ``cluster`` (its own storage object), every rate limit
    multiplied by ``limit_scale``."""
    app = build_app(await cluster.edge(index), RateLimiter(limit_scale=limit_scale))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def registrar(client: Client) -> Register:
    """Registers accounts through ``client``'s edge."""

    async def make(name: str = "alice", bot: bool = False) -> Account:
        response = await client.post(f"{API}/auth/register", json={"username": name, "bot": bot})
        assert response.status == 201, await response.text()
        body = await response.json()
        return Account(body["token"], body["user"])

    return make


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


async def joined_guild(client: Client, name: str, owner: Account, *members: Account) -> JoinedGuild:
    """A ``JoinedGuild`` named ``name``, made through ``client``."""
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": name}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]
    invite = await call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={"max_age": 0})
    for member in members:
        await call(client, member, "POST", f"/invites/{invite['code']}")
    return JoinedGuild(owner, members, gid, channel, invite)


async def audit_kinds(client: Client, who: Any, guild_id: str) -> list[int]:
    """The action types of the guild's audit log, newest first."""
    entries = (await call(client, who, "GET", f"/guilds/{guild_id}/audit-logs"))["audit_log_entries"]
    return [e["action_type"] for e in entries]


MARK = "slowmode:"  # the settings documents slowmode claims by compare-and-set


class MarkProbe:
    """Watches and disturbs the settings documents named ``prefix`` (by default the slowmode
    marks) in every storage object it wraps (each edge has its own): ``gate(n)`` holds the first
    ``n`` reads of one until all ``n`` arrived, so ``n`` requests surely overlap; ``lost`` counts swaps that returned False; ``timeouts`` lists
    what the next swaps do instead of answering: "applied" (store, then raise StorageUnavailable,
    as a Cassandra CAS write timeout after the commit), "unapplied" (raise without storing), or
    "down" (raise without storing, and the re-read of the mark raises too)."""

    def __init__(self, prefix: str = MARK) -> None:
        self.prefix, self.lost, self.timeouts = prefix, 0, list[str]()
        self._gate: asyncio.Barrier | None = None
        self._gated, self._down = 0, False

    def gate(self, parties: int) -> None:
        self._gate, self._gated = asyncio.Barrier(parties), 0

    def wrap(self, storage: Any) -> Any:
        return _Probed(storage, self)


class _Probed:
    def __init__(self, inner: Any, probe: MarkProbe) -> None:
        self._inner, self._probe = inner, probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_setting(self, owner_id: int, name: str) -> str | None:
        probe = self._probe
        if name.startswith(probe.prefix):
            if probe._down:
                probe._down = False
                raise StorageUnavailable("the database went away")
            if probe._gate is not None and probe._gated < probe._gate.parties:
                probe._gated += 1
                async with asyncio.timeout(10):  # every gated claim arrives at once, or the test fails
                    await probe._gate.wait()
        found: str | None = await self._inner.get_setting(owner_id, name)
        return found

    async def swap_setting(self, owner_id: int, name: str, expected: str | None, document: str) -> bool:
        probe = self._probe
        if name.startswith(probe.prefix) and probe.timeouts:
            outcome = probe.timeouts.pop(0)
            if outcome == "applied":
                await self._inner.swap_setting(owner_id, name, expected, document)
            probe._down = outcome == "down"
            raise StorageUnavailable(f"write timeout of type CAS ({outcome})")
        swapped: bool = await self._inner.swap_setting(owner_id, name, expected, document)
        if name.startswith(probe.prefix) and not swapped:
            probe.lost += 1
        return swapped
