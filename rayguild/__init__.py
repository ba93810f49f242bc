"""rayguild: Discord's real-time backend (guilds, sessions, presences, fan-out) on Ray actors.

What a program embedding rayguild uses without starting Ray: its configuration and its errors.
The node itself starts with ``rayguild run`` (``rayguild.actors.runtime.Runtime`` on Ray, or
``rayguild.http_api.LocalCluster`` in one process). ``__all__`` is the public surface; a test
derives the check from it.
"""

from __future__ import annotations

from rayguild.config import Config, load_config
from rayguild.errors import (
    ConfigError,
    Conflict,
    NotFound,
    RayguildError,
    ShardUnavailable,
    StorageUnavailable,
    UnknownGuild,
)

__all__ = [
    "Config",
    "ConfigError",
    "Conflict",
    "NotFound",
    "RayguildError",
    "ShardUnavailable",
    "StorageUnavailable",
    "UnknownGuild",
    "load_config",
]
