"""Every thread route's 2xx body validates against Discord's OpenAPI description (204s have none)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.test_openapi_shapes import assert_matches_spec

from .helpers import API, Account, Register

Client = TestClient[Any, Any]


async def _ok(client: Client, who: Account, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.request(method, f"{API}{path}", headers=who.headers, **kw)
    assert response.status == status, await response.text()
    return None if status == 204 else await response.json()


async def test_thread_routes_match_the_spec(client: Client, register: Register) -> None:
    owner, member = await register("owner"), await register("robot", bot=True)
    guild = await _ok(client, owner, "POST", "/guilds", 201, json={"name": "Spec Threads"})
    channel = (await _ok(client, owner, "GET", f"/guilds/{guild['id']}/channels"))[0]
    invite = await _ok(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await _ok(client, member, "POST", f"/invites/{invite['code']}")
    c = channel["id"]
    message = await _ok(client, owner, "POST", f"/channels/{c}/messages", json={"content": "start"})

    template = "/channels/{channel_id}/messages/{message_id}/threads"
    public = await _ok(client, owner, "POST", f"/channels/{c}/messages/{message['id']}/threads", 201,
                       json={"name": "from a message", "rate_limit_per_user": 5})  # fmt: skip
    assert_matches_spec("POST", template, 201, public)
    private = await _ok(client, owner, "POST", f"/channels/{c}/threads", 201, json={"name": "private"})
    assert_matches_spec("POST", "/channels/{channel_id}/threads", 201, private)
    assert private["type"] == 12  # Discord's default without a message
    t = private["id"]

    await _ok(client, owner, "PUT", f"/channels/{t}/thread-members/{member.id}", 204)
    await _ok(client, owner, "DELETE", f"/channels/{t}/thread-members/{member.id}", 204)
    await _ok(client, owner, "PUT", f"/channels/{t}/thread-members/{member.id}", 204)
    await _ok(client, member, "DELETE", f"/channels/{t}/thread-members/@me", 204)
    await _ok(client, owner, "PUT", f"/channels/{t}/thread-members/{member.id}", 204)
    await _ok(client, member, "PUT", f"/channels/{t}/thread-members/@me", 204)  # already in: still 204
    one = await _ok(client, owner, "GET", f"/channels/{t}/thread-members/{member.id}?with_member=true")
    assert_matches_spec("GET", "/channels/{channel_id}/thread-members/{user_id}", 200, one)
    assert one["member"]["user"]["id"] == member.id
    listed = await _ok(client, owner, "GET", f"/channels/{t}/thread-members?with_member=true&limit=10")
    assert_matches_spec("GET", "/channels/{channel_id}/thread-members", 200, listed)
    after = await _ok(client, owner, "GET", f"/channels/{t}/thread-members?after={listed[0]['user_id']}")
    assert [m["user_id"] for m in after] == [m["user_id"] for m in listed[1:]]
    active = await _ok(client, member, "GET", f"/guilds/{guild['id']}/threads/active")
    assert_matches_spec("GET", "/guilds/{guild_id}/threads/active", 200, active)
    assert {x["id"] for x in active["threads"]} == {public["id"], t}
    shown = await _ok(client, member, "GET", f"/channels/{t}")
    assert_matches_spec("GET", "/channels/{channel_id}", 200, shown)
    assert shown["member"]["user_id"] == member.id and shown["member_count"] == 2

    for thread in (public, private):
        edited = await _ok(client, owner, "PATCH", f"/channels/{thread['id']}",
                           json={"archived": True, "auto_archive_duration": 10080, "name": "done"})  # fmt: skip
        assert_matches_spec("PATCH", "/channels/{channel_id}", 200, edited)
        assert edited["thread_metadata"]["auto_archive_duration"] == 10080 and edited["name"] == "done"
    for kind in ("public", "private"):
        archived = await _ok(client, owner, "GET", f"/channels/{c}/threads/archived/{kind}?limit=2")
        assert_matches_spec("GET", f"/channels/{{channel_id}}/threads/archived/{kind}", 200, archived)
        assert len(archived["threads"]) == 1
    archived_mine = await _ok(client, member, "GET", f"/channels/{c}/users/@me/threads/archived/private")
    assert_matches_spec(
        "GET", "/channels/{channel_id}/users/@me/threads/archived/private", 200, archived_mine
    )
    assert [x["id"] for x in archived_mine["threads"]] == [t]
    before = archived_mine["threads"][0]["thread_metadata"]["archive_timestamp"]
    older = await _ok(
        client, owner, "GET", f"/channels/{c}/threads/archived/private", params={"before": before}
    )
    assert older["threads"] == []
    deleted = await _ok(client, owner, "DELETE", f"/channels/{public['id']}")
    assert_matches_spec("DELETE", "/channels/{channel_id}", 200, deleted)
