"""Guild scheduled events over REST: create (external and voice), list, get, modify with status
transitions, interested users and their counts, delete; validation, permissions, audit entries;
2xx bodies checked against Discord's OpenAPI description."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
BASE = "/guilds/{guild_id}/scheduled-events"
ONE = BASE + "/{guild_scheduled_event_id}"


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def _guild_with_member(client: Client, register: Any) -> tuple[Any, Any, str, str]:
    owner, member = await register("host"), await register("guest")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Events"}))["id"]
    channel = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]
    invite = await call(client, owner, "POST", f"/channels/{channel['id']}/invites", json={})
    await call(client, member, "POST", f"/invites/{invite['code']}")
    return owner, member, gid, channel["id"]


async def test_scheduled_event_lifecycle(client: Client, register: Any) -> None:
    owner, member, gid, _ = await _guild_with_member(client, register)
    external = {"name": "Meetup", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": at(1),
                "scheduled_end_time": at(2), "entity_metadata": {"location": "The park"}}  # fmt: skip
    created = await call(client, owner, "POST", f"/guilds/{gid}/scheduled-events", json=external)
    assert_matches_spec("POST", BASE, 200, created)
    assert created["status"] == 1 and created["creator_id"] == owner.id
    assert created["entity_metadata"] == {"location": "The park"}
    voice = await call(
        client, owner, "POST", f"/guilds/{gid}/channels", 201, json={"name": "talk", "type": 2}
    )
    on_voice = {"name": "Voice chat", "privacy_level": 2, "entity_type": 2, "channel_id": voice["id"],
                "scheduled_start_time": at(3)}  # fmt: skip
    second = await call(client, owner, "POST", f"/guilds/{gid}/scheduled-events", json=on_voice)
    assert second["channel_id"] == voice["id"] and second["scheduled_end_time"] is None
    listed = await call(client, member, "GET", f"/guilds/{gid}/scheduled-events?with_user_count=true")
    assert_matches_spec("GET", BASE, 200, listed)
    assert sorted(e["id"] for e in listed) == sorted([created["id"], second["id"]])
    assert {e["user_count"] for e in listed} == {1}  # the creator is interested
    path = f"/guilds/{gid}/scheduled-events/{created['id']}"
    await call(client, member, "PUT", f"{path}/users/@me", 204)
    users = await call(client, owner, "GET", f"{path}/users?with_member=true")
    assert_matches_spec("GET", ONE + "/users", 200, users)
    assert [u["user_id"] for u in users] == sorted([owner.id, member.id], key=int)
    assert all(u["member"]["user"]["id"] == u["user_id"] for u in users)
    paged = await call(client, owner, "GET", f"{path}/users?after={users[0]['user_id']}")
    assert [u["user_id"] for u in paged] == [users[1]["user_id"]]
    counts = await call(client, owner, "GET", f"{path}/users/counts")
    assert_matches_spec("GET", ONE + "/users/counts", 200, counts)
    assert counts["guild_scheduled_event_count"] == 2
    one = await call(client, member, "GET", f"{path}?with_user_count=true")
    assert_matches_spec("GET", ONE, 200, one)
    assert one["user_count"] == 2
    renamed = await call(client, owner, "PATCH", path, json={"name": "Big meetup", "status": 2})
    assert_matches_spec("PATCH", ONE, 200, renamed)
    assert renamed["name"] == "Big meetup" and renamed["status"] == 2
    back = await call(client, owner, "PATCH", path, 400, json={"status": 1})
    assert back["code"] == 50035 and "status" in back["errors"]
    ended = await call(client, owner, "PATCH", path, json={"status": 3})
    assert ended["status"] == 3
    finished = await call(client, owner, "PATCH", path, 400, json={"name": "Again"})
    assert finished["code"] == 180000
    assert (await call(client, member, "DELETE", path, 403))["code"] == 50013
    await call(client, owner, "DELETE", path, 204)
    assert_no_content("DELETE", ONE, 204)
    assert (await call(client, owner, "GET", path, 404))["code"] == 10070
    assert (await call(client, owner, "GET", f"{path}/users/counts", 404))["code"] == 10070
    entries = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs"))["audit_log_entries"]
    assert [e["action_type"] for e in entries][:6] == [102, 101, 101, 100, 10, 100]


async def test_scheduled_event_validation(client: Client, register: Any) -> None:
    owner, member, gid, text_channel = await _guild_with_member(client, register)
    base = {"name": "x", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": at(1),
            "scheduled_end_time": at(2), "entity_metadata": {"location": "here"}}  # fmt: skip
    for change, field in (
        ({"scheduled_start_time": at(-1)}, "scheduled_start_time"),
        ({"scheduled_end_time": at(0.5)}, "scheduled_end_time"),
        ({"scheduled_end_time": None}, "scheduled_end_time"),
        ({"entity_metadata": {}}, "location"),
        ({"entity_type": 2, "channel_id": text_channel}, "channel_id"),
        ({"entity_type": 1, "channel_id": text_channel}, "channel_id"),
        ({"privacy_level": 1}, "privacy_level"),
        ({"name": ""}, "name"),
        ({"scheduled_start_time": "tomorrow"}, "scheduled_start_time"),
    ):
        bad = await call(
            client, owner, "POST", f"/guilds/{gid}/scheduled-events", 400, json={**base, **change}
        )
        assert bad["code"] == 50035 and field in str(bad["errors"]), (change, bad)
    refused = await call(client, member, "POST", f"/guilds/{gid}/scheduled-events", 403, json=base)
    assert refused["code"] == 50013
    event = await call(client, owner, "POST", f"/guilds/{gid}/scheduled-events", json=base)
    path = f"/guilds/{gid}/scheduled-events/{event['id']}"
    no_recurrence = await call(client, owner, "POST", f"{path}/exceptions", 400,
                               json={"original_scheduled_start_time": at(1)})  # fmt: skip
    assert no_recurrence["code"] == 50035
    assert (await call(client, owner, "DELETE", f"{path}/exceptions/1234", 404))["code"] == 10070
    assert (await call(client, owner, "GET", f"{path}/1234/users", 404))["code"] == 10070
