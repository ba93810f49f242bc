"""Marks a REST handler whose answer is an honest minimal body: the route exists and answers in
Discord's shape, but rayguild keeps no state behind it (no voice, no monetisation, no stage).

``scripts/api_coverage.py`` reads the mark and lists such operations as "minimal" in
docs/api-coverage.md, so the report never counts them as fully served. ``answer_empty`` and
``answer_unknown`` register the two common kinds (an empty list; Discord's "Unknown ..." error)
from a table, so each such route is one line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from rayguild.http_api.errors import ApiError, Handler, json_response
from rayguild.http_api.forms import snowflake

MARK = "rayguild_minimal_body"
ERRORS_ONLY = "rayguild_errors_only"

H = TypeVar("H", bound=Handler)


def minimal_body(why: str, errors_only: bool = False) -> Callable[[H], H]:
    """Decorator: the handler answers a minimal body because ``why``; ``errors_only``: it never
    answers 2xx (every entity it could name is unknown), so no 2xx body exists to check."""

    def mark(handler: H) -> H:
        setattr(handler, MARK, why)
        setattr(handler, ERRORS_ONLY, errors_only)
        return handler

    return mark


def errors_only(handler: object) -> bool:
    return getattr(handler, ERRORS_ONLY, False) is True


def minimal_reason(handler: object) -> str | None:
    reason = getattr(handler, MARK, None)
    return reason if isinstance(reason, str) else None


Gate = Callable[[web.Request], Awaitable[object]]


def _check_ids(request: web.Request) -> None:
    """Every snowflake the path names is validated as a real route would (400 50035)."""
    for name, value in request.match_info.items():
        if name.endswith("_id") and value != "@me":
            snowflake(value, name)


def answer_empty(routes: web.RouteTableDef, paths: Sequence[str], body: Any, why: str, gate: Gate) -> None:
    """GET each of ``paths``: after ``gate`` (authentication, membership...) admits the caller,
    ``body`` (an empty list or object in Discord's shape), marked minimal because ``why``."""

    async def handler(request: web.Request) -> web.Response:
        await gate(request)
        _check_ids(request)
        return json_response(body)

    for path in paths:
        routes.get(path)(minimal_body(why)(handler))


def answer_unknown(routes: web.RouteTableDef, endpoints: Sequence[tuple[str, str]], error: tuple[int, int, str],
                   why: str, gate: Gate) -> None:  # fmt: skip
    """Each (method, path) of ``endpoints``: after ``gate`` admits the caller, ``error`` (status,
    code, message): Discord's answer for the entity none of which exists; marked errors-only."""
    status, code, message = error

    async def handler(request: web.Request) -> web.Response:
        await gate(request)
        _check_ids(request)
        raise ApiError(status, code, message)

    for method, path in endpoints:
        routes.route(method, path)(minimal_body(why, errors_only=True)(handler))
