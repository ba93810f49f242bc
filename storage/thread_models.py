"""Threads as rayguild persists them: the thread's metadata and its members (frozen records).

A thread is a channel of a guild (type 11 public, 12 private) under a text channel (its
``parent_id``); its messages are stored like any channel's, under the thread's id. Times are Unix
milliseconds; ``auto_archive_duration`` is in minutes as Discord gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
THREAD_TYPES = (PUBLIC_THREAD, PRIVATE_THREAD)
AUTO_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread's stored state. ``message_count``, ``total_message_sent`` and ``last_message_id``
    change only through ``ThreadStore.count_thread_message``; ``member_count`` is counted on read;
    ``put_thread`` writes the rest."""

    id: int
    guild_id: int
    parent_id: int
    owner_id: int
    name: str
    type: int = PUBLIC_THREAD
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp_ms: int = 0  # the last change of ``archived`` (creation time at first)
    rate_limit_per_user: int = 0
    applied_tags: tuple[int, ...] = ()
    created_at_ms: int = 0
    last_message_id: int | None = None
    message_count: int = 0
    total_message_sent: int = 0
    member_count: int = 0

    @property
    def private(self) -> bool:
        return self.type == PRIVATE_THREAD


@dataclass(frozen=True, slots=True)
class ThreadMember:
    """A user who joined (or was added to) a thread."""

    thread_id: int
    user_id: int
    join_timestamp_ms: int
    flags: int = 0
