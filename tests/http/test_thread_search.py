"""Searching a channel's threads by name: every word must match, archived ones too, private
threads only for their members, newest first with paging; the body checked against Discord's
OpenAPI description."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_matches_spec

Client = TestClient[Any, Any]


async def test_thread_search(client: Client, register: Any) -> None:
    owner, member = await register("searcher"), await register("reader")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Search"}))["id"]
    cid = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    invite = await call(client, owner, "POST", f"/channels/{cid}/invites", json={})
    await call(client, member, "POST", f"/invites/{invite['code']}")
    made = {}
    for name, kind in (
        ("Bug report one", 11),
        ("Feature idea", 11),
        ("Another BUG report", 11),
        ("secret bug report", 12),
    ):
        made[name] = await call(
            client, owner, "POST", f"/channels/{cid}/threads", 201, json={"name": name, "type": kind}
        )
    await call(client, owner, "PATCH", f"/channels/{made['Bug report one']['id']}", json={"archived": True})
    found = await call(client, member, "GET", f"/channels/{cid}/threads/search?name=bug%20report")
    assert_matches_spec("GET", "/channels/{channel_id}/threads/search", 200, found)
    assert [t["name"] for t in found["threads"]] == ["Another BUG report", "Bug report one"]
    assert found["total_results"] == 2 and found["has_more"] is False
    mine = await call(
        client, owner, "GET", f"/channels/{cid}/threads/search?name=bug&sort_by=creation_time&sort_order=asc"
    )
    assert [t["name"] for t in mine["threads"]] == [
        "Bug report one",
        "Another BUG report",
        "secret bug report",
    ]
    assert {m["id"] for m in mine["members"]} == {t["id"] for t in mine["threads"]}  # the creator is in each
    active = await call(
        client, owner, "GET", f"/channels/{cid}/threads/search?name=bug&archived=false&limit=1"
    )
    assert len(active["threads"]) == 1 and active["has_more"] is True and active["total_results"] == 2
    bad = await call(client, owner, "GET", f"/channels/{cid}/threads/search?sort_by=size", 400)
    assert bad["code"] == 50035
