"""GUILD_CREATE for one session: the guild as Discord sends it (with the settings, channel fields,\nemojis, stickers and scheduled events the REST layer keeps as settings documents), members trimmed\nabove large_threshold."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rayguild import shapes
from rayguild.actors.guild_documents import guild_documents
from rayguild.actors.guild_threads import visible_threads
from rayguild.storage.protocol import Storage

if TYPE_CHECKING:
    from rayguild.actors.guild_process import GuildProcess


async def guild_create(
    storage: Storage, proc: GuildProcess, user_id: int, large_threshold: int
) -> dict[str, Any]:
    """Above ``large_threshold`` (clamped to Discord's 50-250) only the session's own member is sent;
    the rest come on request (op 8)."""
    guild_id = proc.guild_id
    threshold = max(50, min(large_threshold, 250))
    large = proc.members.count > threshold
    wanted = (
        [m for m in [await storage.get_member(guild_id, user_id)] if m is not None]
        if large
        else await storage.list_members(guild_id, 0, 1000)
    )
    users = await storage.get_users([m.user_id for m in wanted])
    members = [shapes.member(m, users[m.user_id]) for m in wanted if m.user_id in users]
    d = shapes.guild(proc.guild, sorted(proc.roles.values(), key=lambda r: r.position))
    kept = await guild_documents(storage, guild_id)
    d.update(kept.guild_fields, emojis=kept.emojis, stickers=kept.stickers)
    d.update(
        joined_at=members[0]["joined_at"] if members else shapes.iso(int(time.time() * 1000)),
        large=large,
        unavailable=False,
        member_count=proc.members.count,
        members=members,
        channels=[
            {**shapes.channel(ch, proc.last_message_id.get(ch.id)), **kept.channel_fields.get(ch.id, {})}
            for ch in sorted(proc.channels.values(), key=lambda ch: ch.position)
        ],
        threads=await visible_threads(storage, proc, user_id),
        presences=[],
        voice_states=[],
        stage_instances=[],
        guild_scheduled_events=kept.scheduled_events,
        soundboard_sounds=[],
    )
    return d
