"""Per-route rate limits: one token bucket per (route bucket, major parameter, caller).

A bucket of ``limit`` requests refills continuously at ``limit / per_s``; a request with no token
left is refused at once with 429 (never queued). Every response carries Discord's headers:
``X-RateLimit-Limit``, ``-Remaining``, ``-Reset`` (epoch seconds when the bucket is full again),
``-Reset-After`` (seconds until then) and ``-Bucket`` (an opaque id shared by the routes of one
bucket). A caller over the global limit gets 429 with ``global: true``.

Bounds (documented here, Discord's published values where it has them):
- message create: 5 per 5 s per channel; message delete: 5 per 1 s per channel; typing: 5 per 5 s
  per channel (and, like every bucket, per caller);
- guild/channel/role/invite writes: 10 per 10 s per guild or channel;
- everything else: 50 per 1 s per route; global: 50 requests per second per caller.
- Interaction endpoints (the callback, and everything under a webhook's or an interaction's token:
  executions, followups, @original) are exempt from the global limit, as on Discord: they take no
  ``Authorization`` and would otherwise share one per-address bucket with every other webhook
  caller behind that address. Each gets its own bucket per interaction or webhook (id and token),
  shared by whoever calls it (``X-RateLimit-Scope: shared``); a webhook execution is 5 per 2 s.
- At most ``max_buckets`` live buckets are tracked; full buckets are swept first.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from rayguild.http_api.errors import ApiError, Handler


@dataclass(frozen=True, slots=True)
class Limit:
    limit: int
    per_s: float


DEFAULT = Limit(50, 1.0)
GLOBAL = Limit(50, 1.0)
WRITE = Limit(10, 10.0)
# (method, route template without the /api/v10 prefix) -> limit; major parameters are below.
ROUTES: dict[tuple[str, str], Limit] = {
    ("POST", "/channels/{channel_id}/messages"): Limit(5, 5.0),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"): Limit(5, 1.0),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): Limit(5, 5.0),
    ("POST", "/guilds"): WRITE,
    ("PATCH", "/guilds/{guild_id}"): WRITE,
    ("POST", "/guilds/{guild_id}/channels"): WRITE,
    ("POST", "/guilds/{guild_id}/roles"): WRITE,
    ("PATCH", "/channels/{channel_id}"): WRITE,
    ("POST", "/channels/{channel_id}/invites"): WRITE,
    ("POST", "/auth/register"): Limit(5, 60.0),
    ("POST", "/channels/{channel_id}/typing"): Limit(5, 5.0),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): Limit(5, 2.0),
    ("POST", "/auth/login"): Limit(20, 60.0),  # per address; per login name: auth.LOGIN_ATTEMPTS
}
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
INTERACTION_ROUTES = ("/interactions/{interaction_id}/", "/webhooks/{webhook_id}/{webhook_token}")
SHARED = "shared"


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after_s: float
    retry_after_s: float


class RateLimiter:
    """Token buckets keyed by (bucket id, caller); ``take`` never blocks.

    ``limit_scale`` multiplies every limit (1: Discord's values; benchmarks and tests that drive
    many requests from one token raise it).
    """

    def __init__(
        self, max_buckets: int = 100_000, clock: Callable[[], float] = time.monotonic, limit_scale: int = 1
    ) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._scale = limit_scale
        self._max_buckets = max_buckets
        self._clock = clock

    def take(self, bucket: str, caller: str, rule: Limit) -> Verdict:
        rule = Limit(rule.limit * self._scale, rule.per_s) if self._scale != 1 else rule
        now = self._clock()
        key = (bucket, caller)
        state = self._buckets.get(key)
        rate = rule.limit / rule.per_s
        if state is None:
            if len(self._buckets) >= self._max_buckets:
                self._sweep(now)
            state = self._buckets[key] = _Bucket(float(rule.limit), now)
        else:
            state.tokens = min(float(rule.limit), state.tokens + (now - state.stamp) * rate)
            state.stamp = now
        allowed = state.tokens >= 1.0
        if allowed:
            state.tokens -= 1.0
        reset_after = (rule.limit - state.tokens) / rate
        retry_after = 0.0 if allowed else (1.0 - state.tokens) / rate
        return Verdict(allowed, rule.limit, math.floor(state.tokens), reset_after, retry_after)

    def _sweep(self, now: float) -> None:
        """Forget buckets that would be full by now (they hold no information)."""
        for key in [k for k, b in self._buckets.items() if now - b.stamp > 60.0]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_buckets:
            self._buckets.clear()


def bucket_of(method: str, template: str, match: dict[str, str]) -> tuple[str, Limit]:
    """The bucket id (hashed, opaque like Discord's) and rule of one route."""
    route = template.removeprefix("/api/v10")
    rule = ROUTES.get((method, route), DEFAULT)
    major = hashlib.blake2s(
        "/".join(match.get(p, "") for p in MAJOR_PARAMETERS).encode(), digest_size=12
    ).hexdigest()  # a webhook token is a secret: only its digest is kept
    digest = hashlib.blake2s(f"{method} {route}".encode(), digest_size=8).hexdigest()
    return f"{digest}:{major}", rule


def headers(verdict: Verdict, bucket: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(verdict.limit),
        "X-RateLimit-Remaining": str(verdict.remaining),
        "X-RateLimit-Reset": f"{time.time() + verdict.reset_after_s:.3f}",
        "X-RateLimit-Reset-After": f"{verdict.reset_after_s:.3f}",
        "X-RateLimit-Bucket": bucket.split(":", 1)[0],
    }


def too_many(verdict: Verdict, bucket: str, is_global: bool, scope: str = "user") -> ApiError:
    retry = round(max(verdict.retry_after_s, 0.001), 3)
    extra_headers = headers(verdict, bucket) if not is_global else {"X-RateLimit-Global": "true"}
    extra_headers["Retry-After"] = str(math.ceil(retry))
    extra_headers["X-RateLimit-Scope"] = "global" if is_global else scope
    return ApiError(
        429, 0, "You are being rate limited.", headers=extra_headers,
        extra={"retry_after": retry, "global": is_global},
    )  # fmt: skip


def caller_of(request: web.Request) -> str:
    """Who is limited: the token's digest when there is one, else the peer address."""
    auth = request.headers.get("Authorization")
    if auth:
        return hashlib.blake2s(auth.encode(), digest_size=12).hexdigest()
    return request.remote or "unknown"


def rate_limit_middleware(limiter_of: Callable[[web.Request], RateLimiter]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        template = route.canonical if route is not None else ""
        if not template.startswith("/api/"):
            return await handler(request)
        limiter = limiter_of(request)
        if template.removeprefix("/api/v10").startswith(INTERACTION_ROUTES):
            caller = scope = SHARED
        else:
            caller, scope = caller_of(request), "user"
            overall = limiter.take("global", caller, GLOBAL)
            if not overall.allowed:
                raise too_many(overall, "global", True)
        bucket, rule = bucket_of(request.method, template, dict(request.match_info))
        verdict = limiter.take(bucket, caller, rule)
        if not verdict.allowed:
            raise too_many(verdict, bucket, False, scope)
        response = await handler(request)
        response.headers.update(headers(verdict, bucket))
        return response

    return middleware
