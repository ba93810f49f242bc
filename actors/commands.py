"""Messages between actors: small frozen dataclasses named as commands or events.

Every operation on a shard is one command here, handled by the ``handle`` dispatch of its
kind's body; clients send commands, never method names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rayguild.ids import SessionId
from rayguild.storage.models import Channel, Guild, Role

if TYPE_CHECKING:
    from rayguild.actors.presence import SessionPresence
    from rayguild.actors.push import PushRequest
    from rayguild.fanout.events import Dispatch
    from rayguild.fanout.ordering import Sequenced
    from rayguild.fanout.partition import Slots
    from rayguild.relay import RelayCommand


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


# -- every shard kind ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Start:
    """Start the shard (storage, edge, loops); idempotent, sent again after Ray restarted it."""


@dataclass(frozen=True, slots=True)
class Stats:
    """The shard's counters, with the process and node it runs on."""


# -- guild shard -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Disconnect:
    """Remove a session from the guild; it receives nothing more from it."""

    guild_id: int
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Mark a session active (every event) or passive in the guild."""

    guild_id: int
    session_id: SessionId
    active: bool


@dataclass(frozen=True, slots=True)
class MoveSession:
    """Send the session's later events to (shard, slot); its old slot gets a moved marker."""

    guild_id: int
    session_id: SessionId
    shard: int
    slot: int


@dataclass(frozen=True, slots=True)
class MemberCount:
    guild_id: int


@dataclass(frozen=True, slots=True)
class ForgetSessionShard:
    """Session shard ``shard`` restarted empty: forget its sessions (guild and user shards)."""

    shard: int


# -- session shard ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Deliver:
    """A sender's numbered batch of dispatches for slots of this shard."""

    batch: Sequenced[tuple[Dispatch, Slots]]


@dataclass(frozen=True, slots=True)
class Invalidate:
    """These slots' sessions missed events: op 9, then closed."""

    slots: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DescribeSession:
    session_id: SessionId
    user_id: int


@dataclass(frozen=True, slots=True)
class TakeSession:
    """Hand a session to the edge it resumed on (see ``rayguild.actors.handoff``)."""

    session_id: SessionId
    user_id: int
    seq: int
    moved: tuple[int, ...]
    known: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GuildShardLost:
    """Guild shard ``index`` restarted empty at ``since_ns``: its older sessions get GUILD_DELETE
    unavailable and are joined again to the rebuilt guilds (``rayguild.actors.guild_loss``)."""

    index: int
    since_ns: int


@dataclass(frozen=True, slots=True)
class PresenceReport:
    """The shard's live sessions whose user presence shard ``presence_index`` owns."""

    presence_index: int


@dataclass(frozen=True, slots=True)
class Drain:
    """The edge is going away: every connected session gets op 7 Reconnect and its socket closes
    resumable (4000), so its client resumes on another edge; answers how many were told."""


@dataclass(frozen=True, slots=True)
class AdoptPort:
    """Also accept on ``port``: the own port of an edge draining on this machine."""

    port: int


@dataclass(frozen=True, slots=True)
class PresenceResync:
    """A presence shard restarted: every watching session gets one PRESENCES_REPLACE."""


# -- presence (user) shard -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UpdatePresence:
    record: SessionPresence


@dataclass(frozen=True, slots=True)
class EndSession:
    user_id: int
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class PushIfOffline:
    requests: tuple[PushRequest, ...]


@dataclass(frozen=True, slots=True)
class VisiblePresences:
    guild_ids: tuple[int, ...]
    limit: int


@dataclass(frozen=True, slots=True)
class DeliverToUsers:
    """An event for every live session of these users (``intent`` gates it; 0: no gate)."""

    user_ids: tuple[int, ...]
    t: str
    d: dict[str, Any]
    intent: int = 0


@dataclass(frozen=True, slots=True)
class Membership:
    """The user entered (``joined``) or left the guild: their sessions follow."""

    user_id: int
    guild_id: int
    joined: bool


# -- push shard ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SubmitPush:
    requests: tuple[PushRequest, ...]


# -- relay -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApplyRelay:
    """A guild's numbered batch of relay commands."""

    batch: Sequenced[RelayCommand]
