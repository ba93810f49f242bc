"""Synthetic load for ``rayguild bench fanout``, built on the REAL shards and the real fan-out path.

A bench guild is an ordinary ``GuildProcess`` (columnar members, session table, relays) that is
built in bulk instead of loaded from storage; its sessions are ordinary session-shard slots whose
sink counts instead of writing to a socket. Nothing on the delivery path is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rayguild.actors.guild import GuildShard
from rayguild.actors.guild_process import GuildProcess
from rayguild.fanout.events import GUILD_MESSAGES, MESSAGE_CONTENT, Dispatch
from rayguild.fanout.partition import Slots
from rayguild.fanout.permissions import DEFAULT_EVERYONE
from rayguild.relay import RelayBulkJoin
from rayguild.storage.models import Channel, Guild, Role

MODES = ("direct", "relays", "relays+passive")
BENCH_CHANNEL_OFFSET = 1


@dataclass(frozen=True, slots=True)
class BenchGuild:
    guild_id: int
    members: int
    sessions: dict[int, Slots]  # session shard -> synthetic slots on it
    active_fraction: float
    mode: str
    seed: int = 7
    intents: int = GUILD_MESSAGES | MESSAGE_CONTENT  # of every synthetic session

    @property
    def channel_id(self) -> int:
        return self.guild_id + BENCH_CHANNEL_OFFSET


async def build_guild(shard: GuildShard, spec: BenchGuild) -> dict[str, Any]:
    """Build the guild and hand its sessions to relays if the mode says so; returns its sizes."""
    if spec.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    gid = spec.guild_id
    proc = GuildProcess(
        Guild(gid, f"bench-{gid}", owner_id=1),
        [Channel(spec.channel_id, gid, "general")],
        [Role(gid, gid, "@everyone", DEFAULT_EVERYONE)],
        shard.config,
    )
    proc.members.load_columns(
        np.arange(1, spec.members + 1, dtype=np.int64), np.zeros(spec.members, np.uint64)
    )
    proc.prune_passive = spec.mode == "relays+passive"
    rng = np.random.default_rng(spec.seed)
    total = sum(s.size for s in spec.sessions.values())
    # Sessions belong to members spread evenly over the guild.
    rows = np.linspace(0, spec.members - 1, num=total, dtype=np.int64).astype(np.int32)
    active = rng.random(total) < spec.active_fraction
    intents = spec.intents
    shard.guilds[proc.guild_id] = proc  # hosted as if loaded, without storage
    if spec.mode != "direct":
        await shard.use_relays(proc)  # no session yet: the bulk joins below fill the relays
    start = 0
    for session_shard, slots in sorted(spec.sessions.items()):
        part = slice(start, start + slots.size)
        proc.sessions.add_many(session_shard, slots, rows[part], intents, active[part])
        if proc.relays is not None:
            user_ids = proc.members.user_ids[rows[part]]
            proc.relays.join_bulk(RelayBulkJoin(session_shard, slots, user_ids, intents, active[part]))
        start += slots.size
    if shard.relay_batcher is not None:
        await shard.relay_batcher.drain()
    return {
        "members": proc.members.count,
        "sessions": total,
        "active_sessions": int(active.sum()) if proc.prune_passive else total,
        "relays": len(proc.relays) if proc.relays is not None else 0,
    }


def bench_message(spec_guild_id: int, i: int) -> dict[str, Any]:
    return {
        "id": str(i),
        "channel_id": str(spec_guild_id + BENCH_CHANNEL_OFFSET),
        "guild_id": str(spec_guild_id),
        "type": 0,
        "content": f"benchmark message {i}",
        "author": {"id": "1", "username": "bench", "discriminator": "0", "global_name": None, "avatar": None},
        "timestamp": "2026-11-22T00:00:00.000+00:00",
        "mentions": [],
        "attachments": [],
        "embeds": [],
    }


class DeliveryTrace:
    """Per dispatch (keyed by its emit time): when its last batch landed on this shard, and how many."""

    def __init__(self) -> None:
        self.records: dict[int, list[int]] = {}

    def record(self, batch: list[tuple[Dispatch, Slots]]) -> None:
        now = time.time_ns()
        for dispatch, slots in batch:
            record = self.records.get(dispatch.emitted_ns)
            if record is None:
                self.records[dispatch.emitted_ns] = [now, int(slots.size)]
            else:
                record[0] = now
                record[1] += int(slots.size)

    def take(self) -> dict[int, list[int]]:
        records, self.records = self.records, {}
        return records
