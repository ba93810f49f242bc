"""Configuration: read once at startup from a TOML file and ``RAYGUILD_*`` variables into a frozen object.

Precedence: defaults < file < environment < explicit overrides (command-line flags).
An unknown key or a value out of range raises ``ConfigError`` naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

from rayguild.egress import parse_networks
from rayguild.errors import ConfigError

ENV_PREFIX = "RAYGUILD_"


@dataclass(frozen=True, slots=True)
class Config:
    # Edge (the gateway and REST front end that runs inside each SessionShard).
    host: str = "127.0.0.1"
    port: int = 8080
    edge_port_base: int = 0  # 0: each edge also binds a free port of its own for resume_gateway_url
    public_url: str = ""  # how clients reach the shared port; derived from host/port when empty
    registration_enabled: bool = True
    # Ray.
    ray_address: str = ""  # "" starts this process's own Ray (never joins one); "auto" joins the cluster this node belongs to
    namespace: str = "rayguild"
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8265
    # Shards (a shard is one Ray actor hosting many guild/session/presence processes).
    guild_shards: int = 2
    session_shards: int = 2
    presence_shards: int = 1
    push_shards: int = 1
    # Fan-out.
    relay_size: int = 15_000  # sessions per Relay, as Discord runs it
    relay_threshold_sessions: int = 15_000  # a guild with more connected sessions uses relays
    passive_guild_members: int = 1_000  # in larger guilds a session starts passive
    passive_idle_s: float = 300.0  # an active session with no subscription traffic turns passive
    passive_update_interval_s: float = 10.0  # how often passive sessions get PASSIVE_UPDATE_V1
    tick_ms: float = 2.0  # events for one destination coalesce within a tick ...
    max_batch_events: int = 256  # ... of at most this many events
    max_pending_batches: int = 64  # per destination; beyond it the lagging sessions are dropped
    # Sessions.
    replay_buffer_events: int = 256  # events kept per session for op 6 Resume
    replay_window_s: float = 120.0  # a detached session can be resumed this long
    heartbeat_interval_ms: int = 41_250
    max_frame_bytes: int = 15_360  # largest client frame accepted; bigger closes with 4002
    large_threshold_default: int = 50
    # The send rules (automod rules, slowmode) each edge keeps per guild (http_api/guild_cache.py).
    # A change is seen at once through the guild's stamp; if its stamp write failed (the client got
    # 503 but the change is stored), an entry older than guild_cache_ttl_s is read again anyway.
    guild_cache_ttl_s: float = 30.0
    guild_cache_guilds: int = 10_000  # guilds kept per edge; beyond it the least recently used goes
    guild_cache_values: int = 1_000  # values (rule sets, channels' slowmode) kept per guild
    # Identify limits, Discord's defaults (see http_api/identify_limits.py); bots only.
    session_start_total: int = 1000  # identifies per window; resumes do not count
    session_start_reset_s: float = 86_400.0  # the window opens at its first identify
    identify_max_concurrency: int = 1  # identify buckets (shard_id % max_concurrency) ...
    identify_interval_s: float = 5.0  # ... each taking one identify per interval; sooner: op 9
    # Presence (see actors/presence.py, actors/session_presence.py, docs/presence-and-push.md).
    presence_updates_per_minute: int = 5  # op 3 per session; one more within 60 s closes with 4008
    presence_backlog_frames: int = 64  # a session with this many unsent frames gets no PRESENCE_UPDATE
    presence_resync_interval_s: float = 0.25  # how often an edge sends lagged sessions PRESENCES_REPLACE
    presences_replace_max: int = 1000  # presences per guild in one PRESENCES_REPLACE
    # Push (see actors/push.py and docs/presence-and-push.md).
    push_buffer: int = 10_000  # accepted, undelivered deliveries a push shard holds; beyond: shed
    push_max_in_flight: int = 100  # requests in flight per provider connection (Discord's: 100)
    push_max_attempts: int = 6  # then the delivery is given up (counted, logged)
    push_backoff_base_s: float = 0.5  # retry n waits uniform(0, min(max, base * 2**n)) ("full jitter")
    push_backoff_max_s: float = 30.0
    push_timeout_s: float = 10.0  # one delivery attempt
    # Webhook devices may point at loopback/private/link-local/reserved addresses only inside these
    # CIDRs (e.g. "127.0.0.0/8" for a local webhook sink); see rayguild/egress.py.
    push_allowed_networks: tuple[str, ...] = ()
    # Interactions (see http_api/interaction_callbacks.py).
    interaction_ack_timeout_s: float = 3.0  # a callback later than this gets 10062, as on Discord
    # Storage.
    storage: str = "sqlite"  # "sqlite" (embedded default) or "scylla"
    sqlite_path: str = ".data/rayguild.sqlite3"
    scylla_hosts: tuple[str, ...] = ("127.0.0.1",)
    scylla_port: int = 9042
    scylla_keyspace: str = "rayguild"
    scylla_datacenter: str = "datacenter1"
    scylla_replication_factor: int = 1
    scylla_consistency: str = "LOCAL_QUORUM"
    # Attachments (bytes in the blob store beside the storage: see storage/blobs.py).
    max_upload_bytes: int = 25 * 1024 * 1024  # per file; beyond it 413 40005, as Discord's limit
    # Operations.
    log_level: str = "info"
    log_json: bool = True

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def gateway_url(self) -> str:
        return (
            self.public_url.replace("http", "ws", 1) if self.public_url else f"ws://{self.host}:{self.port}"
        )

    @property
    def api_url(self) -> str:
        base = self.public_url or f"http://{self.host}:{self.port}"
        return f"{base}/api/v10"


_CHOICES: dict[str, tuple[str, ...]] = {
    "storage": ("sqlite", "scylla"),
    "log_level": ("debug", "info", "warning", "error"),
    "scylla_consistency": ("ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"),
}
_POSITIVE = (
    "interaction_ack_timeout_s",
    "guild_shards",
    "session_shards",
    "presence_shards",
    "push_shards",
    "presence_updates_per_minute",
    "presence_backlog_frames",
    "presence_resync_interval_s",
    "presences_replace_max",
    "push_buffer",
    "push_max_in_flight",
    "push_max_attempts",
    "push_backoff_base_s",
    "push_backoff_max_s",
    "push_timeout_s",
    "relay_size",
    "relay_threshold_sessions",
    "passive_guild_members",
    "max_batch_events",
    "max_pending_batches",
    "replay_buffer_events",
    "heartbeat_interval_ms",
    "max_frame_bytes",
    "session_start_total",
    "session_start_reset_s",
    "identify_max_concurrency",
    "scylla_replication_factor",
    "max_upload_bytes",
    "passive_idle_s",
    "passive_update_interval_s",
    "tick_ms",
    "replay_window_s",
    "guild_cache_ttl_s",
    "guild_cache_guilds",
    "guild_cache_values",
)
_PORTS = ("port", "dashboard_port", "scylla_port")


def _validate(config: Config) -> None:
    for key, allowed in _CHOICES.items():
        if getattr(config, key) not in allowed:
            raise ConfigError(f"{key}={getattr(config, key)!r} is not allowed; use one of {allowed}")
    for key in _POSITIVE:
        if getattr(config, key) <= 0:
            raise ConfigError(f"{key}={getattr(config, key)!r} must be greater than 0")
    for key in _PORTS:
        if not 0 <= getattr(config, key) <= 65535:
            raise ConfigError(f"{key}={getattr(config, key)!r} must be a port number 0-65535")
    if not 0 < config.large_threshold_default <= 250:
        raise ConfigError("large_threshold_default must be 1-250, as Discord allows 50-250")
    if config.session_shards > 0xFFFF:
        raise ConfigError("session_shards must be at most 65535 (session ids carry the index)")
    try:
        parse_networks(config.push_allowed_networks)
    except ValueError as err:
        raise ConfigError(f"push_allowed_networks: {err}; give CIDRs such as 127.0.0.0/8") from None
    if not config.scylla_hosts:
        raise ConfigError("scylla_hosts must name at least one host")


_FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def _coerce(key: str, raw: Any) -> Any:
    kind = get_type_hints(Config)[key]
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if kind is float:
            return float(raw)
        if kind == tuple[str, ...]:
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(item).strip() for item in items if str(item).strip())
        return str(raw)
    except (TypeError, ValueError):
        name = getattr(kind, "__name__", str(kind))
        raise ConfigError(f"{key}={raw!r} is not a valid {name}") from None


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Config:
    """Build the Config once: defaults, then the TOML file, then RAYGUILD_* variables, then overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    file_path = path or env.get(ENV_PREFIX + "CONFIG")
    if file_path:
        try:
            values.update(tomllib.loads(Path(file_path).read_text()))
        except FileNotFoundError:
            raise ConfigError(f"config file {file_path} does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {file_path} is not valid TOML: {err}") from None
    for name, raw in env.items():
        if name.startswith(ENV_PREFIX) and name != ENV_PREFIX + "CONFIG":
            values[name[len(ENV_PREFIX) :].lower()] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown configuration key(s) {unknown}; known keys: {sorted(_FIELDS)}")
    return Config(**{key: _coerce(key, raw) for key, raw in values.items()})
