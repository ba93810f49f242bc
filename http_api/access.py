"""Who may do what: load a guild or channel for a caller and compute their permissions.

A DM channel's two users get ``DM_PERMISSIONS`` there. Permissions are computed as Discord does (``rayguild.fanout.permissions``): owner and ADMINISTRATOR
get everything, else @everyone | roles, then the channel's overwrites. A caller who is not a member
of the guild gets 403 50001 Missing Access; one who cannot see a channel gets the same; a missing
permission is 403 50013. A timed-out member's permissions are masked (``moderation.timeout_mask``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from rayguild import thread_rules
from rayguild.fanout.permissions import (
    VIEW_CHANNEL,
    PermissionOverwrite,
    base_permissions,
    channel_permissions,
)
from rayguild.http_api import thread_events
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.dms import DM_PERMISSIONS, as_channel, dm_of
from rayguild.http_api.errors import missing_access, missing_permissions, unknown
from rayguild.http_api.forms import path_id
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.moderation import NO_MASK, timeout_mask
from rayguild.storage.models import Channel, Guild, Member, Role, User
from rayguild.storage.thread_models import Thread


@dataclass(frozen=True, slots=True)
class GuildAccess:
    """A member's view of a guild: the guild, the member record, roles and guild permissions."""

    guild: Guild
    member: Member
    roles: tuple[Role, ...]
    permissions: int
    mask: int = NO_MASK  # ANDed into every permission set: a timeout's (moderation.py)

    @property
    def is_owner(self) -> bool:
        return self.guild.owner_id == self.member.user_id

    def require(self, bits: int) -> None:
        if self.permissions & bits != bits:
            raise missing_permissions()

    def top_position(self) -> int:
        """Highest role position of the member (owner: above every role)."""
        if self.is_owner:
            return 1 << 30
        mine = set(self.member.roles)
        return max((r.position for r in self.roles if r.id in mine), default=0)


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    channel: Channel
    access: GuildAccess | None  # None in a DM channel (type 1): no guild, no member
    permissions: int

    @property
    def member(self) -> Member | None:
        """The caller's member record in the channel's guild (None in a DM)."""
        return self.access.member if self.access is not None else None

    def require(self, bits: int) -> None:
        if self.permissions & bits != bits:
            raise missing_permissions()


async def guild_access(ctx: EdgeContext, guild_id: int, caller: User) -> GuildAccess:
    guild = await ctx.storage.get_guild(guild_id)
    if guild is None:
        raise unknown("guild")
    member = await ctx.storage.get_member(guild_id, caller.id)
    if member is None:
        raise missing_access()
    roles = tuple(await ctx.storage.list_roles(guild_id))
    perms = base_permissions(
        guild_id, guild.owner_id, caller.id, {r.id: r.permissions for r in roles}, member.roles
    )
    mask = await timeout_mask(ctx, guild_id, caller.id, perms)
    return GuildAccess(guild, member, roles, perms & mask, mask)


def overwrites_of(channel: Channel) -> list[PermissionOverwrite]:
    return [PermissionOverwrite(o.id, o.type, o.allow, o.deny) for o in channel.permission_overwrites]


async def channel_access(ctx: EdgeContext, channel_id: int, caller: User) -> ChannelAccess:
    """The channel with the caller's permissions in it; 404 if unknown, 403 if not visible.
    A DM channel is visible to its two users only (``rayguild.http_api.dms``)."""
    channel = await ctx.storage.get_channel(channel_id)
    if channel is None:
        thread = await ctx.storage.get_thread(channel_id)
        if thread is not None:
            return await _thread_access(ctx, thread, caller)
        dm = await dm_of(ctx, channel_id, caller)
        if dm is None:
            raise unknown("channel")
        return ChannelAccess(as_channel(dm), None, DM_PERMISSIONS)
    access = await guild_access(ctx, channel.guild_id, caller)
    perms = access.mask & channel_permissions(
        access.permissions, channel.guild_id, caller.id, access.member.roles, overwrites_of(channel)
    )
    if not perms & VIEW_CHANNEL:
        raise missing_access()
    return ChannelAccess(channel, access, perms)


async def _thread_access(ctx: EdgeContext, thread: Thread, caller: User) -> ChannelAccess:
    """A thread seen through its parent channel, with Discord's thread rules (``thread_rules``);
    an idle thread is archived on the way (``thread_events.current``)."""
    parent = await channel_access(ctx, thread.parent_id, caller)
    is_member = thread.private and await ctx.storage.get_thread_member(thread.id, caller.id) is not None
    perms = thread_rules.permissions(parent.permissions, thread, is_member)
    if not perms & VIEW_CHANNEL:
        raise missing_access()
    await thread_events.current(ctx, thread)
    return ChannelAccess(thread_rules.as_channel(thread, parent.channel), parent.access, perms)


async def guild_request(request: web.Request) -> tuple[User, EdgeContext, GuildAccess]:
    """A guild route's preamble: the authenticated caller, the edge, and the caller's access to
    the guild the path's ``{guild_id}`` names."""
    caller = await authenticate(request)
    ctx = ctx_of(request)
    return caller, ctx, await guild_access(ctx, path_id(request, "guild_id"), caller)


async def channel_request(request: web.Request) -> tuple[User, EdgeContext, ChannelAccess]:
    """A channel route's preamble: caller, edge, and the caller's access to ``{channel_id}``."""
    caller = await authenticate(request)
    ctx = ctx_of(request)
    return caller, ctx, await channel_access(ctx, path_id(request, "channel_id"), caller)
