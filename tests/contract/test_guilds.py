"""Users, guilds, channels, roles, members and invites: the same behaviour on every backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from rayguild.storage import (
    Channel,
    Guild,
    Invite,
    Member,
    Overwrite,
    Role,
    Storage,
    User,
)
from rayguild.storage.semantics import MemberChange

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]
NewCode = Callable[[], str]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_users_by_id_and_token_hash(storage: Storage, new_id: NewId) -> None:
    user = User(id=new_id(), username="ada", global_name="Ada", avatar="a1")
    bot = User(id=new_id(), username="robot", bot=True)
    await storage.create_user(user, token_hash=f"h{user.id}")
    await storage.create_user(bot, token_hash=f"h{bot.id}")
    assert await storage.get_user(user.id) == user
    assert await storage.user_by_token_hash(f"h{user.id}") == user
    assert await storage.user_by_token_hash(f"h{bot.id}") == bot
    assert await storage.user_by_token_hash("no-such-hash") is None
    assert await storage.get_user(new_id()) is None


async def test_many_users_in_one_read(storage: Storage, new_id: NewId) -> None:
    users = [User(id=new_id(), username=f"u{i}") for i in range(1200)]  # more than one SQL chunk
    for user in users:
        await storage.create_user(user, token_hash=f"h{user.id}")
    missing = new_id()
    found = await storage.get_users([u.id for u in users] + [missing, users[0].id])
    assert found == {u.id: u for u in users}
    assert await storage.get_users([]) == {}


async def test_guild_channel_role_crud(storage: Storage, new_id: NewId) -> None:
    guild = Guild(id=new_id(), name="g", owner_id=new_id(), description="d")
    await storage.put_guild(guild)
    assert await storage.get_guild(guild.id) == guild
    renamed = Guild(id=guild.id, name="renamed", owner_id=guild.owner_id)
    await storage.put_guild(renamed)
    assert await storage.get_guild(guild.id) == renamed

    overwrites = (Overwrite(id=guild.id, type=0, deny=1 << 10), Overwrite(id=5, type=1, allow=3))
    text = Channel(id=new_id(), guild_id=guild.id, name="general", topic="t",
                   permission_overwrites=overwrites)  # fmt: skip
    voice = Channel(id=new_id(), guild_id=guild.id, name="voice", type=2, position=1,
                    parent_id=new_id())  # fmt: skip
    await storage.put_channel(text)
    await storage.put_channel(voice)
    assert await storage.get_channel(text.id) == text
    assert await storage.list_channels(guild.id) == [text, voice]
    await storage.delete_channel(voice.id)
    assert await storage.get_channel(voice.id) is None
    assert await storage.list_channels(guild.id) == [text]

    everyone = Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=1 << 40)
    mods = Role(id=new_id(), guild_id=guild.id, name="mods", permissions=8, position=1,
                color=0xFF0000, hoist=True, mentionable=True)  # fmt: skip
    await storage.put_role(everyone)
    await storage.put_role(mods)
    assert await storage.list_roles(guild.id) == [everyone, mods]
    await storage.delete_role(guild.id, mods.id)
    assert await storage.list_roles(guild.id) == [everyone]


async def test_delete_guild_removes_everything(storage: Storage, new_id: NewId, new_code: NewCode) -> None:
    guild = Guild(id=new_id(), name="doomed", owner_id=1)
    user = new_id()
    channel = Channel(id=new_id(), guild_id=guild.id, name="c")
    invite = Invite(code=new_code(), guild_id=guild.id, channel_id=channel.id, inviter_id=user,
                    created_at_ms=now_ms())  # fmt: skip
    await storage.put_guild(guild)
    await storage.put_channel(channel)
    await storage.put_role(Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=0))
    await storage.put_member(Member(guild_id=guild.id, user_id=user, joined_at_ms=1))
    await storage.put_invite(invite)
    assert await storage.guilds_of_user(user) == [guild.id]
    await storage.delete_guild(guild.id)
    assert await storage.get_guild(guild.id) is None
    assert await storage.get_channel(channel.id) is None
    assert await storage.list_channels(guild.id) == []
    assert await storage.list_roles(guild.id) == []
    assert await storage.get_member(guild.id, user) is None
    assert await storage.guilds_of_user(user) == []
    assert await storage.get_invite(invite.code) is None


async def test_members_and_guilds_of_user(storage: Storage, new_id: NewId) -> None:
    guilds = sorted(new_id() for _ in range(3))
    user = new_id()
    member = Member(guild_id=guilds[0], user_id=user, joined_at_ms=1000, roles=(4, 2), nick="n")
    await storage.put_member(member)
    for guild in guilds[1:]:
        await storage.put_member(Member(guild_id=guild, user_id=user, joined_at_ms=2000))
    assert await storage.get_member(guilds[0], user) == member
    assert await storage.guilds_of_user(user) == guilds
    assert await storage.remove_member(guilds[1], user) is True
    assert await storage.remove_member(guilds[1], user) is False
    assert await storage.get_member(guilds[1], user) is None
    assert await storage.guilds_of_user(user) == [guilds[0], guilds[2]]


async def test_members_page_by_user_id(storage: Storage, new_id: NewId) -> None:
    guild = new_id()
    users = [new_id() for _ in range(30)]
    await asyncio.gather(
        *(storage.put_member(Member(guild_id=guild, user_id=u, joined_at_ms=u)) for u in users)
    )
    page = await storage.list_members(guild, limit=10)
    assert [m.user_id for m in page] == users[:10]
    page = await storage.list_members(guild, after=users[9], limit=1000)
    assert [m.user_id for m in page] == users[10:]
    assert [m.user_id for m in await storage.list_members(guild)] == users[:1]
    assert await storage.list_members(guild, after=users[-1], limit=5) == []
    for bad in (0, 1001):
        with pytest.raises(ValueError):
            await storage.list_members(guild, limit=bad)


async def test_large_guild_loads_page_by_page(storage: Storage, new_id: NewId) -> None:
    """5,000 members come back in order, and ``iter_members`` never asks for more than a page."""
    guild, n, page_size = new_id(), 5_000, 700
    users = [new_id() for _ in range(n)]
    for chunk in range(0, n, 250):
        await asyncio.gather(
            *(storage.put_member(Member(guild_id=guild, user_id=u, joined_at_ms=1))
              for u in users[chunk : chunk + 250])
        )  # fmt: skip
    pages: list[int] = []
    after = 0
    while page := await storage.list_members(guild, after=after, limit=1000):
        pages.append(len(page))
        after = page[-1].user_id
    assert pages == [1000] * 5
    iterator = storage.iter_members(guild, page_size=page_size)
    first = await anext(iterator)
    assert first.user_id == users[0]
    seen = [first.user_id] + [m.user_id async for m in iterator]
    assert seen == users


async def test_invites_and_use_limits(storage: Storage, new_id: NewId, new_code: NewCode) -> None:
    guild = new_id()
    limited = Invite(code=new_code(), guild_id=guild, channel_id=new_id(), inviter_id=1,
                     created_at_ms=now_ms(), max_uses=2)  # fmt: skip
    await storage.put_invite(limited)
    assert await storage.get_invite(limited.code) == limited
    used = await asyncio.gather(*(storage.use_invite(limited.code) for _ in range(5)))
    assert sorted(i.uses for i in used if i is not None) == [1, 2]
    assert used.count(None) == 3
    stored = await storage.get_invite(limited.code)
    assert stored is not None and stored.uses == 2
    assert await storage.use_invite(limited.code) is None

    unlimited = Invite(code=new_code(), guild_id=guild, channel_id=1, inviter_id=1,
                       created_at_ms=now_ms(), max_age_s=0)  # fmt: skip
    await storage.put_invite(unlimited)
    for k in range(1, 4):
        used_once = await storage.use_invite(unlimited.code)
        assert used_once is not None and used_once.uses == k

    expired = Invite(code=new_code(), guild_id=guild, channel_id=1, inviter_id=1,
                     created_at_ms=now_ms() - 7_200_000, max_age_s=3600)  # fmt: skip
    await storage.put_invite(expired)
    assert await storage.get_invite(expired.code) is None
    assert await storage.use_invite(expired.code) is None

    assert await storage.delete_invite(limited.code) is True
    assert await storage.delete_invite(limited.code) is False
    assert await storage.get_invite(limited.code) is None
    assert await storage.use_invite("never-made") is None


async def test_concurrent_member_changes_are_all_kept(storage: Storage, new_id: NewId) -> None:
    """Twelve role adds, two removes and a nick change race on one member: none is lost."""
    guild, user = new_id(), new_id()
    await storage.put_member(Member(guild_id=guild, user_id=user, joined_at_ms=1, roles=(1, 2, 3)))
    added = [new_id() for _ in range(12)]
    changes = [MemberChange(add_roles=(r,)) for r in added]
    changes += [
        MemberChange(remove_roles=(1,)),
        MemberChange(remove_roles=(3,)),
        MemberChange(set_nick=True, nick="n"),
    ]
    results = await asyncio.gather(*(storage.change_member(guild, user, c) for c in changes))
    assert all(r is not None for r in results)
    member = await storage.get_member(guild, user)
    assert member is not None and member.nick == "n"
    assert member.roles[0] == 2 and set(member.roles) == {2, *added} and len(member.roles) == 13
    replaced = await storage.change_member(guild, user, MemberChange(roles=(7, 7, 8)))
    assert replaced is not None and replaced[0] == member and replaced[1].roles == (7, 8)
    again = await storage.change_member(guild, user, MemberChange(add_roles=(8,)))
    assert again is not None and again[1].roles == (7, 8)  # a set: adding a held role changes nothing
    emptied = await storage.change_member(guild, user, MemberChange(remove_roles=(7, 8)))
    assert emptied is not None and emptied[1].roles == ()
    assert (await storage.get_member(guild, user)) == replace(member, roles=())
    assert await storage.change_member(guild, new_id(), MemberChange(add_roles=(1,))) is None
