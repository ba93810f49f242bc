"""The edge's aiohttp application: REST under ``/api/v10``, the gateway websocket at ``/``, plus
``/metrics`` (Prometheus), ``/health`` and the browser client (``web.py``), all on one port.

Built once per edge around an ``EdgeContext``; the app owns only what it starts (the reaper of
expired sessions); the context's storage and directories belong to whoever built the context.
Only ``/api/v10`` is served: discord.js builds ``<api>/v10/...`` itself and discord.py is pointed
at ``/api/v10``. Request bodies are limited to ``MAX_BODY_BYTES`` (413 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from rayguild.http_api import (
    auth,
    expression_media,
    interaction_callbacks,
    interaction_chain,
    presence_sync,
    rest_app_emojis,
    rest_applications,
    rest_attachments,
    rest_audit_log,
    rest_automod,
    rest_bans,
    rest_channels,
    rest_command_index,
    rest_commands,
    rest_devices,
    rest_dms,
    rest_emojis,
    rest_guild_settings,
    rest_guilds,
    rest_interactions,
    rest_invites,
    rest_member_edit,
    rest_members,
    rest_messages,
    rest_misc,
    rest_moderation,
    rest_overwrites,
    rest_pins,
    rest_profile,
    rest_reactions,
    rest_role_connections,
    rest_roles,
    rest_scheduled_events,
    rest_soundboard,
    rest_stickers,
    rest_templates,
    rest_thread_members,
    rest_thread_search,
    rest_threads,
    rest_users,
    rest_webhooks,
)
from rayguild.http_api import web as web_client
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import Handler, error_middleware, json_response
from rayguild.http_api.gateway_ops import reap_expired
from rayguild.http_api.keys import CTX, LIMITER, METRICS, REGISTRY, WIRE
from rayguild.http_api.metrics import EdgeMetrics
from rayguild.http_api.ratelimit import RateLimiter, rate_limit_middleware
from rayguild.http_api.wire import WireFlusher

log = structlog.get_logger("rayguild.http")

API_PREFIX = "/api/v10"
# JSON bodies; multipart message uploads are streamed and bounded per part (http_api/uploads.py).
MAX_BODY_BYTES = 256 * 1024
REAP_INTERVAL_S = 5.0

_REST_MODULES = (
    auth, rest_users, rest_devices, rest_guilds, rest_members, rest_channels, rest_pins, rest_messages,
    rest_reactions, rest_invites, rest_dms, rest_commands, rest_interactions, interaction_callbacks,
    rest_webhooks, rest_command_index,
    rest_threads, rest_thread_members, rest_thread_search,
)  # fmt: skip

# Registered first: their literal paths (/members/search, /members/@me) precede rest_members' {user_id}.
_MODERATION_MODULES = (
    rest_member_edit,
    rest_bans,
    rest_moderation,
    rest_roles,
    rest_audit_log,
    rest_overwrites,
    rest_guild_settings,
    rest_applications,
    rest_misc,
    rest_emojis,
    rest_profile,
    rest_app_emojis,
    rest_stickers,
    rest_scheduled_events,
    rest_automod,
    rest_templates,
    rest_role_connections,
    rest_soundboard,
)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    started = time.perf_counter()
    response = await handler(request)
    metrics = request.config_dict[METRICS]
    metrics.requests.labels(route=route, method=request.method, status=str(response.status)).inc()
    metrics.request_seconds.labels(route=route).observe(time.perf_counter() - started)
    return response


async def _health(request: web.Request) -> web.Response:
    ctx = request.config_dict[CTX]
    return json_response(
        {"status": "ok", "shard": ctx.sessions.index, "sessions": len(ctx.sessions.sessions)}
    )


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.config_dict[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _reaper(app: web.Application) -> AsyncIterator[None]:
    """Close sessions whose replay window has passed, every REAP_INTERVAL_S."""
    ctx = app[CTX]
    interval = min(REAP_INTERVAL_S, ctx.config.replay_window_s / 4)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                closed = await reap_expired(ctx)
            except Exception:
                log.exception("gateway.reap_failed")
                continue
            if closed:
                log.info("gateway.reaped", sessions=closed)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(ctx: EdgeContext, limiter: RateLimiter | None = None) -> web.Application:
    registry = CollectorRegistry()
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[error_middleware, metrics_middleware, rate_limit_middleware(lambda r: r.config_dict[LIMITER])],
    )  # fmt: skip
    app[CTX] = ctx
    app[REGISTRY] = registry
    app[METRICS] = EdgeMetrics(registry)
    app[LIMITER] = limiter or RateLimiter()
    app[WIRE] = WireFlusher(app[METRICS])
    api = web.Application(client_max_size=MAX_BODY_BYTES)
    for module in (*_MODERATION_MODULES, *_REST_MODULES):
        api.add_routes(module.routes)
    app.add_subapp(API_PREFIX, api)
    web_client.add_routes(app)  # "/" (the gateway, or the page for a browser) and the client
    app.router.add_get(rest_attachments.PATH, rest_attachments.serve)
    expression_media.add_routes(app)  # /emojis/{id}.png, /stickers/{id}.png
    app.router.add_get("/health", _health)
    app.router.add_get("/metrics", _metrics)
    app.cleanup_ctx.append(_reaper)
    app.cleanup_ctx.append(presence_sync.resync_loop)
    app.cleanup_ctx.append(rest_attachments.sweeper)
    app.cleanup_ctx.append(interaction_chain.deadlines)
    return app
