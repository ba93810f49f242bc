"""structlog configured once per process: JSON lines (or console) with shard/guild/session ids bound."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from rayguild.config import Config

_configured = False


def configure_logging(config: Config, **bound: Any) -> None:
    """Configure structlog and stdlib logging once; later calls only bind more context."""
    global _configured
    if not _configured:
        level = getattr(logging, config.log_level.upper())
        renderer: Any = (
            structlog.processors.JSONRenderer() if config.log_json else structlog.dev.ConsoleRenderer()
        )
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            cache_logger_on_first_use=True,
        )
        logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr)
        _configured = True
    structlog.contextvars.bind_contextvars(**bound)
