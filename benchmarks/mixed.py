"""``rayguild bench workload``: many guilds of Zipf sizes under a mixed, churning event stream.

Builds the ``benchmarks.workload`` plan on the real shards (guilds stored, synthetic sessions
identified through the synthetic edges, each in several guilds, with ``--wire`` framing if
asked; each mode on shards of its own, configured for it), gives the guilds
roles and channels whose overwrites hide them from some roles, then replays the event plan open
loop through the guild shard's ``publish`` (messages, presence updates, member joins and leaves,
role changes, overwrite changes: the production change path, caches invalidated as in real
life). Passive updates run at the configured default interval. Each mode (relays; relays +
passive pruning) replays the SAME plan; the passive saving is the difference in the shards'
CPU seconds (from /proc) and in delivered frames, measured, not assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rayguild.actors import cluster
from rayguild.actors.commands import (
    ChannelUpserted,
    GuildChange,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    Publish,
    RoleUpserted,
)
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.gateway import free_port
from rayguild.benchmarks.memory import cpu_seconds, ray_processes
from rayguild.benchmarks.report import command_line, progress
from rayguild.benchmarks.stats import LogHistogram, summarize
from rayguild.benchmarks.synthetic_edge import SyntheticEdges
from rayguild.benchmarks.synthetic_guild import NEVER, bench_message, guild_stats, run_shards, store_guild
from rayguild.benchmarks.workload import FLIPS, VIEW_CHANNEL, Event, GuildPlan, events, plan_guilds
from rayguild.config import Config, load_config
from rayguild.fanout.events import GUILD_MEMBERS, GUILD_MESSAGES, GUILD_PRESENCES, GUILDS, MESSAGE_CONTENT
from rayguild.fanout.permissions import DEFAULT_EVERYONE
from rayguild.storage.models import Channel, Overwrite, Role

INTENTS = GUILDS | GUILD_MEMBERS | GUILD_PRESENCES | GUILD_MESSAGES | MESSAGE_CONTENT
MIXED_MODES = ("relays", "relays+passive")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rayguild bench workload", description=__doc__)
    p.add_argument("--guilds", type=int, default=50)
    p.add_argument("--max-members", type=int, default=20_000)
    p.add_argument("--sessions", type=int, default=20_000, help="synthetic sessions, shared by the guilds")
    p.add_argument("--online-fraction", type=float, default=0.3, help="of a guild's members, connected")
    p.add_argument("--active-fraction", type=float, default=0.1)
    p.add_argument("--rate", type=float, default=200.0, help="events per second, open loop")
    p.add_argument("--duration-s", type=float, default=15.0)
    p.add_argument("--wire", choices=["none", "text", "zlib", "zstd"], default="none")
    p.add_argument("--session-shards", type=int, default=2)
    p.add_argument("--relay-size", type=int, default=15_000)
    p.add_argument("--relay-above", type=int, default=2_000,
                   help="guilds with more online sessions use relays (and passive pruning in that mode)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("bench-out/workload"))
    return p.parse_args(argv)


def guild_id(base: int, plan: GuildPlan) -> int:
    return base + plan.index * 1024


def channel_id(gid: int, number: int) -> int:
    return gid + 1 + number  # number 0 is the bench guild's own channel, open to everyone


def role_id(gid: int, number: int) -> int:
    return gid + 512 + number


def overwritten(gid: int, number: int, roles: tuple[int, ...]) -> Channel:
    """Channel ``number`` hidden from @everyone and shown to ``roles`` (channel 0 stays open)."""
    shown = tuple(Overwrite(role_id(gid, r), 0, allow=VIEW_CHANNEL) for r in roles)
    overwrites = (Overwrite(gid, 0, deny=VIEW_CHANNEL), *shown)
    return Channel(
        channel_id(gid, number), gid, f"c{number}", permission_overwrites=overwrites if number else ()
    )


def publish_for(gid: int, event: Event, serial: int) -> Publish:
    user = event.member + 1  # bench members are user ids 1..members
    change: GuildChange | None = None
    match event.kind:
        case "message":
            body = bench_message(gid, serial) | {"channel_id": str(channel_id(gid, event.channel))}
            return Publish(gid, "MESSAGE_CREATE", body, channel_id(gid, event.channel), GUILD_MESSAGES,
                           accepted_ns=time.time_ns())  # fmt: skip
        case "presence":
            d: dict[str, Any] = {"user": {"id": str(user)}, "guild_id": str(gid), "status": "online"}
            return Publish(gid, "PRESENCE_UPDATE", d, 0, GUILD_PRESENCES)
        case "join":
            user, change = 10_000_000 + serial, MemberJoined(10_000_000 + serial)
            t = "GUILD_MEMBER_ADD"
        case "leave":
            change, t = MemberLeft(user), "GUILD_MEMBER_REMOVE"
        case "role_change":
            change, t = (
                MemberUpdated(user, tuple(role_id(gid, r) for r in event.roles)),
                "GUILD_MEMBER_UPDATE",
            )
        case _:
            channel = overwritten(gid, max(1, event.channel), event.roles)
            change, t = ChannelUpserted(channel), "CHANNEL_UPDATE"
            return Publish(gid, t, {"id": str(channel.id), "guild_id": str(gid)}, 0, GUILDS, change)
    return Publish(gid, t, {"guild_id": str(gid), "user": {"id": str(user)}}, 0, GUILD_MEMBERS, change)


def mixed_config(config: Config, args: argparse.Namespace, mode: str) -> Config:
    """Guilds with more than ``--relay-above`` online sessions use relays; with passive pruning
    (the second mode) sessions of guilds that large start passive (op 14 makes them active)."""
    large = int(args.relay_above / args.online_fraction)
    return replace(
        config,
        relay_threshold_sessions=args.relay_above + 1,
        passive_guild_members=large if mode == "relays+passive" else NEVER,
    )


def sessions_of(args: argparse.Namespace, plans: list[GuildPlan], base: int) -> list[list[int]]:
    """Per session (user ``i + 1``) the guilds it is online in: each guild draws its online
    members among the sessions' users that are its members (users 1..members)."""
    rng = np.random.default_rng(args.seed)
    guilds: list[list[int]] = [[] for _ in range(args.sessions)]
    for plan in plans:
        candidates = min(args.sessions, plan.members)
        online = min(candidates, max(1, int(plan.members * args.online_fraction)))
        for index in rng.choice(candidates, size=online, replace=False).tolist():
            guilds[index].append(guild_id(base, plan))
    return guilds


async def run_mode(config: Config, args: argparse.Namespace, plans: list[GuildPlan], mode: str,
                   base: int) -> dict[str, Any]:  # fmt: skip
    async with run_shards(mixed_config(config, args, mode), f"{config.namespace}-{base}") as runtime:
        edges = SyntheticEdges(runtime.directory, args.session_shards)
        async with edges:
            return await measure(runtime, edges, args, plans, mode, base)


async def measure(runtime: Runtime, edges: SyntheticEdges, args: argparse.Namespace, plans: list[GuildPlan],
                  mode: str, base: int) -> dict[str, Any]:  # fmt: skip
    directory = runtime.directory
    for plan in plans:
        await store_guild(runtime.config, guild_id(base, plan), plan.members)
    user_guilds = sessions_of(args, plans, base)
    users = np.arange(1, args.sessions + 1)
    active = users[np.random.default_rng(args.seed + 1).random(users.size) < args.active_fraction]
    wire = "" if args.wire == "none" else args.wire
    await asyncio.gather(*(
        edges.open(i, users[i :: edges.shards].tolist(), [], INTENTS, wire=wire, active=active.tolist(), status="invisible",
                   user_guilds=user_guilds[i :: edges.shards])
        for i in range(edges.shards)
    ))  # fmt: skip
    pids: set[int] = set()
    relays = 0
    for plan in plans:
        gid = guild_id(base, plan)
        shard = directory.guild_shard(gid)
        for r in range(plan.roles):
            role = Role(role_id(gid, r), gid, f"r{r}", DEFAULT_EVERYONE)
            await shard.publish(
                Publish(gid, "GUILD_ROLE_CREATE", {"guild_id": str(gid)}, 0, GUILDS, RoleUpserted(role))
            )
        for n in range(1, plan.channels):
            change = ChannelUpserted(overwritten(gid, n, (n % plan.roles,)))
            await shard.publish(Publish(gid, "CHANNEL_CREATE", {"guild_id": str(gid)}, 0, GUILDS, change))
        stats = await guild_stats(runtime, gid)
        pids.add(stats["pid"])
        relays += stats["relays"]
    session_pids = [(await edges.memory(i))["pid"] for i in range(edges.shards)]
    pids.update(session_pids)
    await edges.collect(1 << 62, 1.0)  # drop the set-up deliveries
    relay_pids = set(ray_processes("RelayHost"))
    everything = set(ray_processes())  # the whole Ray of this run: GCS, raylet, every actor
    cpu_before = {pid: cpu_seconds(pid) for pid in pids | relay_pids | everything}
    before = [await edges.memory(i) for i in range(edges.shards)]
    frames_before = sum(m["frames"] + m["wire_frames"] for m in before)
    started = time.monotonic()
    messages: set[int] = set()
    pending: list[Awaitable[object]] = []
    counts: dict[str, int] = {}
    online: dict[int, list[int]] = {}  # per guild the users online in it, for the passive/active flips
    for user, guilds in enumerate(user_guilds, start=1):
        for gid in guilds:
            online.setdefault(gid, []).append(user)
    for serial, event in enumerate(events(plans, args.rate, args.duration_s, seed=args.seed), start=1):
        await asyncio.sleep(max(0.0, started + event.at_s - time.monotonic()))
        gid = guild_id(base, plans[event.guild])
        counts[event.kind] = counts.get(event.kind, 0) + 1
        if event.kind in FLIPS:  # a session of the guild goes passive / active (op 14)
            user = online[gid][event.member % len(online[gid])]
            flip = edges.subscribe((user - 1) % edges.shards, user, gid, event.kind == "go_active")
            pending.append(asyncio.ensure_future(flip))
            continue
        cmd = publish_for(gid, event, serial)
        if cmd.t == "MESSAGE_CREATE":
            messages.add(cmd.accepted_ns)
        pending.append(asyncio.ensure_future(directory.guild_shard(gid).publish(cmd)))
    await asyncio.gather(*pending)
    trace = await edges.collect(1 << 62, 3.0)  # what is still in flight lands
    wall_s = time.monotonic() - started
    cpu = {pid: max(0.0, cpu_seconds(pid) - before_s) for pid, before_s in cpu_before.items()}  # 0: exited
    memory = [await edges.memory(i) for i in range(edges.shards)]
    latencies = np.array([(done - sent) / 1e6 for sent, (done, _) in trace.items() if sent in messages])
    histogram = LogHistogram()
    histogram.add(latencies)
    return {
        "mode": mode,
        "wire": args.wire,
        "events": counts,
        "relays": relays,
        "wall_s": round(wall_s, 3),
        "guild_cpu_s": round(sum(cpu[p] for p in pids - set(session_pids)), 3),
        "relay_cpu_s": round(sum(cpu[p] for p in relay_pids), 3),
        "session_cpu_s": round(sum(cpu[p] for p in session_pids), 3),
        "ray_cpu_s": round(sum(cpu[p] for p in everything), 3),
        "frames": sum(m["frames"] + m["wire_frames"] for m in memory) - frames_before,
        "latency_ms": summarize(latencies),
        "histogram": histogram.as_json(),
    }


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    config = load_config(
        environ={},
        guild_shards=1,
        presence_shards=1,
        session_shards=args.session_shards,
        relay_size=args.relay_size,
        namespace="rayguild-bench",
        dashboard_port=free_port(),
        sqlite_path=str(Path(tempfile.mkdtemp(prefix="rayguild-bench-")) / "bench.sqlite3"),
    )  # passive updates at their default interval
    plans = plan_guilds(args.guilds, args.max_members)
    progress(
        f"{args.guilds} guilds, {sum(p.members for p in plans):,} member rows, {args.sessions:,} sessions"
    )
    results = []
    for repeat in range(args.repeats):
        for n, mode in enumerate(MIXED_MODES):
            progress(f"[repeat {repeat + 1}/{args.repeats}] {mode}")
            result = await run_mode(config, args, plans, mode, 1_000_000 * (1 + repeat * 2 + n))
            results.append(result | {"repeat": repeat})
            progress(f"    -> guild CPU {result['guild_cpu_s']} s, relays {result['relay_cpu_s']} s, session CPU {result['session_cpu_s']} s, "
                     f"{result['frames']:,} frames, p99 {result['latency_ms']['p99']} ms")  # fmt: skip
    cluster.shutdown()
    return results


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    command = command_line("rayguild bench workload", argv)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (args.out / "results.json").write_text(
        json.dumps({"command": command, "args": arguments, "records": results}, indent=2)
    )
    progress(f"wrote {args.out}/results.json")
    return results
