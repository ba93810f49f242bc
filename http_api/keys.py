"""Typed aiohttp application keys: the only state the edge's handlers read from the app."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from rayguild.http_api.context import EdgeContext
from rayguild.http_api.metrics import EdgeMetrics
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.http_api.wire import WireFlusher

CTX = web.AppKey("ctx", EdgeContext)
METRICS = web.AppKey("metrics", EdgeMetrics)
REGISTRY = web.AppKey("registry", CollectorRegistry)
LIMITER = web.AppKey("limiter", RateLimiter)
WIRE = web.AppKey("wire", WireFlusher)  # the gateway sockets' per-turn flusher


def ctx_of(request: web.Request) -> EdgeContext:
    return request.config_dict[CTX]
