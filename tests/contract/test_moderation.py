"""Bans, the audit log, member moderation state and settings documents: the same behaviour on every
backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from rayguild.storage import Invite, ScyllaStorage, Storage, User
from rayguild.storage.moderation import AuditEntry, AuditQuery, Ban, BanQuery, MemberState

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]


async def test_bans_put_get_page_and_delete(storage: Storage, new_id: NewId) -> None:
    guild = new_id()
    users = [new_id() for _ in range(5)]
    for i, user in enumerate(users):
        await storage.put_ban(Ban(guild, user, f"reason {i}" if i % 2 else None))
    assert await storage.get_ban(guild, users[1]) == Ban(guild, users[1], "reason 1")
    assert await storage.get_ban(guild, new_id()) is None
    assert [b.user_id for b in await storage.list_bans(BanQuery(guild))] == users
    assert [b.user_id for b in await storage.list_bans(BanQuery(guild, limit=2, after=users[1]))] == users[
        2:4
    ]
    assert [b.user_id for b in await storage.list_bans(BanQuery(guild, limit=2, before=users[3]))] == users[
        1:3
    ]
    assert await storage.list_bans(BanQuery(new_id())) == []
    await storage.put_ban(Ban(guild, users[0], "again"))  # a second ban replaces the first
    assert await storage.get_ban(guild, users[0]) == Ban(guild, users[0], "again")
    assert await storage.delete_ban(guild, users[0]) is True
    assert await storage.delete_ban(guild, users[0]) is False
    assert [b.user_id for b in await storage.list_bans(BanQuery(guild))] == users[1:]


async def test_audit_entries_newest_first_with_filters_and_bounds(storage: Storage, new_id: NewId) -> None:
    guild, alice, bob = new_id(), new_id(), new_id()
    entries = [
        AuditEntry(new_id(), guild, alice if i % 2 == 0 else bob, 22 if i % 3 == 0 else 20,
                   target_id=new_id(), reason=f"r{i}" if i else None,
                   changes='[{"key": "nick"}]', options='{"count": "1"}')
        for i in range(7)
    ]  # fmt: skip
    for entry in entries:
        await storage.add_audit_entry(entry)
    newest_first = entries[::-1]
    assert await storage.list_audit_entries(AuditQuery(guild)) == newest_first
    assert await storage.list_audit_entries(AuditQuery(guild, limit=3)) == newest_first[:3]
    by_alice = await storage.list_audit_entries(AuditQuery(guild, user_id=alice))
    assert by_alice == [e for e in newest_first if e.user_id == alice]
    target = entries[5].target_id
    assert await storage.list_audit_entries(AuditQuery(guild, target_id=target)) == [entries[5]]
    bans = await storage.list_audit_entries(AuditQuery(guild, action_type=22, user_id=bob))
    assert bans == [e for e in newest_first if e.action_type == 22 and e.user_id == bob]
    before = await storage.list_audit_entries(AuditQuery(guild, limit=2, before=entries[4].id))
    assert before == [entries[3], entries[2]]
    after = await storage.list_audit_entries(AuditQuery(guild, limit=2, after=entries[1].id))
    assert after == [entries[3], entries[2]]
    assert await storage.list_audit_entries(AuditQuery(new_id())) == []


async def test_audit_filters_reach_past_a_page_of_other_entries(storage: Storage, new_id: NewId) -> None:
    guild, rare, busy = new_id(), new_id(), new_id()
    old = AuditEntry(new_id(), guild, rare, 24)
    await storage.add_audit_entry(old)
    for _ in range(120):
        await storage.add_audit_entry(AuditEntry(new_id(), guild, busy, 24))
    assert await storage.list_audit_entries(AuditQuery(guild, user_id=rare)) == [old]


async def test_member_state_is_replaced_whole(storage: Storage, new_id: NewId) -> None:
    guild, user = new_id(), new_id()
    assert await storage.get_member_state(guild, user) is None
    timed_out = MemberState(guild, user, timeout_until_ms=1_900_000_000_000, mute=True)
    await storage.put_member_state(timed_out)
    assert await storage.get_member_state(guild, user) == timed_out
    cleared = MemberState(guild, user, deaf=True)
    await storage.put_member_state(cleared)
    assert await storage.get_member_state(guild, user) == cleared
    assert await storage.get_member_state(guild, new_id()) is None


async def test_settings_documents_are_replaced_whole_per_owner_and_name(
    storage: Storage, new_id: NewId
) -> None:
    guild, other = new_id(), new_id()
    assert await storage.get_setting(guild, "widget") is None
    await storage.put_setting(guild, "widget", '{"enabled": true}')
    await storage.put_setting(guild, "welcome_screen", '{"description": "hi"}')
    await storage.put_setting(other, "widget", '{"enabled": false}')
    assert await storage.get_setting(guild, "widget") == '{"enabled": true}'
    await storage.put_setting(guild, "widget", '{"enabled": false, "channel_id": null}')
    assert await storage.get_setting(guild, "widget") == '{"enabled": false, "channel_id": null}'
    assert await storage.get_setting(guild, "welcome_screen") == '{"description": "hi"}'
    assert await storage.get_setting(other, "widget") == '{"enabled": false}'


@pytest.mark.cassandra
async def test_a_null_document_on_cassandra_is_no_document(
    scylla_storage: ScyllaStorage, new_id: NewId
) -> None:
    """A row whose document is null (written outside rayguild, or by an older writer) reads as
    none: get_setting None (not the text "None"), left out of list_settings, swapped from None."""
    owner = new_id()
    await scylla_storage._db.execute("INSERT INTO settings (owner_id, name, document) VALUES (?,?,?)",
                                     owner, "doc:1", None)  # fmt: skip
    assert await scylla_storage.get_setting(owner, "doc:1") is None
    assert await scylla_storage.list_settings(owner, "doc:") == []
    assert await scylla_storage.swap_setting(owner, "doc:1", None, '"set"') is True
    assert await scylla_storage.get_setting(owner, "doc:1") == '"set"'


async def test_a_setting_is_swapped_only_from_the_document_expected(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    assert await storage.swap_setting(channel, "slowmode:1", "1000", "2000") is False  # none yet
    assert await storage.get_setting(channel, "slowmode:1") is None
    assert await storage.swap_setting(channel, "slowmode:1", None, "1000") is True
    assert await storage.swap_setting(channel, "slowmode:1", None, "1500") is False  # exists already
    assert await storage.swap_setting(channel, "slowmode:1", "999", "1500") is False  # stale base
    assert await storage.swap_setting(channel, "slowmode:1", "1000", "2000") is True
    assert await storage.get_setting(channel, "slowmode:1") == "2000"
    assert await storage.swap_setting(channel, "slowmode:2", None, "7") is True  # names apart
    assert await storage.get_setting(channel, "slowmode:1") == "2000"


async def test_of_concurrent_setting_swaps_from_one_document_exactly_one_wins(
    storage: Storage, new_id: NewId
) -> None:
    channel, expected = new_id(), None
    for round_ in range(2):  # from no document, then from the one that won
        tries = [f"{round_}-{n}" for n in range(8)]
        won = await asyncio.gather(*(storage.swap_setting(channel, "mark", expected, t) for t in tries))
        assert sum(won) == 1
        expected = tries[won.index(True)]
        assert await storage.get_setting(channel, "mark") == expected


async def test_a_guilds_live_invites_are_listed_by_code(storage: Storage, new_id: NewId) -> None:
    guild, channel, user = new_id(), new_id(), new_id()
    now = time.time_ns() // 1_000_000
    live = [Invite(f"live{guild}{i}", guild, channel, user, now, max_age_s=0) for i in range(2)]
    expired = Invite(f"old{guild}", guild, channel, user, now - 10_000_000, max_age_s=60)
    for invite in (*live, expired, Invite(f"other{guild}", new_id(), channel, user, now)):
        await storage.put_invite(invite)
    assert await storage.list_invites(guild) == sorted(live, key=lambda i: i.code)
    await storage.delete_invite(live[0].code)
    assert await storage.list_invites(guild) == [live[1]]


async def test_settings_list_by_prefix_and_delete(storage: Storage, new_id: NewId) -> None:
    guild = new_id()
    for name in ("emoji:2", "emoji:1", "emojis", "widget", "emoji:3"):
        await storage.put_setting(guild, name, f'"{name}"')
    assert await storage.list_settings(guild, "emoji:") == [(f"emoji:{i}", f'"emoji:{i}"') for i in (1, 2, 3)]
    assert await storage.delete_setting(guild, "emoji:2") is True
    assert await storage.delete_setting(guild, "emoji:2") is False
    assert [n for n, _ in await storage.list_settings(guild, "emoji")] == ["emoji:1", "emoji:3", "emojis"]
    assert await storage.list_settings(new_id(), "") == []


async def test_a_users_profile_is_updated_and_its_token_kept(storage: Storage, new_id: NewId) -> None:
    user = User(id=new_id(), username="before", global_name="Before", avatar=None)
    await storage.create_user(user, token_hash=f"profile{user.id}")
    renamed = User(id=user.id, username="after", global_name=None, avatar="abc123")
    assert await storage.update_user(renamed) is True
    assert await storage.get_user(user.id) == renamed
    assert await storage.user_by_token_hash(f"profile{user.id}") == renamed
    assert await storage.update_user(User(id=new_id(), username="ghost")) is False
