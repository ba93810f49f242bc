"""The push pipeline end to end against a real local webhook (aiohttp on 127.0.0.1).

A mention of a user with no connected session reaches their webhook exactly once, also when the
endpoint fails twice first; a burst far beyond the buffer stays bounded, counts what it shed and
duplicates nothing; a restarted push shard replays its outbox (the guarantee in actors/push.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from rayguild.actors.push import PushRequest, PushShard
from rayguild.benchmarks.webhook_sink import WebhookSink
from rayguild.config import Config
from rayguild.http_api.webhook import AiohttpTransport
from rayguild.storage import Device, PendingPush, SqliteStorage

from .conftest import API, LOCAL_SINK, Edge, EdgeFactory
from .test_presence import until


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    hook = WebhookSink()
    await hook.start()
    yield hook
    await hook.stop()


async def wait_idle(shard: PushShard, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if await shard.idle():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("push shard not idle")


async def test_a_mention_of_an_offline_user_reaches_the_webhook_once_after_two_failures(
    make_edge: EdgeFactory, sink: WebhookSink
) -> None:
    sink.fail_first = 2
    edge: Edge = await make_edge(push_backoff_base_s=0.02)
    token, headers, _, channel = await edge.guild_with_bot()
    _, human, human_headers = await edge.register("human", bot=False)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", human_headers)
    device = await edge.rest(
        "POST", "/users/@me/devices", human_headers, json={"provider": "webhook", "token": sink.url}
    )
    assert device == {"provider": "webhook", "token": sink.url}
    assert await edge.rest("GET", "/users/@me/devices", human_headers) == [device]
    gw = await edge.connect()  # the bot is online: mentioning it pushes nothing
    await gw.identify(token)

    message = await edge.rest(
        "POST", f"/channels/{channel['id']}/messages", headers, json={"content": f"hi <@{human['id']}>"}
    )
    await sink.wait_accepted(1)
    await asyncio.sleep(0.3)  # time for any (wrong) extra attempt
    ((key, body),) = sink.accepted.items()
    assert key.startswith(f"{message['id']}:{human['id']}:")
    assert sink.attempts == {key: 3} and sink.duplicates == 0
    sent = orjson.loads(body)
    assert sent["kind"] == "mention" and sent["data"]["content"] == f"hi <@{human['id']}>"
    stats = await edge.cluster.push.stats()
    assert (stats["delivered"], stats["retried"], stats["outstanding"]) == (1, 2, 0)
    await wait_idle(edge.cluster.push)
    assert await edge.cluster.push.storage.list_pushes(0) == []  # delivered: out of the outbox


async def test_devices_must_name_a_known_provider_and_an_http_url(edge: Edge) -> None:
    _, _, headers = await edge.register("human", bot=False)
    for body in ({"provider": "apns", "token": "http://x"}, {"provider": "webhook", "token": "ftp://x"}):
        response = await edge.client.post(f"{API}/users/@me/devices", headers=headers, json=body)
        assert response.status == 400 and (await response.json())["code"] == 50035


async def test_a_burst_beyond_the_buffer_is_bounded_counted_and_never_duplicated(
    tmp_path: Path, sink: WebhookSink
) -> None:
    sink.delay_s = 0.005
    config = Config(
        sqlite_path=str(tmp_path / "push.sqlite3"), push_buffer=20, push_max_in_flight=4,
        push_allowed_networks=LOCAL_SINK,
    )  # fmt: skip
    shard = PushShard(0, config, SqliteStorage(config.sqlite_path), AiohttpTransport(config))
    await shard.start()
    users = range(1, 401)
    for user in users:
        await shard.storage.put_device(Device(user, "webhook", sink.url))
    peak = 0
    accepted = shed = 0
    for start in range(0, len(users), 40):  # 400 notifications: twenty times the buffer
        batch = [PushRequest(f"n{u}", u, "dm", {"n": u}) for u in users[start : start + 40]]
        result = await shard.submit(batch)
        accepted, shed = accepted + result.accepted, shed + result.shed
        peak = max(peak, len(shard.buffer))
    assert peak <= 20 and accepted + shed == 400 and shed > 0
    await wait_idle(shard)
    stats = await shard.stats()
    assert (stats["accepted"], stats["shed"], stats["delivered"]) == (accepted, shed, accepted)
    assert len(sink.accepted) == accepted and sink.duplicates == 0
    assert set(sink.attempts.values()) == {1} and sink.max_in_flight <= 4
    await shard.stop()
    await shard.storage.close()


async def test_a_restarted_push_shard_replays_what_it_accepted_and_keys_make_a_resend_harmless(
    tmp_path: Path, sink: WebhookSink
) -> None:
    config = Config(
        sqlite_path=str(tmp_path / "push.sqlite3"), push_backoff_base_s=0.05, push_backoff_max_s=0.2,
        push_max_attempts=1000, push_allowed_networks=LOCAL_SINK,
    )  # fmt: skip

    def incarnation() -> PushShard:  # a new process: nothing of the old one but the storage
        return PushShard(0, config, SqliteStorage(config.sqlite_path), AiohttpTransport(config))

    first = incarnation()
    await first.start()
    for user in (1, 2, 3):
        await first.storage.put_device(Device(user, "webhook", sink.url))
    sink.down = True
    result = await first.submit([PushRequest(f"m{u}", u, "mention", {}) for u in (1, 2, 3)])
    assert result.accepted == 3  # acknowledged: in the outbox
    await until(lambda: len(sink.attempts) == 3)
    await first.stop()  # the crash: its buffer and retries are gone
    sink.down = False

    second = incarnation()
    assert (await second.start())["replayed"] == 3
    await sink.wait_accepted(3)
    await wait_idle(second)
    assert await second.storage.list_pushes(0) == [] and sink.duplicates == 0

    # A crash after the endpoint's 2xx but before the outbox delete: the row comes back...
    key, body = next(iter(sink.accepted.items()))
    user_id = int(orjson.loads(body)["user_id"])
    await second.storage.put_pushes([PendingPush(0, key, user_id, "webhook", sink.url, body.decode())])
    await second.stop()
    third = incarnation()
    assert (await third.start())["replayed"] == 1
    await wait_idle(third)
    # ...and is sent again with the SAME key, so the endpoint keeps one delivery.
    assert sink.duplicates == 1 and len(sink.accepted) == 3 and sink.attempts[key] >= 2
    await third.stop()
    for shard in (first, second, third):
        await shard.storage.close()
