"""The whole edge on the real Cassandra node: with the node stopped, message creates answer 503 in
Discord's error shape and nothing half-written appears later; when the node is back the same
edge serves again, without a restart, and every acknowledged message is in the history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage import ScyllaStorage

from .test_outage import cassandra

API = "/api/v10"


@pytest.mark.cassandra
async def test_rest_during_a_cassandra_outage_is_503_then_recovers(
    scylla_factory: Callable[..., ScyllaStorage],
) -> None:
    cluster = LocalCluster(Config(tick_ms=1.0), lambda: scylla_factory(request_timeout_s=2.0))
    ctx = await cluster.edge(0)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(ctx, RateLimiter(limit_scale=100))))
    await client.start_server()
    try:
        reg = await (
            await client.post(f"{API}/auth/register", json={"username": "robot", "bot": True})
        ).json()
        auth = {"Authorization": f"Bot {reg['token']}"}
        guild = await (await client.post(f"{API}/guilds", json={"name": "outage"}, headers=auth)).json()
        channel = (await (await client.get(f"{API}/guilds/{guild['id']}/channels", headers=auth)).json())[0]
        url = f"{API}/channels/{channel['id']}/messages"
        acked = []
        for i in range(5):
            response = await client.post(url, json={"content": f"before {i}"}, headers=auth)
            assert response.status == 200
            acked.append((await response.json())["id"])

        await cassandra("stop")
        refused = await client.post(url, json={"content": "during"}, headers=auth)
        assert refused.status == 503
        assert refused.headers["Content-Type"] == "application/json"
        body = await refused.json()
        assert set(body) >= {"code", "message"}

        await cassandra("restart")
        deadline = time.monotonic() + 90
        while True:  # the same edge and storage object, reconnected by the driver
            response = await client.post(url, json={"content": "after"}, headers=auth)
            if response.status == 200:
                acked.append((await response.json())["id"])
                break
            assert response.status == 503, await response.text()
            assert time.monotonic() < deadline, "rayguild did not recover within 90 s"
            await asyncio.sleep(0.5)
        history = await (await client.get(f"{url}?limit=100", headers=auth)).json()
        assert [m["id"] for m in history] == list(reversed(acked))  # all acknowledged, none refused
        assert "during" not in {m["content"] for m in history}
    finally:
        await client.close()
        await cluster.close()
