"""What moderation keeps: bans, the audit log and members' moderation state (timeout, mute,
deaf), as records and the ``ModerationStore`` protocol every backend implements.

Guarantees (tests/contract/test_moderation.py, on every backend): a write returns once durable;
bans page by ``user_id`` ascending (``before``/``after``, ``limit`` 1-1000); audit entries read
newest first, filtered by actor, target and action type, ``before`` the ``limit`` newest below an id,
``after`` the ``limit`` oldest above it (still newest first, as Discord answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MAX_BANS_LIMIT = 1000
MAX_AUDIT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Ban:
    guild_id: int
    user_id: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit-log entry; ``changes`` and ``options`` are Discord's JSON, kept as text."""

    id: int
    guild_id: int
    user_id: int  # who acted
    action_type: int
    target_id: int | None = None
    reason: str | None = None
    changes: str = "[]"
    options: str = "{}"


@dataclass(frozen=True, slots=True)
class MemberState:
    """A member's moderation state; ``timeout_until_ms`` is ``communication_disabled_until``."""

    guild_id: int
    user_id: int
    timeout_until_ms: int | None = None
    mute: bool = False
    deaf: bool = False


@dataclass(frozen=True, slots=True)
class BanQuery:
    guild_id: int
    limit: int = MAX_BANS_LIMIT
    before: int | None = None
    after: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_BANS_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_BANS_LIMIT}")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    guild_id: int
    limit: int = 50
    user_id: int | None = None
    target_id: int | None = None
    action_type: int | None = None
    before: int | None = None
    after: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_AUDIT_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_AUDIT_LIMIT}")

    def admits(self, entry: AuditEntry) -> bool:
        wanted = ((self.user_id, entry.user_id), (self.target_id, entry.target_id),
                  (self.action_type, entry.action_type))  # fmt: skip
        return all(want is None or want == got for want, got in wanted)


class ModerationStore(Protocol):
    async def put_ban(self, ban: Ban) -> None: ...
    async def get_ban(self, guild_id: int, user_id: int) -> Ban | None: ...
    async def list_bans(self, query: BanQuery) -> list[Ban]:
        """Bans ascending by user id: with ``before`` the ``limit`` closest below it, else the
        ``limit`` first above ``after`` (or from the start)."""
        ...

    async def delete_ban(self, guild_id: int, user_id: int) -> bool: ...
    async def add_audit_entry(self, entry: AuditEntry) -> None: ...
    async def list_audit_entries(self, query: AuditQuery) -> list[AuditEntry]: ...
    async def put_member_state(self, state: MemberState) -> None: ...
    async def get_member_state(self, guild_id: int, user_id: int) -> MemberState | None: ...
