"""Writing the audit log: every moderation and management action records one entry, durably,
with the reason its request gave in ``X-Audit-Log-Reason`` (URL-encoded, at most 512 characters).

The entry is written after the action itself succeeded and before the response, so a 2xx means
the entry is stored; then GUILD_AUDIT_LOG_ENTRY_CREATE goes to the members who may read the log.
Action types are Discord's (``AuditLogEvent``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import structlog
from aiohttp import web

from rayguild.errors import RayguildError
from rayguild.fanout.permissions import base_permissions
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.moderation import GUILD_MODERATION, VIEW_AUDIT_LOG
from rayguild.storage.moderation import AuditEntry

GUILD_UPDATE = 1
CHANNEL_CREATE = 10
CHANNEL_UPDATE = 11
CHANNEL_DELETE = 12
CHANNEL_OVERWRITE_CREATE = 13
CHANNEL_OVERWRITE_UPDATE = 14
CHANNEL_OVERWRITE_DELETE = 15
MEMBER_KICK = 20
MEMBER_PRUNE = 21
MEMBER_BAN_ADD = 22
MEMBER_BAN_REMOVE = 23
MEMBER_UPDATE = 24
MEMBER_ROLE_UPDATE = 25
ROLE_CREATE = 30
ROLE_UPDATE = 31
ROLE_DELETE = 32
INVITE_CREATE = 40
INVITE_DELETE = 42
MESSAGE_DELETE = 72
MESSAGE_BULK_DELETE = 73
MAX_REASON = 512
log = structlog.get_logger("rayguild.http")

Change = dict[str, Any]


def reason_of(request: web.Request) -> str | None:
    raw = request.headers.get("X-Audit-Log-Reason")
    return unquote(raw)[:MAX_REASON] if raw else None


def change(key: str, old: Any, new: Any) -> Change:
    """One entry of ``changes``: a value that was absent or null leaves its side out."""
    out: Change = {"key": key}
    if old is not None:
        out["old_value"] = old
    if new is not None:
        out["new_value"] = new
    return out


async def record(
    request: web.Request,
    ctx: EdgeContext,
    guild_id: int,
    actor_id: int,
    action_type: int,
    target_id: int | None = None,
    changes: Sequence[Change] = (),
    options: dict[str, str] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        id=ctx.snowflakes.next(), guild_id=guild_id, user_id=actor_id, action_type=action_type,
        target_id=target_id, reason=reason_of(request), changes=json.dumps(list(changes)),
        options=json.dumps(options or {}),
    )  # fmt: skip
    await ctx.storage.add_audit_entry(entry)
    await _announce(ctx, entry)
    return entry


async def _announce(ctx: EdgeContext, entry: AuditEntry) -> None:
    """GUILD_AUDIT_LOG_ENTRY_CREATE to the sessions of every member who may VIEW_AUDIT_LOG (the
    owner, administrators, holders of a role granting it), found by one scan of the members:
    moderation actions are rare next to messages. A failure to deliver is logged; the entry is
    stored and the action acknowledged either way."""
    d = {**entry_shape(entry), "guild_id": str(entry.guild_id)}
    await deliver_to_holders(
        ctx, entry.guild_id, VIEW_AUDIT_LOG, "GUILD_AUDIT_LOG_ENTRY_CREATE", d, GUILD_MODERATION
    )


async def holders_of(ctx: EdgeContext, guild_id: int, bits: int) -> list[int]:
    """The members whose guild permissions include ``bits`` (the owner first), by one scan of the
    members: for management events, rare next to messages. Empty if the guild is gone."""
    guild = await ctx.storage.get_guild(guild_id)
    if guild is None:
        return []
    roles = {r.id: r.permissions for r in await ctx.storage.list_roles(guild.id)}
    holders = [guild.owner_id]
    async for member in ctx.storage.iter_members(guild.id):
        perms = base_permissions(guild.id, guild.owner_id, member.user_id, roles, member.roles)
        if perms & bits == bits and member.user_id != guild.owner_id:
            holders.append(member.user_id)
    return holders


async def deliver_to_holders(
    ctx: EdgeContext, guild_id: int, bits: int, t: str, d: dict[str, Any], intent: int
) -> None:
    """Dispatch ``t`` to the sessions of the members holding ``bits``; a failure to deliver is
    logged (what it announces is stored and acknowledged either way)."""
    try:
        await ctx.users.deliver(await holders_of(ctx, guild_id, bits), t, d, intent=intent)
    except RayguildError as exc:
        log.warning("holders.deliver_failed", guild_id=guild_id, event=t, error=str(exc))


def entry_shape(entry: AuditEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(entry.id),
        "user_id": str(entry.user_id),
        "target_id": str(entry.target_id) if entry.target_id is not None else None,
        "action_type": entry.action_type,
        "changes": json.loads(entry.changes),
    }
    options = json.loads(entry.options)
    if options:
        out["options"] = options
    if entry.reason is not None:
        out["reason"] = entry.reason
    return out
