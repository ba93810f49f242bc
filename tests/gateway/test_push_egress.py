"""No request forgery through push devices: a webhook URL that reaches a loopback, private,
link-local or otherwise non-public address is refused at registration (400 50035 on ``token``)
and again at delivery, on both transports, unless ``push_allowed_networks`` allows the range."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rayguild.actors.push import PushRequest, PushShard, PushTransport, UrllibTransport
from rayguild.benchmarks.webhook_sink import WebhookSink
from rayguild.config import Config
from rayguild.http_api.webhook import AiohttpTransport
from rayguild.storage import Device, SqliteStorage

from .conftest import API, LOCAL_SINK, EdgeFactory
from .test_push import wait_idle

REFUSED_URLS = [
    "http://127.0.0.1:{port}/push",
    "http://localhost:{port}/push",  # a name resolving to loopback
    "http://[::1]:{port}/push",
    "http://[::ffff:127.0.0.1]:{port}/push",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "https://[fe80::1]/",
    "http://0.0.0.0:{port}/",
    "http://224.0.0.1/",
]


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    hook = WebhookSink()
    await hook.start()
    yield hook
    await hook.stop()


async def test_registering_a_non_public_webhook_is_refused_naming_the_field(
    make_edge: EdgeFactory, sink: WebhookSink
) -> None:
    edge = await make_edge(push_allowed_networks=())
    _, _, headers = await edge.register("human", bot=False)
    port = sink.url.split(":")[2].split("/")[0]
    for url in REFUSED_URLS:
        body = {"provider": "webhook", "token": url.format(port=port)}
        response = await edge.client.post(f"{API}/users/@me/devices", headers=headers, json=body)
        answer = await response.json()
        assert response.status == 400 and answer["code"] == 50035, (url, answer)
        assert answer["errors"]["token"]["_errors"][0]["code"] == "URL_TYPE_INVALID_URL"
        assert "refused" in answer["errors"]["token"]["_errors"][0]["message"]
    assert await edge.rest("GET", "/users/@me/devices", headers) == []
    assert not sink.attempts  # nothing was ever called


async def test_the_operator_allows_exactly_the_ranges_it_names(
    make_edge: EdgeFactory, sink: WebhookSink
) -> None:
    edge = await make_edge(push_allowed_networks=LOCAL_SINK)
    _, _, headers = await edge.register("human", bot=False)
    for url in (sink.url, sink.url.replace("127.0.0.1", "localhost")):
        body = {"provider": "webhook", "token": url}
        assert await edge.rest("POST", "/users/@me/devices", headers, json=body) == body
    body = {"provider": "webhook", "token": "http://10.0.0.1/push"}
    response = await edge.client.post(f"{API}/users/@me/devices", headers=headers, json=body)
    assert response.status == 400 and (await response.json())["code"] == 50035


@pytest.mark.parametrize("transport", [AiohttpTransport, UrllibTransport])
@pytest.mark.parametrize("allowed", [(), LOCAL_SINK])
async def test_delivery_checks_the_address_again(
    tmp_path: Path, sink: WebhookSink, transport: type[PushTransport], allowed: tuple[str, ...]
) -> None:
    """A device already stored (registered when its name resolved elsewhere: DNS rebinding) whose
    name now resolves to loopback is refused at delivery and given up at once, never retried;
    with the range allowed the same delivery arrives (the refusal is the policy, not a bad URL)."""
    config = Config(
        sqlite_path=str(tmp_path / "push.sqlite3"), push_backoff_base_s=0.01, push_allowed_networks=allowed
    )
    shard = PushShard(0, config, SqliteStorage(config.sqlite_path), transport(config))  # type: ignore[call-arg]
    await shard.start()
    await shard.storage.put_device(Device(1, "webhook", sink.url.replace("127.0.0.1", "localhost")))
    await shard.storage.put_device(Device(2, "webhook", sink.url.replace("127.0.0.1", "[::ffff:127.0.0.1]")))
    result = await shard.submit([PushRequest("n1", 1, "dm", {}), PushRequest("n2", 2, "dm", {})])
    assert result.accepted == 2
    await wait_idle(shard)
    stats = await shard.stats()
    if allowed:
        assert len(sink.accepted) == 2 and stats["delivered"] == 2
    else:
        assert not sink.attempts
        assert (stats["given_up"], stats["retried"], stats["posts"]) == (2, 0, 2)
    assert await shard.storage.list_pushes(0) == []
    await shard.stop()
    await shard.storage.close()
