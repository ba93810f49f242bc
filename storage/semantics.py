"""Semantics every backend shares: Discord's history rules over two primitive scans, invite rules, a member's role change.

``GET /channels/{id}/messages`` returns newest first. ``before`` takes the newest messages older
than the id, ``after`` the oldest ones newer than the id, ``around`` up to ``ceil(limit/2)``
messages from the id upwards (the message itself included) and ``limit // 2`` below it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.models import Invite, Member, Message, SessionStarts
from rayguild.storage.protocol import HistoryQuery

MAX_ID = (1 << 63) - 1

# older(channel_id, before_exclusive, limit) -> newest first
# newer(channel_id, after_exclusive, limit) -> the closest to after, newest first
Scan = Callable[[int, int, int], Awaitable[list[Message]]]
# list_members(guild_id, after, limit) -> ascending by user id
MemberPage = Callable[[int, int, int], Awaitable[list[Member]]]


async def run_history(query: HistoryQuery, older: Scan, newer: Scan) -> list[Message]:
    """Answer ``query`` with the backend's two scans."""
    channel, limit = query.channel_id, query.limit
    if query.after is not None:
        return await newer(channel, query.after, limit)
    if query.around is not None:
        upper = await newer(channel, query.around - 1, (limit + 1) // 2)
        lower = await older(channel, query.around, limit // 2) if limit > 1 else []
        return upper + lower
    before = MAX_ID if query.before is None else query.before
    return await older(channel, before, limit)


class HistoryByScans:
    """``history`` for a backend that implements the two scans ``_older`` and ``_newer``: identical
    concurrent reads of a channel share one run (``_reads``; a write to the channel forgets it)."""

    _reads: SingleFlight
    _older: Scan
    _newer: Scan

    async def history(self, query: HistoryQuery) -> list[Message]:
        found = await self._reads.run(
            ("messages", query.channel_id), query,
            lambda: run_history(query, self._older, self._newer),
        )  # fmt: skip
        return list(found)


def invite_usable(invite: Invite, now_ms: int) -> bool:
    """False once the invite has expired (``max_age_s`` 0 never does) or used all its uses."""
    used_up = invite.max_uses > 0 and invite.uses >= invite.max_uses
    return invite_live(invite, now_ms) and not used_up


def invite_live(invite: Invite, now_ms: int) -> bool:
    """False once the invite has expired; a used-up invite is still shown until deleted."""
    return invite.max_age_s == 0 or now_ms < invite.created_at_ms + invite.max_age_s * 1000


async def iter_pages(list_members: MemberPage, guild_id: int, page_size: int) -> AsyncIterator[Member]:
    """Every member of the guild in user-id order, holding one page of ``page_size`` at a time."""
    after = 0
    while page := await list_members(guild_id, after, page_size):
        for member in page:
            yield member
        after = page[-1].user_id


@dataclass(frozen=True, slots=True)
class MemberChange:
    """A change to one member, applied atomically by ``change_member``: ``roles`` replaces the
    role list, else ``add_roles`` / ``remove_roles`` change it as a set (kept in order, new ones
    last); ``nick`` is written only when ``set_nick``."""

    add_roles: tuple[int, ...] = ()
    remove_roles: tuple[int, ...] = ()
    roles: tuple[int, ...] | None = None
    set_nick: bool = False
    nick: str | None = None

    def applied(self, member: Member) -> Member:
        if self.roles is not None:
            roles = tuple(dict.fromkeys(self.roles))
        else:
            kept = tuple(r for r in member.roles if r not in self.remove_roles)
            roles = kept + tuple(r for r in dict.fromkeys(self.add_roles) if r not in kept)
        return replace(member, roles=roles, nick=self.nick if self.set_nick else member.nick)


def buckets_text(pairs: tuple[tuple[int, int], ...]) -> str:
    """``SessionStarts.bucket_last_ms`` as stored: "bucket:ms,bucket:ms"."""
    return ",".join(f"{bucket}:{ms}" for bucket, ms in pairs)


def session_starts_of(
    user_id: int, version: int, window_start_ms: int, used: int, text: str
) -> SessionStarts:
    pairs = tuple((int(b), int(ms)) for b, ms in (item.split(":") for item in text.split(",") if item))
    return SessionStarts(user_id, version, window_start_ms, used, pairs)
