"""Moderation rules shared by the routes: the permission bits they need, the role hierarchy, and
timeouts (``communication_disabled_until``).

A timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY until the timeout ends, as on
Discord: ``access.py`` applies ``timeout_mask`` to every guild and channel permission it computes,
so posting, reacting, typing, joining threads and every other route that checks a permission
answer 403 50013. Owners and administrators cannot be timed out.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rayguild.actors.commands import Publish
from rayguild.fanout.events import GUILD_MESSAGES
from rayguild.fanout.permissions import ADMINISTRATOR, READ_MESSAGE_HISTORY, VIEW_CHANNEL
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, missing_permissions
from rayguild.http_api.notify import publish
from rayguild.shapes import iso
from rayguild.shapes import member as member_shape
from rayguild.storage.models import Guild, Member, Role, User
from rayguild.storage.moderation import MemberState

if TYPE_CHECKING:
    from rayguild.http_api.access import ChannelAccess, GuildAccess

VIEW_AUDIT_LOG = 1 << 7
MUTE_MEMBERS = 1 << 22
DEAFEN_MEMBERS = 1 << 23
MANAGE_NICKNAMES = 1 << 27
MODERATE_MEMBERS = 1 << 40
GUILD_MODERATION = 1 << 2  # the gateway intent of GUILD_BAN_ADD / GUILD_BAN_REMOVE
NO_MASK = -1
TIMED_OUT_MASK = VIEW_CHANNEL | READ_MESSAGE_HISTORY
MAX_TIMEOUT_MS = 28 * 24 * 3600 * 1000
DM_CHANNEL = 50003


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def timed_out(state: MemberState | None, at_ms: int | None = None) -> bool:
    until = state.timeout_until_ms if state is not None else None
    return until is not None and until > (now_ms() if at_ms is None else at_ms)


async def timeout_mask(ctx: EdgeContext, guild_id: int, user_id: int, permissions: int) -> int:
    """The mask to AND into every permission set of this member (NO_MASK unless timed out)."""
    if permissions & ADMINISTRATOR:
        return NO_MASK
    state = await ctx.storage.get_member_state(guild_id, user_id)
    return TIMED_OUT_MASK if timed_out(state) else NO_MASK


def top_position(guild: Guild, roles: tuple[Role, ...] | list[Role], member: Member) -> int:
    """A member's highest role position (the owner ranks above every role)."""
    if guild.owner_id == member.user_id:
        return 1 << 30
    mine = set(member.roles)
    return max((r.position for r in roles if r.id in mine), default=0)


def require_above(guild: Guild, roles: tuple[Role, ...], actor: Member, target: Member) -> None:
    """403 50013 unless ``actor`` outranks ``target`` (Discord: only members below your highest
    role; nobody acts on the owner; the owner acts on everyone)."""
    if target.user_id == guild.owner_id:
        raise missing_permissions()
    if actor.user_id == guild.owner_id:
        return
    if top_position(guild, roles, target) >= top_position(guild, roles, actor):
        raise missing_permissions()


def member_with_state(member: Member, user: User | None, state: MemberState | None) -> dict[str, Any]:
    """Discord's guild member object, with the moderation state the member record lacks."""
    out = member_shape(member, user)
    if state is not None:
        out["mute"], out["deaf"] = state.mute, state.deaf
        if timed_out(state):
            assert state.timeout_until_ms is not None
            out["communication_disabled_until"] = iso(state.timeout_until_ms)
    return out


async def publish_bulk_delete(ctx: EdgeContext, guild_id: int, channel_id: int, ids: list[int]) -> None:
    d = {"ids": [str(i) for i in ids], "channel_id": str(channel_id), "guild_id": str(guild_id)}
    await publish(
        ctx, Publish(guild_id, "MESSAGE_DELETE_BULK", d, channel_id=channel_id, intent=GUILD_MESSAGES)
    )


def in_guild(found: ChannelAccess) -> GuildAccess:
    """The guild access of a guild channel; a DM channel is 400 50003, as on Discord."""
    if found.access is None:
        raise ApiError(400, DM_CHANNEL, "Cannot execute action on a DM channel")
    return found.access
