"""Stored messages as a viewer sees them: Discord's message object with its authors, mentioned
users, the replied-to message, the thread a message started and the viewer's reaction counts,
read in batches (the messages are of one channel).

Every lookup for a page of messages is one batch (authors and mentioned users in one
``get_users``, replied-to messages and reactions concurrently), never one awaited query per
message in turn. A reply whose original was deleted shows ``referenced_message: null``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from rayguild.http_api.context import EdgeContext
from rayguild.http_api.emoji import reaction_shape
from rayguild.shapes import REPLY
from rayguild.shapes import message as message_shape
from rayguild.storage.models import Member, Message, User
from rayguild.storage.thread_models import Thread
from rayguild.thread_rules import HAS_THREAD, thread_json

Json = dict[str, Any]


def _deleted_user(user_id: int) -> User:
    return User(id=user_id, username="Deleted User")


async def show_messages(
    ctx: EdgeContext,
    messages: Sequence[Message],
    viewer_id: int,
    members: dict[int, Member] | None = None,
) -> list[Json]:
    """``messages`` in Discord's shape for ``viewer_id`` (``me`` on reactions); ``members`` maps
    author ids to the member shown with their messages."""
    references = [m.reference for m in messages if m.type == REPLY and m.reference is not None]
    replied_list = await asyncio.gather(
        *(ctx.storage.get_message(r.channel_id, r.message_id) for r in references)
    )
    replied = {m.id: m for m in replied_list if m is not None}
    everyone = [*messages, *replied.values()]
    wanted = {i for m in everyone for i in (m.author_id, *m.mention_ids)}
    users = await ctx.storage.get_users(list(wanted))
    reacted = [m.id for m in messages if m.reacted]
    counts = await ctx.storage.reaction_counts(messages[0].channel_id, reacted, viewer_id) if reacted else {}
    threads = await _started_threads(ctx, messages)

    def shown(m: Message, nested: bool) -> Json:
        referenced = None
        if not nested and m.type == REPLY and m.reference is not None:
            original = replied.get(m.reference.message_id)
            referenced = shown(original, True) if original is not None else None
        out = message_shape(
            m, users.get(m.author_id) or _deleted_user(m.author_id),
            (members or {}).get(m.author_id) if not nested else None,
            mentioned=[users[u] for u in m.mention_ids if u in users],
            referenced=referenced,
            reactions=[] if nested else [reaction_shape(c.emoji, c.count, c.me) for c in counts.get(m.id, ())],
        )  # fmt: skip
        if m.id in threads and not nested:
            out["thread"] = thread_json(threads[m.id])
        return out

    return [shown(m, False) for m in messages]


async def _started_threads(ctx: EdgeContext, messages: Sequence[Message]) -> dict[int, Thread]:
    """The threads started from ``messages`` (HAS_THREAD; a thread takes its starter's id)."""
    found = await asyncio.gather(*(ctx.storage.get_thread(m.id) for m in messages if m.flags & HAS_THREAD))
    return {t.id: t for t in found if t is not None}


async def show_message(
    ctx: EdgeContext, message: Message, viewer_id: int, member: Member | None = None
) -> Json:
    members = {message.author_id: member} if member is not None else None
    (shown,) = await show_messages(ctx, [message], viewer_id, members)
    return shown
