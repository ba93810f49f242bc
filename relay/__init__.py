"""Relays: the per-recipient half of a large guild's fan-out, split across processes."""

from rayguild.relay.relay import (
    GuildPermissions,
    RelayCommand,
    RelayCore,
    RelayItem,
    RelaySessionActive,
    RelaySessionJoin,
    RelaySessionLeave,
    RelaySessionMove,
    SessionShardLost,
)
from rayguild.relay.sessions import SessionTable

__all__ = [
    "GuildPermissions",
    "RelayCommand",
    "RelayCore",
    "RelayItem",
    "RelaySessionActive",
    "RelaySessionJoin",
    "RelaySessionLeave",
    "RelaySessionMove",
    "SessionShardLost",
    "SessionTable",
]
