"""No route answers 5xx to a malformed request: every method of every route the edge serves is
called (ids filled with a real guild, channel and user) with bodies of the wrong types, shapes and
values; each answer must be a 2xx or Discord's 4xx shape ``{code, message}``."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from rayguild.http_api.app import API_PREFIX, build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from tests.http.helpers import call

Client = TestClient[Any, Any]
BODIES: list[Any] = [
    {}, [], "x", 1, None, {"name": None}, {"name": 5}, {"roles": "x"}, {"roles": [None]}, [{"id": None}],
    [{"id": "1", "position": "x"}], [1, 2], {"communication_disabled_until": "x"}, {"user_ids": [1, "a"]},
    {"messages": ["a", "b"]}, {"messages": [1, 2]}, {"days": "x"}, {"include_roles": [None]},
    {"type": "1", "allow": "x"}, {"enabled": "yes"}, {"channel_id": []}, {"welcome_channels": [1]},
    {"default_channel_ids": [None]}, {"image": 5}, {"avatar": 5}, {"features": "COMMUNITY"},
    {"tags": [1]}, {"delete_message_seconds": "x"}, {"nick": 5}, {"mute": "x"}, {"permissions": "-1"},
    {"color": None}, {"description": 5}, {"content": 5}, {"embeds": "x"},
]  # fmt: skip


@pytest.fixture
async def client(cluster: LocalCluster) -> AsyncIterator[Client]:
    async with TestClient(
        TestServer(build_app(await cluster.edge(0), RateLimiter(limit_scale=1000)))
    ) as test_client:
        yield test_client


async def test_no_route_answers_5xx_to_malformed_input(client: Client, register: Any) -> None:
    owner = await register("owner", bot=True)
    guild = await call(client, owner, "POST", "/guilds", 201, json={"name": "Fuzzed"})
    channel = (await call(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    ids = {"guild_id": guild["id"], "channel_id": channel["id"], "user_id": owner.id, "role_id": guild["id"],
           "application_id": owner.id, "overwrite_id": owner.id}  # fmt: skip
    api = next(r for r in client.app.router.resources() if r.canonical == API_PREFIX)
    statuses: Counter[int] = Counter()
    routes = 0
    for resource in api._app.router.resources():  # the /api/v10 sub-application's routes
        path = re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "1234"), resource.canonical)
        for route in resource:
            if route.method == "HEAD":
                continue
            routes += 1
            for body in BODIES if route.method in ("POST", "PUT", "PATCH") else [None]:
                headers = {**owner.headers, "Content-Type": "application/json"}
                data = json.dumps(body) if route.method in ("POST", "PUT", "PATCH") else None
                response = await client.request(route.method, path, headers=headers, data=data)
                statuses[response.status] += 1
                assert response.status < 500, (
                    f"{route.method} {resource.canonical} {body!r}: {await response.text()}"
                )
                if response.status >= 400:
                    assert "code" in await response.json(), f"{route.method} {resource.canonical}"
    assert routes >= 100 and statuses[400] > 100 and sum(n for s, n in statuses.items() if s < 300) > 50
