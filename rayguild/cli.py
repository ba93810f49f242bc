"""The ``rayguild`` command: run a node, manage users, show the shards, run the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from rayguild.config import Config, load_config
from rayguild.errors import ConfigError, RayguildError


def _config(args: argparse.Namespace, **overrides: Any) -> Config:
    return load_config(getattr(args, "config", None), **overrides)


def cmd_run(args: argparse.Namespace) -> int:
    from rayguild.actors.runtime import Runtime
    from rayguild.http_api.server import start_edge
    from rayguild.logs import configure_logging

    config = _config(args, host=args.host, port=args.port, ray_address=args.address)
    configure_logging(config, role="driver")
    runtime = Runtime(config, edge_factory=start_edge)
    started = runtime.start()
    edges = [s for s in started if s.get("port")]
    print(
        f"rayguild is up ({config.storage} storage, {len(edges)} edge(s), {config.guild_shards} guild shard(s))"
    )
    print(f"  REST API:       {config.api_url}")
    print(f"  Gateway:        {config.gateway_url}/?v=10&encoding=json")
    for edge in edges:
        print(
            f"  {edge['shard']}:      {config.gateway_url.rsplit(':', 1)[0]}:{edge['port']} (its resume URL)"
        )
    print(f"  Ray dashboard:  {runtime.dashboard_url() or 'not running'}")
    print(f"  Metrics:        {config.api_url.rsplit('/api', 1)[0]}/metrics")
    print("  Make a bot:     rayguild user create NAME --bot    (Ctrl-C / SIGTERM drains and stops)")
    sys.stdout.flush()

    async def watch() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watcher = asyncio.create_task(runtime.watch())
        await stop.wait()
        watcher.cancel()
        if config.session_shards and runtime.edge_factory is not None:
            told = await runtime.drain()  # clients get op 7 rather than a dropped socket
            print(f"drained: {told} session(s) told to reconnect")

    asyncio.run(watch())
    runtime.shutdown()
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from rayguild.actors.hosts import snowflakes_for
    from rayguild.http_api.auth import create_user
    from rayguild.storage import open_storage

    config = _config(args)

    async def create() -> int:
        storage = open_storage(config)
        await storage.start()
        try:
            user, token = await create_user(storage, snowflakes_for(3, 0), args.name, args.bot)
        finally:
            await storage.close()
        print(f"id:    {user.id}")
        print(f"token: {token}")
        print(f"use:   Authorization: {'Bot ' if args.bot else ''}{token}")
        return 0

    return asyncio.run(create())


def cmd_status(args: argparse.Namespace) -> int:
    from rayguild.actors import cluster
    from rayguild.actors.runtime import Runtime

    config = _config(args, ray_address=args.address)
    runtime = Runtime(config)
    cluster.init(config)
    rows = runtime.status()
    print(f"guild ring {sorted(runtime.directory.guild_ring.nodes)}")
    print(f"{'shard':<14}{'state':<11}{'node':<14}{'pid':>8}  guilds  sessions")
    for row in rows:
        stats = row.stats
        print(
            f"{row.name:<14}{row.state:<11}{row.node_id[:12]:<14}{row.pid:>8}  "
            f"{stats.get('guilds', '-')!s:>6}  {stats.get('sessions', '-')!s:>8}"
        )
    return 0 if all(r.state == "ALIVE" for r in rows) else 1


def cmd_drain(args: argparse.Namespace) -> int:
    from rayguild.actors import cluster
    from rayguild.actors.runtime import Runtime

    config = _config(args, ray_address=args.address)
    runtime = Runtime(config)
    cluster.init(config)
    told = asyncio.run(runtime.directory.session_shard(args.edge).drain())
    print(f"session-{args.edge}: stopped accepting, {told} session(s) told to reconnect (op 7)")
    return 0


def cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    if args.which == "fanout":
        from rayguild.benchmarks.fanout import main as fanout

        return fanout(rest)
    if args.which == "workload":
        from rayguild.benchmarks.mixed import main as workload

        workload(rest)
        return 0
    if args.which == "all":
        from rayguild.benchmarks.results import main as remake

        return remake(rest)
    if args.which == "check":
        from rayguild.benchmarks.check import main as check

        return check(rest)
    from rayguild.benchmarks.storage import main as storage

    storage(rest)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rayguild", description="Discord's real-time backend on Ray")
    p.add_argument("--config", help="TOML file (also RAYGUILD_CONFIG); RAYGUILD_* variables override it")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a rayguild node (local Ray, or --address auto to join)")
    run.add_argument(
        "--host", default=None, help="interface for the REST API and gateway (default 127.0.0.1)"
    )
    run.add_argument("--port", type=int, default=None, help="shared public port (default 8080)")
    run.add_argument("--address", default=None, help='Ray cluster to join ("auto"); default: start one')
    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user and print its token")
    create.add_argument("name")
    create.add_argument("--bot", action="store_true")
    status = sub.add_parser("status", help="the shards, their nodes, guilds and sessions")
    status.add_argument("--address", default="auto")
    drain = sub.add_parser(
        "drain", help="op 7 to an edge's clients; it stops accepting (they resume elsewhere)"
    )
    drain.add_argument("edge", type=int, help="the edge's session shard index (rayguild status)")
    drain.add_argument("--address", default="auto")
    bench = sub.add_parser(
        "bench",
        help="benchmarks: fanout | workload | storage | all | check (see --help of each)",
        add_help=False,
    )
    bench.add_argument("which", choices=["fanout", "workload", "storage", "all", "check"])
    return p


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    try:
        if args.command == "bench":
            return cmd_bench(args, rest)
        if rest:
            parser().error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "run":
            return cmd_run(args)
        if args.command == "user":
            return cmd_user_create(args)
        if args.command == "drain":
            return cmd_drain(args)
        return cmd_status(args)
    except ConfigError as err:
        print(f"rayguild: configuration error: {err}", file=sys.stderr)
        return 2
    except RayguildError as err:
        print(f"rayguild: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
