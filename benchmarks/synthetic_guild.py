"""The benchmarks' guilds: written to storage and loaded by a guild shard as any guild is.

A bench guild (one open text channel, @everyone, members with user ids 1..members) is stored
before its first session connects; the guild shard then loads it from storage page by page, as
it loads every guild. The fan-out technique is the production configuration, not a switch on
the guild: ``mode_config`` sets when a guild uses relays and when its sessions start passive,
and each mode runs on shards of its own (``run_shards``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from rayguild.actors import cluster
from rayguild.actors.commands import Stats
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.memory import rss_bytes
from rayguild.benchmarks.synthetic_edge import start_synthetic_edge
from rayguild.config import Config
from rayguild.fanout.permissions import DEFAULT_EVERYONE
from rayguild.storage import open_storage
from rayguild.storage.models import Channel, Guild, Member, Role

MODES = ("direct", "relays", "relays+passive")
NEVER = 1 << 40  # a threshold no bench guild reaches
CHANNEL_OFFSET = 1  # a bench guild's channel id is its guild id + 1
WRITES_AT_ONCE = 256


def channel_of(guild_id: int) -> int:
    return guild_id + CHANNEL_OFFSET


def mode_config(config: Config, mode: str) -> Config:
    """direct: never relays; relays: every guild of 2 or more sessions; +passive: sessions of
    every guild of 2 or more members start passive (op 14 makes them active)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    return replace(
        config,
        relay_threshold_sessions=NEVER if mode == "direct" else 1,
        passive_guild_members=1 if mode == "relays+passive" else NEVER,
    )


async def store_guild(config: Config, guild_id: int, members: int) -> None:
    """Write the guild, its channel, @everyone and members 1..``members`` to the shards' storage."""
    storage = open_storage(config)
    await storage.start()
    try:
        await storage.put_guild(Guild(guild_id, f"bench-{guild_id}", owner_id=1))
        await storage.put_channel(Channel(channel_of(guild_id), guild_id, "general"))
        await storage.put_role(Role(guild_id, guild_id, "@everyone", DEFAULT_EVERYONE))
        now_ms = int(time.time() * 1000)
        if config.storage == "sqlite":  # one transaction: a commit per member would take hours
            await asyncio.to_thread(_insert_members, config.sqlite_path, guild_id, members, now_ms)
            return
        for start in range(1, members + 1, WRITES_AT_ONCE):
            users = range(start, min(members + 1, start + WRITES_AT_ONCE))
            await asyncio.gather(*(storage.put_member(Member(guild_id, u, now_ms)) for u in users))
    finally:
        await storage.close()


def _insert_members(path: str, guild_id: int, members: int, joined_at_ms: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO members (guild_id, user_id, joined_at_ms, roles, nick) VALUES (?,?,?,?,?)",
            ((guild_id, user_id, joined_at_ms, "[]", None) for user_id in range(1, members + 1)),
        )


def bench_message(guild_id: int, i: int) -> dict[str, Any]:
    return {
        "id": str(i),
        "channel_id": str(channel_of(guild_id)),
        "guild_id": str(guild_id),
        "type": 0,
        "content": f"benchmark message {i}",
        "author": {"id": "1", "username": "bench", "discriminator": "0", "global_name": None, "avatar": None},
        "timestamp": "2026-11-22T00:00:00.000+00:00",
        "mentions": [],
        "attachments": [],
        "embeds": [],
    }


async def guild_stats(runtime: Runtime, guild_id: int) -> dict[str, Any]:
    """The guild's shard counters (``Stats``), its relays' counters summed, the shard's RSS."""
    stats = dict(await runtime.directory.guild_shard(guild_id).stats())
    names = relays_of(runtime, guild_id)
    relays = await asyncio.gather(*(runtime.directory.endpoint(n).send(Stats()) for n in names))
    return stats | {
        "relays": len(names),
        "relay_calls": sum(r["ray_calls"] for r in relays),
        "relay_bytes": sum(r["memory_bytes"] for r in relays),
        "dropped_sessions": stats["dropped_sessions"] + sum(r["dropped_sessions"] for r in relays),
        # batches a relay holds back for a missing earlier one, the most it ever held, and the ones
        # it forgot (a stream that never saw its batch 0): a relay that delivers nothing shows here
        "relay_waiting_batches": sum(r.get("waiting_batches", 0) for r in relays),
        "relay_peak_waiting_batches": max((r.get("peak_waiting_batches", 0) for r in relays), default=0),
        "relay_peak_before_first_batches": max(
            (r.get("peak_before_first_batches", 0) for r in relays), default=0
        ),
        "relay_orphaned_batches": sum(r.get("orphaned_batches", 0) for r in relays),
        "rss_bytes": rss_bytes(stats["pid"]),
    }


def relays_of(runtime: Runtime, guild_id: int) -> list[str]:
    """The names of the guild's relay actors (``relay-<guild>-<n>``)."""
    prefix = f"relay-{guild_id}-"
    return [a.name for a in cluster.list_named_actors(runtime.config.namespace) if a.name.startswith(prefix)]


@asynccontextmanager
async def run_shards(config: Config, namespace: str) -> AsyncIterator[Runtime]:
    """The configured shards with synthetic edges, in their own namespace on this process's Ray
    (started if needed); every shard and relay of the namespace is killed on the way out."""
    runtime = Runtime(replace(config, namespace=namespace), edge_factory=start_synthetic_edge)
    runtime.start(log_to_driver=False)
    try:
        yield runtime
    finally:
        for actor in cluster.list_named_actors(runtime.config.namespace):
            runtime.directory.actor(actor.name).kill(restart=False)
