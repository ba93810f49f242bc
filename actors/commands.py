"""Messages between actors: small frozen dataclasses named as commands or events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rayguild.ids import SessionId
from rayguild.storage.models import Channel, Guild, Role


@dataclass(frozen=True, slots=True)
class MemberJoined:
    user_id: int
    role_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    user_id: int
    role_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MemberLeft:
    user_id: int


@dataclass(frozen=True, slots=True)
class ChannelUpserted:
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelDeleted:
    channel_id: int


@dataclass(frozen=True, slots=True)
class RoleUpserted:
    role: Role


@dataclass(frozen=True, slots=True)
class RoleDeleted:
    role_id: int


@dataclass(frozen=True, slots=True)
class GuildUpdated:
    guild: Guild


@dataclass(frozen=True, slots=True)
class GuildDeleted:
    pass


GuildChange = (
    MemberJoined
    | MemberUpdated
    | MemberLeft
    | ChannelUpserted
    | ChannelDeleted
    | RoleUpserted
    | RoleDeleted
    | GuildUpdated
    | GuildDeleted
)


@dataclass(frozen=True, slots=True)
class Publish:
    """Apply ``change`` (if any) to the guild's state, then dispatch ``t``/``d`` to who may see it.

    ``channel_id`` gates the event on VIEW_CHANNEL; ``intent`` on the session's intents.
    """

    guild_id: int
    t: str
    d: dict[str, Any]
    channel_id: int = 0
    intent: int = 0
    change: GuildChange | None = None
    accepted_ns: int = 0  # when the edge acknowledged the request (time.time_ns()); 0: at publish


@dataclass(frozen=True, slots=True)
class SessionJoin:
    """A session connecting to a guild: where its frames go and what it asked for."""

    guild_id: int
    session_id: SessionId
    shard: int
    slot: int
    user_id: int
    intents: int
    bot: bool
    large_threshold: int = 50
