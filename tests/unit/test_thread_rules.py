"""Thread rules as pure functions: permissions from the parent's, and auto-archive by inactivity."""

from __future__ import annotations

from dataclasses import replace

from rayguild.fanout.permissions import (
    MANAGE_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from rayguild.ids import SnowflakeGenerator
from rayguild.storage.thread_models import PRIVATE_THREAD, Thread
from rayguild.thread_rules import expired, last_activity_ms, permissions

READER = VIEW_CHANNEL
POSTER = VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS
PUBLIC = Thread(
    id=1, guild_id=2, parent_id=3, owner_id=4, name="t", archive_timestamp_ms=1_000, created_at_ms=1_000
)
PRIVATE = Thread(id=1, guild_id=2, parent_id=3, owner_id=4, name="t", type=PRIVATE_THREAD)
LOCKED = Thread(id=1, guild_id=2, parent_id=3, owner_id=4, name="t", locked=True)


def test_sending_in_a_thread_is_send_messages_in_threads() -> None:
    assert permissions(POSTER, PUBLIC, False) & SEND_MESSAGES
    assert not permissions(VIEW_CHANNEL | SEND_MESSAGES, PUBLIC, False) & SEND_MESSAGES
    assert permissions(VIEW_CHANNEL | SEND_MESSAGES_IN_THREADS, PUBLIC, False) & SEND_MESSAGES


def test_locked_threads_take_messages_from_managers_only() -> None:
    assert not permissions(POSTER, LOCKED, True) & SEND_MESSAGES
    assert permissions(POSTER | MANAGE_THREADS, LOCKED, False) & SEND_MESSAGES


def test_private_threads_are_seen_by_members_and_managers() -> None:
    assert permissions(READER, PRIVATE, False) == 0
    assert permissions(READER, PRIVATE, True) & VIEW_CHANNEL
    assert permissions(READER | MANAGE_THREADS, PRIVATE, False) & VIEW_CHANNEL
    assert permissions(0, PUBLIC, True) == 0  # no sight of the parent: no sight of the thread


def test_auto_archive_after_the_duration_of_inactivity() -> None:
    hour_ms = 3_600_000
    thread = replace(PUBLIC, auto_archive_duration=60)
    assert expired(thread, 1_000 + hour_ms - 1) is None
    archived = expired(thread, 1_000 + hour_ms)
    assert archived is not None and archived.archived and archived.archive_timestamp_ms == 1_000 + hour_ms
    assert expired(archived, 10 * hour_ms) is None
    # A message restarts the clock.
    message_id = SnowflakeGenerator(1, 1).next()
    talked = replace(thread, last_message_id=message_id)
    assert last_activity_ms(talked) > 1_000
    assert expired(talked, last_activity_ms(talked) + hour_ms - 1) is None
