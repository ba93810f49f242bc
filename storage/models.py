"""The records rayguild persists: small frozen dataclasses, ids as snowflake ints.

Timestamps are Unix milliseconds; a message's creation time is its snowflake's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    avatar: str | None = None
    discriminator: str = "0"


@dataclass(frozen=True, slots=True)
class Guild:
    id: int
    name: str
    owner_id: int
    icon: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False


@dataclass(frozen=True, slots=True)
class Overwrite:
    """A channel permission overwrite; ``type`` 0 is a role, 1 a member (Discord's values)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    guild_id: int
    name: str
    type: int = 0  # 0 GUILD_TEXT, 2 GUILD_VOICE, 4 GUILD_CATEGORY
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    permission_overwrites: tuple[Overwrite, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    guild_id: int
    user_id: int
    joined_at_ms: int
    roles: tuple[int, ...] = ()
    nick: str | None = None


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    guild_id: int
    channel_id: int
    inviter_id: int
    created_at_ms: int
    max_age_s: int = 86_400  # 0 = never expires
    max_uses: int = 0  # 0 = unlimited
    uses: int = 0


@dataclass(frozen=True, slots=True)
class MessageReference:
    """What a reply (type 19) points at: Discord's ``message_reference``."""

    message_id: int
    channel_id: int
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A message. ``embeds``, ``components``, ``attachments`` and ``interaction_metadata`` are
    kept as the Discord JSON objects they were validated into (``attachments`` as the edge serves
    them); ``author_override`` is a webhook's ``{"username", "avatar"}`` shown instead of the
    author account. ``reacted`` is set by the first reaction, so reads skip reaction lookups for
    the messages that never had one."""

    id: int
    channel_id: int
    author_id: int
    content: str
    guild_id: int | None = None
    type: int = 0
    nonce: str | None = None
    edited_at_ms: int | None = None
    mention_ids: tuple[int, ...] = ()
    mention_everyone: bool = False
    mention_role_ids: tuple[int, ...] = ()
    flags: int = 0
    embeds: tuple[dict[str, Any], ...] = ()
    components: tuple[dict[str, Any], ...] = ()
    attachments: tuple[dict[str, Any], ...] = ()
    sticker_ids: tuple[int, ...] = ()
    reference: MessageReference | None = None
    application_id: int | None = None
    webhook_id: int | None = None
    author_override: dict[str, Any] | None = None
    interaction_metadata: dict[str, Any] | None = None
    pinned: bool = False
    reacted: bool = False


@dataclass(frozen=True, slots=True)
class SessionStarts:
    """A user's gateway session starts (identifies) in the current limit window, and per identify
    bucket (``shard_id % max_concurrency``) when it last identified. ``version`` grows by one per
    write: it is what a compare-and-set compares (see ``SessionStartStore``)."""

    user_id: int
    version: int
    window_start_ms: int
    used: int
    bucket_last_ms: tuple[tuple[int, int], ...] = ()  # (bucket, ms of its last identify)


@dataclass(frozen=True, slots=True)
class ReactionCount:
    """How many users reacted to a message with ``emoji`` (a unicode emoji, or ``name:id`` for a
    custom one) and whether the viewer is one of them."""

    emoji: str
    count: int
    me: bool = False


@dataclass(frozen=True, slots=True)
class Pin:
    message_id: int
    pinned_at_ms: int


@dataclass(frozen=True, slots=True)
class Device:
    """A push target a user registered: ``provider`` "webhook" delivers an HTTP POST to ``token``."""

    user_id: int
    provider: str
    token: str
    created_at_ms: int = 0


@dataclass(frozen=True, slots=True)
class PendingPush:
    """One accepted, not yet delivered notification to one device (a push shard's outbox row).

    ``key`` is the idempotency key of the (notification, device) pair, unique per push shard.
    """

    shard: int
    key: str
    user_id: int
    provider: str
    token: str
    body: str
    created_at_ms: int = 0


@dataclass(frozen=True, slots=True)
class DmChannel:
    """A direct-message channel (Discord's type 1) between two users; ``users`` is ascending."""

    id: int
    users: tuple[int, int]

    def other(self, user_id: int) -> int:
        """The recipient as ``user_id`` sees the channel."""
        low, high = self.users
        return high if user_id == low else low
