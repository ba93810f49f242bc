"""Threads end to end on one edge: THREAD_CREATE / THREAD_MEMBERS_UPDATE / THREAD_UPDATE /
THREAD_DELETE with Discord's shapes, a public thread's messages reach whoever sees its parent, a
private thread's only its members (a non-member receives nothing from it), every 2xx body
checked against Discord's OpenAPI description."""

from __future__ import annotations

from typing import Any

from rayguild.fanout.events import GUILD_MEMBERS, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT
from tests.http.test_openapi_shapes import assert_matches_spec

from .conftest import API, Edge, Gateway

INTENTS = GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT


async def _status(edge: Edge, method: str, path: str, headers: dict[str, str], **kw: Any) -> tuple[int, Any]:
    response = await edge.client.request(method, f"{API}{path}", headers=headers, **kw)
    return response.status, (await response.json() if response.status != 204 else None)


async def _guild_of_three(
    edge: Edge,
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any], dict[str, str]]]]:
    """A bot owning a guild and two bot members: (channel, [(token, user, headers)] owner first)."""
    token, headers, _, channel = await edge.guild_with_bot()
    owner = await edge.rest("GET", "/users/@me", headers)
    people = [(token, owner, headers)]
    for name in ("alice", "bob"):
        their_token, user, their_headers = await edge.register(name)
        invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
        await edge.rest("POST", f"/invites/{invite['code']}", their_headers)
        people.append((their_token, user, their_headers))
    return channel, people


async def _connect(edge: Edge, token: str, intents: int = INTENTS) -> Gateway:
    gw = await edge.connect()
    await gw.identify(token, intents=intents)
    await gw.dispatch("GUILD_CREATE")
    return gw


async def _until(gw: Gateway, t: str, stop_t: str, stop_id: str) -> list[dict[str, Any]]:
    """Every ``t`` dispatch before the ``stop_t`` whose id is ``stop_id``."""
    seen: list[dict[str, Any]] = []
    while True:
        frame = await gw.recv()
        if frame["op"] != 0:
            continue
        if frame["t"] == stop_t and frame["d"]["id"] == stop_id:
            return seen
        if frame["t"] == t:
            seen.append(frame["d"])


async def test_public_thread_from_a_message_reaches_who_sees_the_parent(edge: Edge) -> None:
    (
        channel,
        [(owner_token, owner, owner_h), (alice_token, alice, alice_h), (bob_token, _, _)],
    ) = await _guild_of_three(edge)
    owner_gw = await _connect(edge, owner_token, INTENTS | GUILD_MEMBERS)
    alice_gw, bob_gw = await _connect(edge, alice_token), await _connect(edge, bob_token)
    starter = await edge.rest(
        "POST", f"/channels/{channel['id']}/messages", owner_h, json={"content": "topic"}
    )
    template = "/channels/{channel_id}/messages/{message_id}/threads"
    path = f"/channels/{channel['id']}/messages/{starter['id']}/threads"
    thread = await edge.rest("POST", path, owner_h, json={"name": "talk", "auto_archive_duration": 60})
    assert_matches_spec("POST", template, 201, thread)
    assert thread["id"] == starter["id"] and thread["type"] == 11 and thread["parent_id"] == channel["id"]
    assert thread["member"]["user_id"] == owner["id"] and thread["member_count"] == 1
    assert thread["thread_metadata"]["auto_archive_duration"] == 60
    for gw in (owner_gw, alice_gw, bob_gw):
        created = (await gw.dispatch("THREAD_CREATE"))["d"]
        assert created["id"] == thread["id"] and created["newly_created"] is True
        assert created["guild_id"] == channel["guild_id"] and created["thread_metadata"]["archived"] is False
    me = (await owner_gw.dispatch("THREAD_MEMBERS_UPDATE"))["d"]
    assert me["added_members"][0]["user_id"] == owner["id"] and me["member_count"] == 1
    status, body = await _status(edge, "POST", path, owner_h, json={"name": "again"})
    assert (status, body["code"]) == (400, 160004)
    starter_now = await edge.rest("GET", f"/channels/{channel['id']}/messages/{starter['id']}", owner_h)
    assert starter_now["flags"] & 32 and starter_now["thread"]["id"] == thread["id"]
    assert_matches_spec("GET", "/channels/{channel_id}/messages/{message_id}", 200, starter_now)

    # A public thread's messages reach everyone who may see the parent, members or not.
    sent = await edge.rest(
        "POST", f"/channels/{thread['id']}/messages", alice_h, json={"content": "in thread"}
    )
    assert_matches_spec("POST", "/channels/{channel_id}/messages", 200, sent)
    assert sent["channel_id"] == thread["id"]
    for gw in (owner_gw, alice_gw, bob_gw):
        got = (await gw.dispatch("MESSAGE_CREATE"))["d"]
        assert got["id"] == sent["id"] and got["channel_id"] == thread["id"] and got["content"] == "in thread"
    history = await edge.rest("GET", f"/channels/{thread['id']}/messages", owner_h)
    assert [m["id"] for m in history] == [sent["id"]]
    shown = await edge.rest("GET", f"/channels/{thread['id']}", alice_h)
    assert_matches_spec("GET", "/channels/{channel_id}", 200, shown)
    assert (shown["message_count"], shown["total_message_sent"], shown["last_message_id"]) == (
        1,
        1,
        sent["id"],
    )
    assert "member" not in shown  # alice posted but never joined

    # Join: alice hears of herself (GUILDS), the owner of her (GUILD_MEMBERS), bob nothing.
    await edge.rest("PUT", f"/channels/{thread['id']}/thread-members/@me", alice_h)
    joined = (await alice_gw.dispatch("THREAD_MEMBERS_UPDATE"))["d"]
    assert joined["added_members"][0]["user_id"] == alice["id"] and joined["member_count"] == 2
    assert (await owner_gw.dispatch("THREAD_MEMBERS_UPDATE"))["d"] == joined
    mine = (await alice_gw.dispatch("THREAD_MEMBER_UPDATE"))["d"]
    assert mine == {"id": thread["id"], "user_id": alice["id"], "flags": 0, "guild_id": channel["guild_id"],
                    "join_timestamp": joined["added_members"][0]["join_timestamp"]}  # fmt: skip

    # Archive (the owner of the thread may): THREAD_UPDATE to the parent's viewers.
    archived = await edge.rest("PATCH", f"/channels/{thread['id']}", owner_h, json={"archived": True})
    assert_matches_spec("PATCH", "/channels/{channel_id}", 200, archived)
    assert archived["thread_metadata"]["archived"] is True
    for gw in (owner_gw, alice_gw, bob_gw):
        update = (await gw.dispatch("THREAD_UPDATE"))["d"]
        assert update["id"] == thread["id"] and update["thread_metadata"]["archived"] is True
    public = await edge.rest("GET", f"/channels/{channel['id']}/threads/archived/public", alice_h)
    assert_matches_spec("GET", "/channels/{channel_id}/threads/archived/public", 200, public)
    assert [t["id"] for t in public["threads"]] == [thread["id"]] and public["has_more"] is False
    assert [m["user_id"] for m in public["members"]] == [alice["id"]]
    active = await edge.rest("GET", f"/guilds/{channel['guild_id']}/threads/active", alice_h)
    assert active["threads"] == []
    # A message from someone who may send reopens it.
    await edge.rest("POST", f"/channels/{thread['id']}/messages", alice_h, json={"content": "back"})
    reopened = (await bob_gw.dispatch("THREAD_UPDATE"))["d"]
    assert reopened["thread_metadata"]["archived"] is False and reopened["message_count"] == 2


async def test_private_thread_reaches_only_its_members(edge: Edge) -> None:
    (
        channel,
        [(owner_token, owner, owner_h), (alice_token, alice, alice_h), (bob_token, bob, bob_h)],
    ) = await _guild_of_three(edge)
    owner_gw = await _connect(edge, owner_token, INTENTS | GUILD_MEMBERS)
    alice_gw, bob_gw = await _connect(edge, alice_token), await _connect(edge, bob_token)
    alice_blind = await _connect(edge, alice_token, GUILDS | GUILD_MESSAGES)  # no MESSAGE_CONTENT
    thread = await edge.rest(
        "POST",
        f"/channels/{channel['id']}/threads",
        owner_h,
        json={"name": "secret", "type": 12, "invitable": False},
    )
    assert_matches_spec("POST", "/channels/{channel_id}/threads", 201, thread)
    assert thread["type"] == 12 and thread["thread_metadata"]["invitable"] is False
    created = (await owner_gw.dispatch("THREAD_CREATE"))["d"]
    assert created["newly_created"] is True and created["member"]["user_id"] == owner["id"]

    # Bob may neither see nor join it; alice is added by the owner and hears THREAD_CREATE with
    # her member object; the owner (GUILD_MEMBERS) hears THREAD_MEMBERS_UPDATE with her guild member.
    for method, path in (("GET", ""), ("PUT", "/thread-members/@me"), ("GET", "/messages")):
        status, body = await _status(edge, method, f"/channels/{thread['id']}{path}", bob_h)
        assert (status, body["code"]) == (403, 50001)
    status, body = await _status(edge, "PUT", f"/channels/{thread['id']}/thread-members/{bob['id']}", alice_h)
    assert status == 403
    await edge.rest("PUT", f"/channels/{thread['id']}/thread-members/{alice['id']}", owner_h)
    invited = (await alice_gw.dispatch("THREAD_CREATE"))["d"]
    assert invited["id"] == thread["id"] and invited["member"]["user_id"] == alice["id"]
    assert "newly_created" not in invited
    added = (await owner_gw.dispatch("THREAD_MEMBERS_UPDATE"))["d"]
    assert added["added_members"][0]["member"]["user"]["id"] == alice["id"] and added["member_count"] == 2
    members = await edge.rest("GET", f"/channels/{thread['id']}/thread-members?with_member=true", alice_h)
    assert_matches_spec("GET", "/channels/{channel_id}/thread-members", 200, members)
    assert [m["user_id"] for m in members] == sorted([owner["id"], alice["id"]], key=int)
    assert all(m["member"]["user"]["id"] == m["user_id"] for m in members)
    page = await edge.rest("GET", f"/channels/{thread['id']}/thread-members?limit=1", alice_h)
    assert len(page) == 1 and "member" not in page[0]
    one = await edge.rest("GET", f"/channels/{thread['id']}/thread-members/{alice['id']}", owner_h)
    assert_matches_spec("GET", "/channels/{channel_id}/thread-members/{user_id}", 200, one)
    status, body = await _status(edge, "GET", f"/channels/{thread['id']}/thread-members/{bob['id']}", owner_h)
    assert (status, body["code"]) == (404, 10007)

    # The owner's message reaches alice; bob gets nothing from the thread, only the parent's message.
    sent = await edge.rest("POST", f"/channels/{thread['id']}/messages", owner_h, json={"content": "psst"})
    got = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert got["id"] == sent["id"] and got["channel_id"] == thread["id"] and got["content"] == "psst"
    blind = (await alice_blind.dispatch("MESSAGE_CREATE"))["d"]
    assert blind["id"] == sent["id"] and blind["content"] == ""  # MESSAGE_CONTENT holds in threads
    marker = await edge.rest(
        "POST", f"/channels/{channel['id']}/messages", owner_h, json={"content": "parent"}
    )
    assert await _until(bob_gw, "MESSAGE_CREATE", "MESSAGE_CREATE", marker["id"]) == []
    active = await edge.rest("GET", f"/guilds/{channel['guild_id']}/threads/active", bob_h)
    assert_matches_spec("GET", "/guilds/{guild_id}/threads/active", 200, active)
    assert active["threads"] == []
    mine = await edge.rest("GET", f"/guilds/{channel['guild_id']}/threads/active", alice_h)
    assert [t["id"] for t in mine["threads"]] == [thread["id"]]
    assert [m["user_id"] for m in mine["members"]] == [alice["id"]]

    # Lock and archive (MANAGE_THREADS): alice can no longer post; her archived list shows it.
    status, _ = await _status(edge, "PATCH", f"/channels/{thread['id']}", alice_h, json={"locked": True})
    assert status == 403
    locked = await edge.rest(
        "PATCH", f"/channels/{thread['id']}", owner_h, json={"locked": True, "archived": True}
    )
    assert locked["thread_metadata"]["locked"] is True and locked["thread_metadata"]["archived"] is True
    update = (await alice_gw.dispatch("THREAD_UPDATE"))["d"]
    assert update["thread_metadata"]["locked"] is True
    status, body = await _status(
        edge, "POST", f"/channels/{thread['id']}/messages", alice_h, json={"content": "x"}
    )
    assert (status, body["code"]) == (403, 50013)
    status, _ = await _status(edge, "PATCH", f"/channels/{thread['id']}", alice_h, json={"archived": False})
    assert status == 403
    path = f"/channels/{channel['id']}/users/@me/threads/archived/private"
    listed = await edge.rest("GET", path, alice_h)
    assert_matches_spec("GET", "/channels/{channel_id}/users/@me/threads/archived/private", 200, listed)
    assert [t["id"] for t in listed["threads"]] == [thread["id"]]
    assert (await edge.rest("GET", path, bob_h))["threads"] == []
    private = await edge.rest("GET", f"/channels/{channel['id']}/threads/archived/private", owner_h)
    assert_matches_spec("GET", "/channels/{channel_id}/threads/archived/private", 200, private)
    assert [t["id"] for t in private["threads"]] == [thread["id"]]
    status, _ = await _status(edge, "GET", f"/channels/{channel['id']}/threads/archived/private", alice_h)
    assert status == 403

    # Unarchive, remove alice (she hears it), then delete: only the remaining member hears that.
    await edge.rest("PATCH", f"/channels/{thread['id']}", owner_h, json={"archived": False, "locked": False})
    await edge.rest("DELETE", f"/channels/{thread['id']}/thread-members/{alice['id']}", owner_h)
    removed = (await alice_gw.dispatch("THREAD_MEMBERS_UPDATE"))["d"]
    assert removed["removed_member_ids"] == [alice["id"]] and removed["member_count"] == 1
    deleted = await edge.rest("DELETE", f"/channels/{thread['id']}", owner_h)
    assert deleted["id"] == thread["id"]
    gone = (await owner_gw.dispatch("THREAD_DELETE"))["d"]
    assert gone == {
        "id": thread["id"],
        "guild_id": channel["guild_id"],
        "parent_id": channel["id"],
        "type": 12,
    }
    status, body = await _status(edge, "GET", f"/channels/{thread['id']}", owner_h)
    assert (status, body["code"]) == (404, 10003)


async def test_guild_create_carries_the_active_threads_one_may_see(edge: Edge) -> None:
    channel, [(_, owner, owner_h), (alice_token, alice, _), (bob_token, _, _)] = await _guild_of_three(edge)
    threads = f"/channels/{channel['id']}/threads"
    public = await edge.rest("POST", threads, owner_h, json={"name": "open", "type": 11})
    private = await edge.rest("POST", threads, owner_h, json={"name": "closed", "type": 12})
    archived = await edge.rest("POST", threads, owner_h, json={"name": "old", "type": 11})
    await edge.rest("PUT", f"/channels/{private['id']}/thread-members/{alice['id']}", owner_h)
    await edge.rest("PATCH", f"/channels/{archived['id']}", owner_h, json={"archived": True})
    in_parent = await edge.rest("POST", f"/channels/{channel['id']}/messages", owner_h, json={"content": "p"})
    await edge.rest("POST", f"/channels/{public['id']}/messages", owner_h, json={"content": "in thread"})
    seen = {}
    parents = {}
    for name, token in (("alice", alice_token), ("bob", bob_token)):
        gw = await edge.connect()
        await gw.identify(token, intents=INTENTS)
        guild = (await gw.dispatch("GUILD_CREATE"))["d"]
        seen[name] = {t["id"]: t for t in guild["threads"]}
        parents[name] = next(c for c in guild["channels"] if c["id"] == channel["id"])["last_message_id"]
    assert parents == {"alice": in_parent["id"], "bob": in_parent["id"]}  # not the thread's message
    assert list(seen["alice"]) == [public["id"], private["id"]] and list(seen["bob"]) == [public["id"]]
    assert seen["alice"][private["id"]]["member"]["user_id"] == alice["id"]
    assert (
        "member" not in seen["alice"][public["id"]] and seen["bob"][public["id"]]["owner_id"] == owner["id"]
    )
