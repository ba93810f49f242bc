"""Marks a REST handler whose answer is an honest minimal body: the route exists and answers in
Discord's shape, but rayguild keeps no state behind it (no voice, no monetisation, no stage).

``scripts/api_coverage.py`` reads the mark and lists such operations as "minimal" in
docs/api-coverage.md, so the report never counts them as fully served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rayguild.http_api.errors import Handler

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
