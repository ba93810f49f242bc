"""A lost relay's sessions, rebuilt from their guild: GUILD_DELETE unavailable, then GUILD_CREATE.

A relay holds no state of its own that the guild does not: its sessions are rows of the guild's
session table. When one dies (or restarts empty) the guild retires it, tells its sessions the guild
is unavailable (straight to their session shards: the relay is gone), and joins each again into a
live or new relay, whose ordered stream carries the join, then the session's GUILD_CREATE, then the
guild's later events. Sessions keep their id and seq; what they missed meanwhile they fetch by the
channels' ``last_message_id`` (as after a guild shard loss). No session re-identifies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rayguild.actors.guild_create import guild_create
from rayguild.fanout.events import Dispatch
from rayguild.relay import RelayItem

if TYPE_CHECKING:
    from rayguild.actors.guild import GuildShard
    from rayguild.actors.guild_process import GuildProcess

DEFAULT_LARGE_THRESHOLD = 50  # the guild does not keep each session's; Discord's default


async def rejoin_relay_sessions(shard: GuildShard, proc: GuildProcess, session_ids: list[str]) -> int:
    """Rejoin the sessions of a retired relay; returns how many were rejoined."""
    guild_id, rows = proc.guild_id, proc.sessions.rows
    unavailable = Dispatch.of(guild_id, "GUILD_DELETE", {"id": str(guild_id), "unavailable": True})
    slots: dict[int, list[int]] = {}
    for session_id in session_ids:
        row = rows.get(session_id)
        if row is not None:
            slots.setdefault(int(proc.sessions.shard[row]), []).append(int(proc.sessions.slot[row]))
    for session_shard, group in slots.items():
        shard.outbox.add(session_shard, unavailable, np.asarray(group, dtype=np.int32))
    await shard.outbox.drain()  # written before anything the new relay carries to them
    rejoined = 0
    for session_id in session_ids:
        join = proc.relay_join(session_id)
        if join is None or proc.relays is None:
            continue
        d = await guild_create(shard.storage, proc, join.user_id, DEFAULT_LARGE_THRESHOLD)
        join = proc.relay_join(session_id)  # again: it may have left or moved meanwhile
        if join is None:
            continue
        # Join and GUILD_CREATE with no await between them: no event can slip in ahead.
        proc.relays.join(join)
        proc.relays.to_one(
            session_id, RelayItem(Dispatch.of(guild_id, "GUILD_CREATE", d), join.shard, join.slot)
        )
        rejoined += 1
    return rejoined
