"""Run one edge: the app on the shared public port (SO_REUSEPORT) and on a port of its own.

Every edge of the machine binds ``config.port`` with SO_REUSEPORT, so the kernel spreads new
connections across them; each also binds its own port (``edge_port_base + index``, or a free
one when the base is 0), which READY names as ``resume_gateway_url`` so a resuming client
reaches the edge that holds its session. ``start_edge`` has the keyword signature the
SessionShard actor's edge factory is called with.
"""

from __future__ import annotations

import contextlib
import random
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from rayguild.actors.session import SessionShardCore
from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.context import (
    EdgeContext,
    GuildDirectory,
    PresenceDirectory,
    SessionShards,
    UserDirectory,
)
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.ids import SnowflakeGenerator
from rayguild.storage.protocol import Storage

log = structlog.get_logger("rayguild.http")

SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(slots=True)
class RunningEdge:
    """A started edge; ``port`` is its own port, ``public_port`` the shared one."""

    ctx: EdgeContext
    port: int
    public_port: int
    _runner: web.AppRunner
    _host: str
    adopted: list[int] = field(default_factory=list)  # own ports of drained edges served here

    async def stop_accepting(self) -> None:
        """Close every listening socket (a drain): open connections go on until they close."""
        for site in list(self._runner.sites):
            await site.stop()

    async def adopt(self, port: int) -> None:
        """Also accept on ``port``, a draining edge's own port on this machine (SO_REUSEPORT):
        its clients' resumes (READY's resume_gateway_url) land here once it stops accepting."""
        await web.SockSite(self._runner, _bind(self._host, port, True)).start()
        self.adopted.append(port)
        log.info("edge.adopted_port", port=port)

    async def stop(self) -> None:
        await self._runner.cleanup()


EPHEMERAL_LOW = 32768  # Linux's default start of the ephemeral port range
LOWEST_LISTEN_PORT = 20_000  # above Ray's default worker ports (10002-19999)


def free_listen_ports(count: int, host: str = "127.0.0.1") -> int:
    """A base port ``p`` with ``p .. p + count - 1`` free now and below the kernel's ephemeral
    range, for edges in tests and benchmarks: an edge binds its own port again after a restart,
    and a port in that range may meanwhile be the local end of any outgoing connection (seen: a
    restarted edge refused its port for a minute; a first start refused base + 1). Ports start
    above Ray's worker port range (10002-19999), which Ray binds by number."""
    low = EPHEMERAL_LOW
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(1000):
        base = rng.randrange(LOWEST_LISTEN_PORT, low - count)
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind((host, port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} free consecutive ports below {low}")


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


async def start_edge(
    *,
    index: int,
    config: Config,
    storage: Storage,
    sessions: SessionShardCore,
    guilds: GuildDirectory,
    presence: PresenceDirectory,
    users: UserDirectory,
    snowflakes: SnowflakeGenerator,
    limiter: RateLimiter | None = None,
    peers: SessionShards | None = None,
) -> RunningEdge:
    """Serve the edge of session shard ``index``; ``storage`` must already be started."""
    # SO_REUSEPORT on the own port too: a peer edge adopts it while this one drains.
    own_sock = _bind(config.host, config.edge_port_base + index if config.edge_port_base else 0, True)
    own_port = own_sock.getsockname()[1]
    public_host = urlsplit(config.public_url).hostname if config.public_url else config.host
    ctx = EdgeContext(
        config=config, storage=storage, snowflakes=snowflakes, sessions=sessions, guilds=guilds,
        presence=presence, users=users, resume_gateway_url=f"ws://{public_host}:{own_port}", peers=peers,
    )  # fmt: skip
    runner = web.AppRunner(build_app(ctx, limiter), handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    shared_sock = _bind(config.host, config.port, True)
    public_port = shared_sock.getsockname()[1]
    await web.SockSite(runner, own_sock).start()
    await web.SockSite(runner, shared_sock).start()
    log.info("edge.listening", shard=index, port=own_port, public_port=public_port)
    return RunningEdge(ctx, own_port, public_port, runner, config.host)
