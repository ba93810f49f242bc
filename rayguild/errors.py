"""The one exception hierarchy of rayguild; each error says what the user can do about it."""

from __future__ import annotations


class RayguildError(Exception):
    """Base of every error rayguild raises on purpose."""


class ConfigError(RayguildError):
    """A configuration value is missing or not allowed; the message names the key."""


class StorageUnavailable(RayguildError):
    """The database cannot be reached or did not confirm a write; retry later (HTTP 503)."""


class NotFound(RayguildError):
    """The entity does not exist (HTTP 404)."""


class UnknownGuild(NotFound):
    """No guild with this id exists (not a shard failure: retrying does not help)."""


class Conflict(RayguildError):
    """The request conflicts with existing state (HTTP 400/409)."""


class ShardUnavailable(RayguildError):
    """A shard actor died and has not come back yet; the caller should retry or re-identify."""
