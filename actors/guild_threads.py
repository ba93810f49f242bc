"""The ``threads`` of a GUILD_CREATE: the guild's active threads one user may see.

A thread is visible as in the REST edge (``rayguild.thread_rules``): VIEW_CHANNEL on its parent,
and for a private thread membership or MANAGE_THREADS; a thread the user joined carries its
``member`` object (discord.py and discord.js read both). A thread idle past its auto-archive
duration is left out (the edge archives it when it is next read).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rayguild.fanout.permissions import (
    VIEW_CHANNEL,
    PermissionOverwrite,
    base_permissions,
    channel_permissions,
)
from rayguild.storage.protocol import Storage
from rayguild.thread_rules import expired, permissions, thread_json

if TYPE_CHECKING:
    from rayguild.actors.guild_process import GuildProcess


async def visible_threads(storage: Storage, proc: GuildProcess, user_id: int) -> list[dict[str, Any]]:
    now_ms = time.time_ns() // 1_000_000
    active = [
        t for t in await storage.list_threads(proc.guild_id) if not t.archived and expired(t, now_ms) is None
    ]
    member = await storage.get_member(proc.guild_id, user_id) if active else None
    if member is None:
        return []
    guild = proc.guild
    roles = {r.id: r.permissions for r in proc.roles.values()}
    base = base_permissions(guild.id, guild.owner_id, user_id, roles, member.roles)
    shown = []
    for thread in active:
        parent = proc.channels.get(thread.parent_id)
        if parent is None:
            continue
        overwrites = [
            PermissionOverwrite(o.id, o.type, o.allow, o.deny) for o in parent.permission_overwrites
        ]
        in_parent = channel_permissions(base, guild.id, user_id, member.roles, overwrites)
        me = await storage.get_thread_member(thread.id, user_id)
        if permissions(in_parent, thread, me is not None) & VIEW_CHANNEL:
            shown.append(thread_json(thread, me))
    return shown
