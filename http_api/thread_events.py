"""Who hears of a thread, and the state changes messages make to it.

A public thread's events go through its guild, gated by VIEW_CHANNEL on the PARENT channel
(``Publish(channel_id=parent_id)``): who may see the parent sees the thread, as on Discord, and
the guild process needs no thread state. A private thread's events go to its members only,
through the user path (``ctx.users.deliver``), so a non-member never receives them.
THREAD_MEMBERS_UPDATE reaches the users added or removed (GUILDS) and the thread's other members
who asked for GUILD_MEMBERS, as Discord sends it; the user who joined (or was added, or created
the thread) also receives THREAD_MEMBER_UPDATE with their own membership.

Every function runs after a durable write: delivery failures are logged, never raised.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import structlog

from rayguild import thread_rules
from rayguild.actors.commands import Publish
from rayguild.errors import RayguildError
from rayguild.fanout.events import GUILD_MEMBERS, GUILD_MESSAGES, GUILDS
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.notify import publish
from rayguild.storage.models import Channel
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT
from rayguild.storage.thread_models import Thread, ThreadMember

log = structlog.get_logger("rayguild.http")
Json = dict[str, Any]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def member_ids(ctx: EdgeContext, thread_id: int) -> list[int]:
    found: list[int] = []
    after = 0
    while page := await ctx.storage.list_thread_members(thread_id, after, MAX_MEMBERS_LIMIT):
        found.extend(m.user_id for m in page)
        after = page[-1].user_id
    return found


async def deliver(ctx: EdgeContext, user_ids: list[int], t: str, d: Json, intent: int) -> None:
    if not user_ids:
        return
    try:
        await ctx.users.deliver(user_ids, t, d, intent=intent)
    except RayguildError as exc:
        log.warning("thread.deliver_failed", t=t, error=str(exc))


async def to_viewers(ctx: EdgeContext, thread: Thread, t: str, d: Json, intent: int = GUILDS) -> None:
    """``t``/``d`` to who may see ``thread``: the parent's viewers, or a private thread's members."""
    if thread.private:
        await deliver(ctx, await member_ids(ctx, thread.id), t, d, intent)
    else:
        await publish(ctx, Publish(thread.guild_id, t, d, channel_id=thread.parent_id, intent=intent))


async def updated(ctx: EdgeContext, thread: Thread) -> None:
    await to_viewers(ctx, thread, "THREAD_UPDATE", thread_rules.thread_json(thread))


async def members_update(
    ctx: EdgeContext,
    thread: Thread,
    added: ThreadMember | None = None,
    added_member: Json | None = None,
    removed: int | None = None,
) -> None:
    """THREAD_MEMBERS_UPDATE for one user added (with their guild member object) or removed."""
    d: Json = {"id": str(thread.id), "guild_id": str(thread.guild_id), "member_count": thread.member_count}
    if added is not None:
        d["added_members"] = [thread_rules.member_json(added, added_member)]
        affected = added.user_id
    else:
        d["removed_member_ids"] = [str(removed)]
        affected = removed or 0
    others = [u for u in await member_ids(ctx, thread.id) if u != affected]
    await deliver(ctx, [affected], "THREAD_MEMBERS_UPDATE", d, GUILDS)
    await deliver(ctx, others, "THREAD_MEMBERS_UPDATE", d, GUILD_MEMBERS)


async def member_update(ctx: EdgeContext, thread: Thread, member: ThreadMember) -> None:
    """THREAD_MEMBER_UPDATE to the user ``member`` names: their own membership (sent when they
    join or are added; for a bot, as Discord puts it, the signal that it is a thread member)."""
    d = {**thread_rules.member_json(member), "guild_id": str(thread.guild_id)}
    await deliver(ctx, [member.user_id], "THREAD_MEMBER_UPDATE", d, GUILDS)


async def current(ctx: EdgeContext, thread: Thread) -> Thread:
    """``thread`` as of now: archived (stored, THREAD_UPDATE sent) if it has been idle longer
    than its auto-archive duration. Called whenever the edge reads a thread for a caller."""
    archived = thread_rules.expired(thread, now_ms())
    if archived is None:
        return thread
    await ctx.storage.put_thread(archived)
    await updated(ctx, archived)
    return archived


async def dispatch_message(
    ctx: EdgeContext, channel: Channel, t: str, d: Json, intent: int = GUILD_MESSAGES
) -> None:
    """A message event of thread ``channel``: counted (MESSAGE_CREATE / MESSAGE_DELETE), an
    archived, unlocked thread unarchived by a new message, then delivered to the thread's viewers
    who asked for ``intent`` (``message_core.dispatch`` calls this for thread channels)."""
    thread = await ctx.storage.get_thread(channel.id)
    if thread is None:
        return
    if t in ("MESSAGE_CREATE", "MESSAGE_DELETE"):
        await ctx.storage.count_thread_message(thread.id, int(d["id"]), 1 if t == "MESSAGE_CREATE" else -1)
    await to_viewers(ctx, thread, t, d, intent)
    if t == "MESSAGE_CREATE" and thread.archived and not thread.locked:
        reopened = replace(thread, archived=False, archive_timestamp_ms=now_ms())
        await ctx.storage.put_thread(reopened)
        await updated(ctx, (await ctx.storage.get_thread(thread.id)) or reopened)
