"""The edge: Discord API v10 REST and gateway over aiohttp, run inside each SessionShard.

Only this package imports aiohttp. ``build_app(ctx)`` is the whole surface the actors need;
``start_edge`` binds it to the shared public port and the edge's own port.
"""

from __future__ import annotations

from rayguild.http_api.app import build_app
from rayguild.http_api.auth import create_user
from rayguild.http_api.context import EdgeContext, GuildDirectory, PresenceDirectory
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.server import RunningEdge, start_edge

__all__ = [
    "EdgeContext",
    "GuildDirectory",
    "LocalCluster",
    "PresenceDirectory",
    "RunningEdge",
    "build_app",
    "create_user",
    "start_edge",
]
