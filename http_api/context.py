"""The edge's boundary: everything the HTTP/gateway front end needs, as one dataclass of Protocols.

The edge never imports Ray. ``EdgeContext`` is built once per SessionShard process; the guild,
presence and user directories are whatever transport reaches those shards (Ray handles in production, the
in-process ``rayguild.http_api.local`` adapters in tests and single-process runs). Each directory
call returns once the destination has accepted the command; ordering between two calls made one
after the other by the same caller is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rayguild.actors.commands import Publish, SessionJoin
from rayguild.actors.handoff import HandedOver, SessionSummary
from rayguild.actors.presence import SessionPresence
from rayguild.actors.push import PushRequest
from rayguild.actors.session import SessionShardCore
from rayguild.actors.session_lifecycle import SessionLifecycle, SessionLifecycleRef
from rayguild.config import Config
from rayguild.fanout.events import ALL_INTENTS
from rayguild.http_api.guild_cache import GuildCache
from rayguild.ids import SnowflakeGenerator
from rayguild.storage.protocol import Storage


class GuildDirectory(Protocol):
    """Reaches the guild process of any guild (wherever the ring places it)."""

    async def publish(self, event: Publish) -> object:
        """Apply ``event.change`` to the guild's state, then dispatch the event to who may see it."""
        ...

    async def connect(self, guild_id: int, join: SessionJoin) -> object:
        """Add a session to the guild; the guild then sends it GUILD_CREATE through the normal
        delivery path, so GUILD_CREATE is ordered before every later event of that guild."""
        ...

    async def disconnect(self, guild_id: int, session_id: str) -> None:
        """Remove a session from the guild; it receives nothing more from it."""
        ...

    async def subscribe(self, guild_id: int, session_id: str, active: bool = True) -> object:
        """Mark the session active (the user looks at the guild: every event) or passive."""
        ...

    async def member_count(self, guild_id: int) -> int:
        """How many members the guild process holds (no storage scan)."""
        ...

    async def move(self, guild_id: int, session_id: str, shard: int, slot: int) -> bool:
        """Send the session's later events to (shard, slot); its old slot gets a moved marker
        behind every event already sent there. False if the guild does not hold the session."""
        ...


class SessionShards(Protocol):
    """Reaches the other session shards, for a resume that lands on an edge not holding the session."""

    async def describe(self, shard: int, session_id: str, user_id: int) -> SessionSummary | None:
        """What shard ``shard`` knows of the user's session (None: not there, or not resumable)."""
        ...

    async def take(
        self, shard: int, session_id: str, user_id: int, seq: int, moved: list[int], known: list[int]
    ) -> HandedOver | None:
        """Once the ``moved`` guilds' markers arrived, the events after ``seq``; the session
        leaves that shard (see ``rayguild.actors.handoff``). None: it can not be handed over."""
        ...


class PresenceDirectory(Protocol):
    """Reaches the presence process of any user (and, behind it, the push shards)."""

    async def update(self, record: SessionPresence) -> None:
        """Record what one session says of its user; a change of the user's merged presence goes
        to who may see it (PRESENCE_UPDATE through each of the user's guilds)."""
        ...

    async def disconnect(self, user_id: int, session_id: str) -> None:
        """The session ended for good (the user's last: offline, fanned out once)."""
        ...

    async def push_if_offline(self, requests: list[PushRequest]) -> int:
        """Hand the notifications of users with no connected session to the push shards (which
        persist them before answering); returns how many deliveries were accepted."""
        ...

    async def visible(self, guild_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
        """The presences of the online users of each guild (at most ``limit`` per guild)."""
        ...

    async def membership(self, user_id: int, guild_id: int, joined: bool) -> None:
        """The user entered (every session of theirs, on any edge, connects to the guild and gets
        its GUILD_CREATE) or left it (they get GUILD_DELETE); returns once the sessions' guild
        connections changed, so an event published afterwards reaches (or skips) them."""
        ...


class UserDirectory(Protocol):
    """Reaches the sessions of any user, on any edge (through the shard owning the user id)."""

    async def deliver(self, user_ids: Sequence[int], t: str, d: dict[str, Any], *, intent: int = 0) -> None:
        """Returns once the shard(s) owning those users on the ring accepted it. Every live
        session of each user, on any edge, receives the dispatch t/d in the order deliver was
        called for that user; sessions whose intents lack ``intent`` are skipped (0 = no gate)."""
        ...


@dataclass(slots=True)
class EdgeContext:
    """What one edge process works with; built once at startup, shared by every request."""

    config: Config
    storage: Storage
    snowflakes: SnowflakeGenerator
    sessions: SessionShardCore
    guilds: GuildDirectory
    presence: PresenceDirectory
    users: UserDirectory
    # READY's resume_gateway_url: this edge's OWN port, so a resume lands where the session is.
    resume_gateway_url: str = ""
    # Intents an Identify may ask for; a bit outside them closes with 4014. Privileged intents
    # are allowed by default (there is no developer portal to switch them on).
    allowed_intents: int = ALL_INTENTS
    # The other edges' session shards; None: a resume for a session held elsewhere gets op 9.
    peers: SessionShards | None = None
    # What the message path derives from guild settings (automod rules, slowmode), per edge
    # (bounds and TTL from ``config``).
    guild_cache: GuildCache = field(init=False)
    # The session-side lifecycle service of this edge's session shard (open, resume, detach...).
    lifecycle: SessionLifecycleRef = field(init=False)

    def __post_init__(self) -> None:
        if not self.resume_gateway_url:
            self.resume_gateway_url = self.config.gateway_url
        config = self.config
        self.guild_cache = GuildCache(
            config.guild_cache_ttl_s, config.guild_cache_guilds, config.guild_cache_values
        )
        service = SessionLifecycle(self.sessions, self.guilds, self.presence, self.peers, self.config)
        self.lifecycle = SessionLifecycleRef(service)
