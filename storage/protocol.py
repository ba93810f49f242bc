"""The storage boundary: what rayguild asks of a database, as Protocols every backend implements.

Guarantees every backend gives (proved by tests/contract, run against each backend):
- a write method returns only once the write is durable; if the database cannot confirm it,
  the method raises ``StorageUnavailable`` and the caller must not acknowledge;
- reads never return a deleted message;
- ``create_message`` is idempotent on ``(channel_id, author_id, nonce)``: a retry with the same
  nonce returns the first message instead of writing a second;
- every call may raise ``StorageUnavailable`` while the database is down; the backend reconnects
  by itself when it returns, without being rebuilt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rayguild.storage.blobs import BlobStore

if TYPE_CHECKING:
    from rayguild.storage.semantics import MemberChange
from rayguild.storage.bots_protocol import BotStore
from rayguild.storage.credentials import CredentialStore
from rayguild.storage.models import (
    Channel,
    Device,
    DmChannel,
    Guild,
    Invite,
    Member,
    Message,
    PendingPush,
    Pin,
    ReactionCount,
    Role,
    SessionStarts,
    User,
)
from rayguild.storage.moderation import ModerationStore
from rayguild.storage.settings import SettingsStore
from rayguild.storage.thread_models import Thread, ThreadMember

MAX_HISTORY_LIMIT = 100
MAX_MEMBERS_LIMIT = 1000
MAX_PUSH_PAGE = 1000
MAX_REACTION_USERS = 100


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Discord's ``GET /channels/{id}/messages``: at most one of before/after/around."""

    channel_id: int
    limit: int = 50
    before: int | None = None
    after: int | None = None
    around: int | None = None

    def __post_init__(self) -> None:
        given = sum(x is not None for x in (self.before, self.after, self.around))
        if given > 1:
            raise ValueError("at most one of before, after, around")
        if not 1 <= self.limit <= MAX_HISTORY_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_HISTORY_LIMIT}")


class MessageStore(Protocol):
    async def create_message(self, message: Message) -> Message:
        """Persist ``message``; with a nonce already used by the author in the channel, return that one."""
        ...

    async def get_message(self, channel_id: int, message_id: int) -> Message | None: ...

    async def edit_message(self, edited: Message) -> Message | None:
        """Replace the editable parts of message ``edited.id`` (content, ``edited_at_ms``,
        mentions and the rich parts: embeds, components, attachments, flags...) with
        ``edited``'s, keeping ``pinned`` and ``reacted``; None if the message does not exist (or
        was deleted)."""
        ...

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        """True if a message was deleted; it never appears in any read afterwards."""
        ...

    async def history(self, query: HistoryQuery) -> list[Message]:
        """Newest first; ``around`` returns up to limit messages centred on the id."""
        ...


class ReactionStore(Protocol):
    """Reactions and pins of messages. A reaction is one (emoji, user) per message; an emoji is
    a unicode emoji or ``name:id`` for a custom one. Deleting a message deletes both."""

    async def add_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        """Record the reaction and mark the message ``reacted``; False if it was already there."""
        ...

    async def remove_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        """False if there was no such reaction."""
        ...

    async def remove_reactions(self, channel_id: int, message_id: int, emoji: str | None = None) -> None:
        """Remove every reaction of the message (only those with ``emoji`` when given)."""
        ...

    async def reaction_counts(
        self, channel_id: int, message_ids: Sequence[int], viewer_id: int
    ) -> dict[int, list[ReactionCount]]:
        """Per message (those with reactions only), its counts by emoji, ``me`` for ``viewer_id``."""
        ...

    async def reaction_users(
        self, channel_id: int, message_id: int, emoji: str, after: int = 0, limit: int = 25
    ) -> list[int]:
        """Ids of the users who reacted with ``emoji``, ascending, > ``after``; limit 1-100."""
        ...

    async def pin_message(self, channel_id: int, message_id: int, pinned_at_ms: int) -> bool:
        """Pin (marking the message ``pinned``); False if it was already pinned."""
        ...

    async def unpin_message(self, channel_id: int, message_id: int) -> bool:
        """False if it was not pinned."""
        ...

    async def list_pins(self, channel_id: int) -> list[Pin]:
        """The channel's pins, most recently pinned first."""
        ...


class AccountStore(Protocol):
    async def create_user(self, user: User, token_hash: str) -> None: ...

    async def get_user(self, user_id: int) -> User | None: ...

    async def get_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Many users in one round of reads (unknown ids are absent): for member lists, never
        one awaited query per member."""
        ...

    async def user_by_token_hash(self, token_hash: str) -> User | None: ...


class GuildStore(Protocol):
    async def put_guild(self, guild: Guild) -> None: ...

    async def get_guild(self, guild_id: int) -> Guild | None: ...

    async def delete_guild(self, guild_id: int) -> None:
        """Delete the guild with its channels, roles, members and invites."""
        ...

    async def put_channel(self, channel: Channel) -> None: ...

    async def get_channel(self, channel_id: int) -> Channel | None: ...

    async def list_channels(self, guild_id: int) -> list[Channel]: ...

    async def delete_channel(self, channel_id: int) -> None: ...

    async def put_role(self, role: Role) -> None: ...

    async def list_roles(self, guild_id: int) -> list[Role]: ...

    async def delete_role(self, guild_id: int, role_id: int) -> None: ...

    async def put_member(self, member: Member) -> None: ...

    async def get_member(self, guild_id: int, user_id: int) -> Member | None: ...

    async def remove_member(self, guild_id: int, user_id: int) -> bool: ...

    async def change_member(
        self, guild_id: int, user_id: int, change: MemberChange
    ) -> tuple[Member, Member] | None:
        """Apply ``change`` atomically (two concurrent changes both take effect, none is lost):
        (the member before, after), or None when the user is not a member."""
        ...

    async def list_members(self, guild_id: int, after: int = 0, limit: int = 1) -> list[Member]:
        """Members with user_id > after, ascending by user_id; limit 1-1000."""
        ...

    def iter_members(self, guild_id: int, page_size: int = MAX_MEMBERS_LIMIT) -> AsyncIterator[Member]:
        """Every member, page by page; never holds the whole guild in memory."""
        ...

    async def guilds_of_user(self, user_id: int) -> list[int]: ...

    async def put_invite(self, invite: Invite) -> None: ...

    async def get_invite(self, code: str) -> Invite | None: ...

    async def use_invite(self, code: str) -> Invite | None:
        """Count one use; None if the invite does not exist or is used up."""
        ...

    async def delete_invite(self, code: str) -> bool: ...


class PushStore(Protocol):
    """Registered devices, and each push shard's outbox of accepted, undelivered notifications."""

    async def put_device(self, device: Device) -> None:
        """Register (or re-register) ``device``; one row per (user_id, token)."""
        ...

    async def list_devices(self, user_id: int) -> list[Device]:
        """The user's devices, ordered by token."""
        ...

    async def delete_device(self, user_id: int, token: str) -> bool: ...

    async def put_pushes(self, pushes: Sequence[PendingPush]) -> None:
        """Persist outbox rows; once this returns every row is durable (a row rewritten with the
        same (shard, key) stays one row)."""
        ...

    async def list_pushes(self, shard: int, after: str = "", limit: int = MAX_PUSH_PAGE) -> list[PendingPush]:
        """Outbox rows of ``shard`` with key > ``after``, ascending by key; limit 1-1000."""
        ...

    async def delete_pushes(self, shard: int, keys: Sequence[str]) -> None:
        """Forget delivered (or given-up) rows; unknown keys are ignored."""
        ...


class SessionStartStore(Protocol):
    """Each user's gateway session-start record, shared by every edge (identify limits)."""

    async def get_session_starts(self, user_id: int) -> SessionStarts | None: ...

    async def swap_session_starts(self, record: SessionStarts) -> bool:
        """Write ``record`` only if the stored version is ``record.version - 1`` (none stored for
        version 1); True if written. Of concurrent swaps from one version exactly one wins."""
        ...


class DmStore(Protocol):
    """Direct-message channels: exactly one per pair of users."""

    async def open_dm(self, new_id: int, user_a: int, user_b: int) -> DmChannel:
        """The pair's DM channel; created with id ``new_id`` if the pair has none. Two opens of
        the same pair racing each other get the same channel."""
        ...

    async def get_dm(self, channel_id: int) -> DmChannel | None: ...

    async def list_dms(self, user_id: int) -> list[DmChannel]:
        """The user's DM channels, ascending by id."""
        ...


class ThreadStore(Protocol):
    """Threads (``storage.thread_models``): metadata, members, message counters."""

    async def put_thread(self, thread: Thread) -> None:
        """Create or replace the thread's metadata (never its counters or last message)."""
        ...

    async def get_thread(self, thread_id: int) -> Thread | None: ...

    async def list_threads(self, guild_id: int) -> list[Thread]:
        """Every thread of the guild (archived too), ascending by id."""
        ...

    async def delete_thread(self, thread_id: int) -> None:
        """Forget the thread and its members (its messages stay where they are)."""
        ...

    async def add_thread_member(self, member: ThreadMember) -> bool:
        """True if the user was not a member yet (the first join's timestamp is kept)."""
        ...

    async def remove_thread_member(self, thread_id: int, user_id: int) -> bool: ...

    async def get_thread_member(self, thread_id: int, user_id: int) -> ThreadMember | None: ...

    async def list_thread_members(
        self, thread_id: int, after: int = 0, limit: int = 100
    ) -> list[ThreadMember]:
        """Members with user_id > after, ascending by user_id; limit 1-1000."""
        ...

    async def threads_of_user(self, user_id: int) -> list[int]:
        """The ids of the threads the user is a member of, ascending."""
        ...

    async def count_thread_message(self, thread_id: int, message_id: int, delta: int) -> None:
        """A message was created (``delta`` 1: counts it in ``message_count`` and
        ``total_message_sent`` and makes it the last message) or deleted (-1: ``message_count``
        only)."""
        ...


class Storage(
    MessageStore, ReactionStore, AccountStore, GuildStore, PushStore, DmStore, BotStore,
    SessionStartStore, ThreadStore, CredentialStore, ModerationStore, SettingsStore, Protocol,
):  # fmt: skip
    """Everything rayguild persists, behind one object with a lifecycle."""

    @property
    def blobs(self) -> BlobStore:
        """Attachment bytes, kept alongside: a folder for SQLite, chunked rows for Cassandra;
        started and closed with the storage."""
        ...

    async def start(self) -> None:
        """Connect and create the schema idempotently; raise StorageUnavailable if unreachable."""
        ...

    async def close(self) -> None: ...
