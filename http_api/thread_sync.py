"""THREAD_LIST_SYNC where Discord sends it: to a member who gains access to a channel (an
overwrite put or deleted, a role added), listing that channel's active threads the member may see
and the member's own thread memberships among them.

Who gained access is found by comparing VIEW_CHANNEL before and after the change: for an
overwrite change, over the guild's members (one scan, as the audit log's announcement does:
management actions are rare next to messages); for a role change, over the guild's channels for
that one member. Sent after the change is durable and announced; a failure to deliver is logged
(the change stands either way), as a client re-reads threads on its next GUILD_CREATE.
"""

from __future__ import annotations

import structlog

from rayguild.errors import RayguildError
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import (
    VIEW_CHANNEL,
    PermissionOverwrite,
    base_permissions,
    channel_permissions,
)
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.moderation import now_ms
from rayguild.storage.models import Channel, Guild
from rayguild.thread_rules import expired, member_json, permissions, thread_json

log = structlog.get_logger("rayguild.http")


def _sees(
    guild: Guild, roles: dict[int, int], user_id: int, member_roles: tuple[int, ...], channel: Channel
) -> int:
    """The member's permissions in ``channel``."""
    base = base_permissions(guild.id, guild.owner_id, user_id, roles, member_roles)
    overwrites = [PermissionOverwrite(o.id, o.type, o.allow, o.deny) for o in channel.permission_overwrites]
    return channel_permissions(base, guild.id, user_id, member_roles, overwrites)


async def _send(ctx: EdgeContext, guild: Guild, user_id: int, channels: dict[int, int]) -> None:
    """THREAD_LIST_SYNC to ``user_id`` for ``channels`` (id -> the user's permissions there)."""
    threads, members = [], []
    for thread in await ctx.storage.list_threads(guild.id):
        if thread.parent_id not in channels or thread.archived or expired(thread, now_ms()) is not None:
            continue
        me = await ctx.storage.get_thread_member(thread.id, user_id)
        if permissions(channels[thread.parent_id], thread, me is not None) & VIEW_CHANNEL:
            threads.append(thread_json(thread))
            if me is not None:
                members.append(member_json(me))
    d = {
        "guild_id": str(guild.id),
        "channel_ids": [str(c) for c in channels],
        "threads": threads,
        "members": members,
    }
    try:
        await ctx.users.deliver([user_id], "THREAD_LIST_SYNC", d, intent=GUILDS)
    except RayguildError as exc:
        log.warning("thread_sync.deliver_failed", guild_id=guild.id, user_id=user_id, error=str(exc))


async def after_overwrites(ctx: EdgeContext, before: Channel, after: Channel) -> None:
    """The channel's overwrites changed from ``before``'s to ``after``'s."""
    guild = await ctx.storage.get_guild(after.guild_id)
    if guild is None:
        return
    roles = {r.id: r.permissions for r in await ctx.storage.list_roles(guild.id)}
    async for member in ctx.storage.iter_members(guild.id):
        now = _sees(guild, roles, member.user_id, member.roles, after)
        if (
            now & VIEW_CHANNEL
            and not _sees(guild, roles, member.user_id, member.roles, before) & VIEW_CHANNEL
        ):
            await _send(ctx, guild, member.user_id, {after.id: now})


async def after_member_roles(ctx: EdgeContext, guild_id: int, user_id: int, before: tuple[int, ...],
                             after: tuple[int, ...]) -> None:  # fmt: skip
    """The member's roles changed from ``before`` to ``after``."""
    guild = await ctx.storage.get_guild(guild_id)
    if guild is None:
        return
    roles = {r.id: r.permissions for r in await ctx.storage.list_roles(guild_id)}
    gained = {}
    for channel in await ctx.storage.list_channels(guild_id):
        now = _sees(guild, roles, user_id, after, channel)
        if now & VIEW_CHANNEL and not _sees(guild, roles, user_id, before, channel) & VIEW_CHANNEL:
            gained[channel.id] = now
    if gained:
        await _send(ctx, guild, user_id, gained)
