"""What a thread is to a caller, as pure functions: permissions, its channel view, auto-archive,
and Discord's thread and thread-member objects.

Permissions in a thread are the parent channel's, with Discord's thread rules: SEND_MESSAGES in a
thread means SEND_MESSAGES_IN_THREADS; a locked thread takes messages only from MANAGE_THREADS
holders; a private thread is visible only to its members and MANAGE_THREADS holders.
A thread that has had no message for ``auto_archive_duration`` minutes is archived; ``expired``
says so from the stored state and the clock (the edge applies it when it reads a thread).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rayguild import shapes
from rayguild.fanout.permissions import (
    MANAGE_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from rayguild.ids import snowflake_time_ms
from rayguild.storage.models import Channel
from rayguild.storage.thread_models import Thread, ThreadMember

Json = dict[str, Any]

HAS_THREAD = 1 << 5  # the message flag of a thread's starter message


def permissions(parent: int, thread: Thread, is_member: bool) -> int:
    """The caller's permissions in ``thread`` from theirs in the parent channel (0 if the thread
    is hidden from them)."""
    if not parent & VIEW_CHANNEL:
        return 0
    if thread.private and not is_member and not parent & MANAGE_THREADS:
        return 0
    may_send = bool(parent & SEND_MESSAGES_IN_THREADS) and (
        not thread.locked or bool(parent & MANAGE_THREADS)
    )
    return (parent & ~SEND_MESSAGES) | (SEND_MESSAGES if may_send else 0)


def as_channel(thread: Thread, parent: Channel) -> Channel:
    """The thread as a channel for the message routes: gated by its parent's overwrites."""
    return Channel(
        id=thread.id, guild_id=thread.guild_id, name=thread.name, type=thread.type,
        parent_id=parent.id, permission_overwrites=parent.permission_overwrites,
    )  # fmt: skip


def last_activity_ms(thread: Thread) -> int:
    """When the thread last changed state or got a message."""
    last = snowflake_time_ms(thread.last_message_id) if thread.last_message_id else 0
    return max(thread.archive_timestamp_ms, thread.created_at_ms, last)


def expired(thread: Thread, now_ms: int) -> Thread | None:
    """The thread archived by inactivity if its duration has passed at ``now_ms``, else None."""
    if thread.archived:
        return None
    due = last_activity_ms(thread) + thread.auto_archive_duration * 60_000
    return replace(thread, archived=True, archive_timestamp_ms=due) if now_ms >= due else None


def member_json(tm: ThreadMember, member: Json | None = None) -> Json:
    out: Json = {
        "id": str(tm.thread_id),
        "user_id": str(tm.user_id),
        "join_timestamp": shapes.iso(tm.join_timestamp_ms),
        "flags": tm.flags,
    }
    if member is not None:
        out["member"] = member
    return out


def thread_json(thread: Thread, me: ThreadMember | None = None) -> Json:
    """Discord's channel object of a thread; ``member`` when ``me`` (the viewer's membership)."""
    metadata: Json = {
        "archived": thread.archived,
        "auto_archive_duration": thread.auto_archive_duration,
        "archive_timestamp": shapes.iso(thread.archive_timestamp_ms),
        "locked": thread.locked,
        "create_timestamp": shapes.iso(thread.created_at_ms),
    }
    if thread.private:
        metadata["invitable"] = thread.invitable
    out: Json = {
        "id": str(thread.id),
        "type": thread.type,
        "guild_id": str(thread.guild_id),
        "parent_id": str(thread.parent_id),
        "owner_id": str(thread.owner_id),
        "name": thread.name,
        "last_message_id": str(thread.last_message_id) if thread.last_message_id else None,
        "rate_limit_per_user": thread.rate_limit_per_user,
        "message_count": thread.message_count,
        "member_count": thread.member_count,
        "total_message_sent": thread.total_message_sent,
        "thread_metadata": metadata,
        "applied_tags": [str(t) for t in thread.applied_tags],
        "flags": 0,
    }
    if me is not None:
        out["member"] = member_json(me)
    return out
