"""Identify limits as Discord has them: session starts per window, max_concurrency, shard size.

For bots (Discord documents these limits for bot tokens; user accounts are not limited here):
- ``session_start_total`` identifies (session starts; resumes never count) per window of
  ``session_start_reset_s`` that opens at the first identify after the previous window ended.
  ``GET /gateway/bot`` reports ``{total, remaining, reset_after, max_concurrency}``.
- ``identify_max_concurrency`` buckets (``shard_id % max_concurrency``), each taking one identify
  per ``identify_interval_s`` (Discord: 5 s). A sooner one is answered with op 9 Invalid Session
  (``d: false``), as Discord answers it, and counts nothing; libraries wait and identify again.
- An identify beyond the session start limit is closed with 4004 Authentication failed. Discord
  then terminates the bot's sessions and resets its token, so 4004 is what its clients see next
  (discord.py and discord.js stop on 4004 instead of looping). rayguild keeps the token and the
  live sessions: it refuses new session starts until the window resets (the close reason says
  when). A server that reset tokens would turn a client bug into lost credentials.
- A session that would hold more than 2500 guilds is closed with 4011 Sharding required.

Where the count lives: in storage, one row per user written by compare-and-set
(``SessionStartStore``). Every edge must count the same identifies of a bot (its shards connect
through the shared port to whichever edge the kernel picks), the count must survive the restart of
any actor, and the identify path already reads storage (token, guilds); a bot identify costs one
more read and one conditional write.

Concurrency: identifies of one bot never race each other into a wrong answer. On one edge (one
storage client) they take turns (one lock per bot, held only while its record is read and
swapped), so the compare-and-set is contended only by other edges. A loser re-reads and is
judged again on what the winner wrote: the last session start goes to exactly one identify (the
others get 4004), a bucket admits one identify per interval (the others get op 9, as on
Discord), and with a window left and no bucket interval every identify is admitted. Each lost
round means another edge's identify was counted, so a contender is refused for contention alone
(op 9, as Discord answers identifies beyond max_concurrency) only after ``SWAP_TRIES`` identifies
on other edges were counted while it waited.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from dataclasses import dataclass
from typing import Any

from rayguild.config import Config
from rayguild.http_api.gateway_protocol import CloseCode, GatewayClose
from rayguild.storage.models import SessionStarts, User
from rayguild.storage.protocol import SessionStartStore

MAX_GUILDS_PER_SHARD = 2500  # Discord's: beyond it a bot must shard (4011)
SWAP_TRIES = 64  # compare-and-set rounds lost to other edges before an identify gets op 9

# One lock per (storage client, bot) while any identify of that bot is being counted; weak, so a
# bot's lock goes when its last identify is done.
_turns: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = weakref.WeakValueDictionary()


class IdentifyThrottled(Exception):
    """Too soon for this identify bucket: the edge answers op 9 Invalid Session (``d: false``)."""


@dataclass(frozen=True, slots=True)
class StartRule:
    total: int
    reset_ms: int
    max_concurrency: int
    interval_ms: int

    @staticmethod
    def of(config: Config) -> StartRule:
        return StartRule(
            config.session_start_total,
            round(config.session_start_reset_s * 1000),
            config.identify_max_concurrency,
            round(config.identify_interval_s * 1000),
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """What ``GET /gateway/bot`` reports as ``session_start_limit``."""

    total: int
    remaining: int
    reset_after_ms: int
    max_concurrency: int

    def shape(self) -> dict[str, Any]:
        return {
            "total": self.total, "remaining": self.remaining,
            "reset_after": self.reset_after_ms, "max_concurrency": self.max_concurrency,
        }  # fmt: skip


def _window_open(record: SessionStarts | None, rule: StartRule, now_ms: int) -> bool:
    return record is not None and now_ms < record.window_start_ms + rule.reset_ms


def standing(record: SessionStarts | None, rule: StartRule, now_ms: int) -> Standing:
    if record is None or not _window_open(record, rule, now_ms):
        return Standing(rule.total, rule.total, rule.reset_ms, rule.max_concurrency)
    reset_after = record.window_start_ms + rule.reset_ms - now_ms
    return Standing(rule.total, max(0, rule.total - record.used), reset_after, rule.max_concurrency)


def take(
    user_id: int, record: SessionStarts | None, rule: StartRule, now_ms: int, bucket: int
) -> SessionStarts:
    """The record after one more session start in ``bucket``; raises 4004 when none is left and
    ``IdentifyThrottled`` when the bucket identified less than an interval ago."""
    now = standing(record, rule, now_ms)
    if now.remaining == 0:
        resets_s = math.ceil(now.reset_after_ms / 1000)
        raise GatewayClose(
            CloseCode.AUTHENTICATION_FAILED, f"Session start limit reached; it resets in {resets_s} s"
        )
    last = {b: ms for b, ms in (record.bucket_last_ms if record else ()) if now_ms - ms < rule.interval_ms}
    if bucket in last:
        raise IdentifyThrottled
    last[bucket] = now_ms
    buckets = tuple(sorted(last.items()))
    if record is None:
        return SessionStarts(user_id, 1, now_ms, 1, buckets)
    if _window_open(record, rule, now_ms):
        return SessionStarts(user_id, record.version + 1, record.window_start_ms, record.used + 1, buckets)
    return SessionStarts(user_id, record.version + 1, now_ms, 1, buckets)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def admit(
    store: SessionStartStore, config: Config, account: User, shard: tuple[int, int], guilds: int
) -> None:
    """Count one session start of ``account`` on ``shard`` (holding ``guilds`` guilds), or refuse
    it: 4011, 4004 or ``IdentifyThrottled`` (see the module doc)."""
    if not account.bot:
        return
    if guilds > MAX_GUILDS_PER_SHARD:
        raise GatewayClose(CloseCode.SHARDING_REQUIRED, "Sharding required")
    rule = StartRule.of(config)
    key = (id(store), account.id)
    turn = _turns.get(key)
    if turn is None:
        turn = _turns[key] = asyncio.Lock()
    async with turn:
        for _ in range(SWAP_TRIES):
            record = await store.get_session_starts(account.id)
            if await store.swap_session_starts(
                take(account.id, record, rule, _now_ms(), shard[0] % rule.max_concurrency)
            ):
                return
    raise IdentifyThrottled


async def standing_of(store: SessionStartStore, config: Config, user_id: int) -> Standing:
    return standing(await store.get_session_starts(user_id), StartRule.of(config), _now_ms())


def recommended_shards(guilds: int) -> int:
    """Discord recommends about one shard per 1000 guilds."""
    return max(1, math.ceil(guilds / 1000))
