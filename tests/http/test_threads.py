"""Thread routes' refusals as Discord words them, and auto-archive by inactivity (checked when the
thread is read: the stored thread is archived and THREAD_UPDATE sent)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient

from rayguild.http_api.keys import CTX

from .helpers import API, Account, Register

Client = TestClient[Any, Any]


async def _call(client: Client, who: Account, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    response = await client.request(method, f"{API}{path}", headers=who.headers, **kw)
    return response.status, (await response.json() if response.status != 204 else None)


async def _guild(client: Client, register: Register) -> tuple[Account, Account, dict[str, Any]]:
    owner, member = await register("owner"), await register("member")
    _, guild = await _call(client, owner, "POST", "/guilds", json={"name": "Threads"})
    _, channels = await _call(client, owner, "GET", f"/guilds/{guild['id']}/channels")
    text = next(c for c in channels if c["type"] == 0)
    _, invite = await _call(client, owner, "POST", f"/channels/{text['id']}/invites", json={})
    await _call(client, member, "POST", f"/invites/{invite['code']}")
    return owner, member, text


async def test_refusals(client: Client, register: Register) -> None:
    owner, member, text = await _guild(client, register)
    threads = f"/channels/{text['id']}/threads"
    status, body = await _call(
        client, owner, "POST", threads, json={"name": "x", "auto_archive_duration": 61}
    )
    assert (status, body["code"]) == (400, 50035) and "auto_archive_duration" in body["errors"]
    status, body = await _call(client, owner, "POST", threads, json={})
    assert (status, body["code"]) == (400, 50035) and "name" in body["errors"]
    status, body = await _call(client, owner, "POST", threads, json={"name": "x", "type": 13})
    assert (status, body["code"]) == (400, 50035) and "type" in body["errors"]
    status, body = await _call(
        client, owner, "POST", f"/channels/{text['id']}/messages/1/threads", json={"name": "x"}
    )
    assert (status, body["code"]) == (404, 10008)
    status, thread = await _call(client, member, "POST", threads, json={"name": "mine", "type": 11})
    assert status == 201 and thread["owner_id"] == member.id
    # Threads only under text channels; not inside a thread.
    status, body = await _call(client, owner, "POST", f"/channels/{thread['id']}/threads", json={"name": "x"})
    assert (status, body["code"]) == (400, 50024)
    # Deleting needs MANAGE_THREADS; a member may not lock, but the owner of the thread may rename.
    status, body = await _call(client, member, "DELETE", f"/channels/{thread['id']}")
    assert (status, body["code"]) == (403, 50013)
    status, _ = await _call(client, member, "PATCH", f"/channels/{thread['id']}", json={"locked": True})
    assert status == 403
    status, renamed = await _call(client, member, "PATCH", f"/channels/{thread['id']}", json={"name": "ours"})
    assert status == 200 and renamed["name"] == "ours"
    # An archived thread cannot be joined or left.
    await _call(client, owner, "PATCH", f"/channels/{thread['id']}", json={"archived": True})
    status, body = await _call(client, owner, "PUT", f"/channels/{thread['id']}/thread-members/@me")
    assert (status, body["code"]) == (400, 50083)
    status, body = await _call(
        client, owner, "GET", f"/channels/{text['id']}/threads/archived/public?before=nope"
    )
    assert (status, body["code"]) == (400, 50035)
    status, body = await _call(client, owner, "PUT", f"/channels/{thread['id']}/thread-members/1")
    assert (status, body["code"]) == (400, 50083)


async def test_idle_threads_archive_themselves(client: Client, register: Register) -> None:
    owner, _, text = await _guild(client, register)
    status, thread = await _call(client, owner, "POST", f"/channels/{text['id']}/threads",
                                 json={"name": "quiet", "type": 11, "auto_archive_duration": 60})  # fmt: skip
    assert status == 201
    storage = client.server.app[CTX].storage
    stored = await storage.get_thread(int(thread["id"]))
    assert stored is not None
    two_hours_ago = stored.created_at_ms - 2 * 3_600_000
    await storage.put_thread(replace(stored, created_at_ms=two_hours_ago, archive_timestamp_ms=two_hours_ago))
    status, active = await _call(client, owner, "GET", f"/guilds/{text['guild_id']}/threads/active")
    assert status == 200 and active["threads"] == []
    # The list above archived it.
    status, shown = await _call(client, owner, "GET", f"/channels/{thread['id']}")
    assert status == 200 and shown["thread_metadata"]["archived"] is True
    archived = await storage.get_thread(int(thread["id"]))
    assert archived is not None and archived.archived
    assert archived.archive_timestamp_ms == two_hours_ago + 3_600_000
    # Posting in it brings it back, as on Discord.
    status, _ = await _call(
        client, owner, "POST", f"/channels/{thread['id']}/messages", json={"content": "hi"}
    )
    assert status == 200
    reopened = await storage.get_thread(int(thread["id"]))
    assert reopened is not None and not reopened.archived and reopened.message_count == 1


async def test_a_webhook_posts_into_a_thread_of_its_channel(client: Client, register: Register) -> None:
    owner, member, text = await _guild(client, register)
    _, hook = await _call(client, owner, "POST", f"/channels/{text['id']}/webhooks", json={"name": "Herald"})
    _, thread = await _call(
        client, owner, "POST", f"/channels/{text['id']}/threads", json={"name": "t", "type": 11}
    )
    execute = f"/webhooks/{hook['id']}/{hook['token']}"
    status, sent = await _call(client, member, "POST", f"{execute}?wait=true&thread_id={thread['id']}",
                               json={"content": "into the thread"})  # fmt: skip
    assert status == 200 and sent["channel_id"] == thread["id"] and sent["webhook_id"] == hook["id"]
    _, history = await _call(client, member, "GET", f"/channels/{thread['id']}/messages")
    assert [m["id"] for m in history] == [sent["id"]]
    _, shown = await _call(client, member, "GET", f"/channels/{thread['id']}")
    assert shown["message_count"] == 1
    _, other = await _call(
        client, owner, "POST", f"/guilds/{text['guild_id']}/channels", json={"name": "other"}
    )
    _, elsewhere = await _call(client, owner, "POST", f"/channels/{other['id']}/threads", json={"name": "x"})
    status, body = await _call(client, member, "POST", f"{execute}?thread_id={elsewhere['id']}",
                               json={"content": "lost"})  # fmt: skip
    assert (status, body["code"]) == (400, 50035) and "thread_id" in body["errors"]
