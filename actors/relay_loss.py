"""A lost relay's sessions, rebuilt from their guild: GUILD_DELETE unavailable, then GUILD_CREATE.

A relay holds no state of its own that the guild does not: its sessions are rows of the guild's
session table. When one dies (or restarts empty) the guild retires it, tells its sessions the guild
is unavailable (straight to their session shards: the relay is gone), and joins each again into a
live or new relay, whose ordered stream carries the join, then the session's GUILD_CREATE, then the
guild's later events. Sessions keep their id and seq; what they missed meanwhile they fetch by the
channels' ``last_message_id`` (as after a guild shard loss). No session re-identifies.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import numpy as np
import structlog

from rayguild.actors.guild_create import guild_create
from rayguild.errors import StorageUnavailable
from rayguild.fanout.events import Dispatch
from rayguild.relay import RelayItem

if TYPE_CHECKING:
    from rayguild.actors.guild import GuildShard
    from rayguild.actors.guild_process import GuildProcess

log = structlog.get_logger("rayguild.guild")

DEFAULT_LARGE_THRESHOLD = 50  # the guild does not keep each session's; Discord's default
REJOIN_BACKOFF_S = 0.25  # doubled per failed attempt, at most REJOIN_BACKOFF_MAX_S
REJOIN_BACKOFF_MAX_S = 5.0
REJOIN_GIVE_UP_S = 300.0  # storage down this long: the sessions are told to re-identify (op 9)


async def rejoin_relay_sessions(shard: GuildShard, proc: GuildProcess, session_ids: list[str]) -> int:
    """Rejoin the sessions of a retired relay; returns how many were rejoined.

    Per session shard, independently: its sessions' GUILD_DELETE is delivered first, then each
    session is joined again. A session shard that is itself restarting (its node was lost with the
    relay) holds up only its own sessions, which its restart then drops anyway.
    """
    guild_id, rows = proc.guild_id, proc.sessions.rows
    unavailable = Dispatch.of(guild_id, "GUILD_DELETE", {"id": str(guild_id), "unavailable": True})
    groups: dict[int, list[str]] = {}
    for session_id in session_ids:
        row = rows.get(session_id)
        if row is not None:
            groups.setdefault(int(proc.sessions.shard[row]), []).append(session_id)
    for session_shard, group in groups.items():
        slots = [int(proc.sessions.slot[rows[s]]) for s in group]
        shard.outbox.add(session_shard, unavailable, np.asarray(slots, dtype=np.int32))
    counts = await asyncio.gather(*(_rejoin_group(shard, proc, s, group) for s, group in groups.items()))
    return sum(counts)


async def _rejoin_group(
    shard: GuildShard, proc: GuildProcess, session_shard: int, session_ids: list[str]
) -> int:
    await shard.outbox.drain_to(session_shard)  # written before anything the new relay carries to them
    rejoined = 0
    for session_id in session_ids:
        rejoined += await _rejoin_one(shard, proc, session_id)
    return rejoined


async def _rejoin_one(shard: GuildShard, proc: GuildProcess, session_id: str) -> bool:
    """Join one session into a live or new relay with its GUILD_CREATE. GUILD_CREATE is read from
    storage, so while storage is down this retries with back-off (the session stays told that the
    guild is unavailable); after ``REJOIN_GIVE_UP_S`` the session is told to re-identify instead of
    being left without its guild."""
    guild_id = proc.guild_id
    delay, give_up_at = REJOIN_BACKOFF_S, time.monotonic() + REJOIN_GIVE_UP_S
    while True:
        join = proc.relay_join(session_id)
        if join is None or proc.relays is None or shard.guilds.get(guild_id) is not proc:
            return False  # it left, or the guild was unloaded
        if session_id in proc.relays.relay_of:
            return False  # joined again meanwhile by another path
        try:
            d = await guild_create(shard.storage, proc, join.user_id, DEFAULT_LARGE_THRESHOLD)
        except StorageUnavailable as exc:
            if time.monotonic() > give_up_at:
                log.error(
                    "relay rejoin gave up; the session must re-identify", guild_id=guild_id, error=str(exc)
                )
                shard.outbox.invalidate(join.shard, [join.slot])
                return False
            log.info("relay rejoin waits for storage", guild_id=guild_id, retry_s=delay, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, REJOIN_BACKOFF_MAX_S)
            continue
        join = proc.relay_join(session_id)  # again: it may have left or moved meanwhile
        if join is None or proc.relays is None or session_id in proc.relays.relay_of:
            return False
        # Join and GUILD_CREATE with no await between them: no event can slip in ahead.
        proc.relays.join(join)
        proc.relays.to_one(
            session_id, RelayItem(Dispatch.of(guild_id, "GUILD_CREATE", d), join.shard, join.slot)
        )
        return True
