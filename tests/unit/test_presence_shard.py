"""PresenceShard: a user's presence merged across sessions, offline fanned out once, push handoff."""

from __future__ import annotations

from typing import Any

import pytest

from rayguild.actors.commands import Publish
from rayguild.actors.presence import PresenceShard, SessionPresence
from rayguild.actors.push import PushRequest, SubmitResult
from rayguild.fanout.events import GUILD_PRESENCES

pytestmark = pytest.mark.asyncio


class Recorder:
    def __init__(self) -> None:
        self.published: list[Publish] = []
        self.pushed: list[PushRequest] = []

    async def publish(self, cmd: Publish) -> int:
        self.published.append(cmd)
        return 0

    async def submit(self, requests: list[PushRequest]) -> SubmitResult:
        self.pushed += requests
        return SubmitResult(len(requests), 0, 0, 0)

    def statuses(self) -> list[tuple[int, str]]:
        return [(p.guild_id, p.d["status"]) for p in self.published]


def shard() -> tuple[PresenceShard, Recorder]:
    rec = Recorder()
    return PresenceShard(0, rec.publish, rec.submit), rec


def record(
    session: str, status: str = "online", guilds: tuple[int, ...] = (1, 2), **kw: Any
) -> SessionPresence:
    return SessionPresence(7, session, guilds, status, **kw)


async def test_sessions_merge_and_each_change_goes_once_per_guild_gated_on_the_intent() -> None:
    presence, rec = shard()
    await presence.update(record("a", activities=({"name": "chess", "type": 0},)))
    assert rec.statuses() == [(1, "online"), (2, "online")]
    assert all(p.intent == GUILD_PRESENCES and p.t == "PRESENCE_UPDATE" for p in rec.published)
    await presence.update(record("b", "dnd", client="mobile"))
    shown = await presence.get(7)
    assert shown == {
        "status": "dnd",
        "activities": [{"name": "chess", "type": 0}],
        "client_status": {"desktop": "online", "mobile": "dnd"},
    }
    rec.published.clear()
    await presence.update(record("b", "dnd", client="mobile"))  # no change: nothing published
    assert rec.published == []


async def test_an_unchanged_presence_is_shown_in_a_guild_joined_since() -> None:
    presence, rec = shard()
    await presence.update(record("a", guilds=(1,)))
    rec.published.clear()
    await presence.update(record("a", guilds=(1, 3)))  # op 3 after joining guild 3
    assert rec.statuses() == [(3, "online")]
    assert [p["user"]["id"] for p in (await presence.visible([3], 10))[3]] == ["7"]


async def test_offline_is_fanned_out_once_when_the_last_session_ends() -> None:
    presence, rec = shard()
    await presence.update(record("a"))
    await presence.update(record("b", guilds=(3,)))
    rec.published.clear()
    await presence.disconnect(7, "a")
    assert rec.published == []  # still online through session b
    await presence.update(record("b", guilds=(3,), connected=False))  # detached: still online
    assert rec.published == [] and (await presence.get(7) or {})["status"] == "online"
    await presence.disconnect(7, "b")
    await presence.disconnect(7, "b")  # again: nothing more
    assert rec.statuses() == [(3, "offline")]
    assert await presence.get(7) is None and presence.by_guild == {}


async def test_invisible_is_shown_offline_and_not_listed() -> None:
    presence, rec = shard()
    await presence.update(record("a", "invisible"))
    assert rec.published == []  # offline -> offline: nothing to say
    assert await presence.visible([1], 10) == {1: []}


async def test_visible_lists_online_users_per_guild_up_to_the_limit() -> None:
    presence, _ = shard()
    for user in range(5):
        await presence.update(SessionPresence(100 + user, f"s{user}", (1,), "idle"))
    listed = await presence.visible([1, 9], limit=3)
    assert [p["user"]["id"] for p in listed[1]] == ["100", "101", "102"] and listed[9] == []
    assert listed[1][0] == {
        "user": {"id": "100"}, "guild_id": "1", "status": "idle", "activities": [],
        "client_status": {"desktop": "idle"},
    }  # fmt: skip


async def test_push_goes_only_to_users_without_a_connected_session() -> None:
    presence, rec = shard()
    await presence.update(SessionPresence(1, "on", (1,)))
    await presence.update(SessionPresence(2, "away", (1,), connected=False))
    requests = [PushRequest(f"m:{u}", u, "mention", {}) for u in (1, 2, 3)]
    assert await presence.push_if_offline(requests) == 2
    assert [r.user_id for r in rec.pushed] == [2, 3]


async def test_rebuild_takes_the_live_sessions_and_publishes_nothing() -> None:
    presence, rec = shard()
    users = presence.rebuild([SessionPresence(1, "a", (1,), "dnd"), SessionPresence(2, "b", (1,))])
    assert users == 2 and rec.published == []
    assert [p["status"] for p in (await presence.visible([1], 10))[1]] == ["dnd", "online"]
    await presence.disconnect(1, "a")
    assert rec.statuses() == [(1, "offline")]
