"""PresenceShard: owns the presences of the users the ring gives it, and fans changes out via guilds.

A change is published once per guild the user shares (PRESENCE_UPDATE, gated on the
GUILD_PRESENCES intent); the guild's ordinary fan-out path takes it from there, so a presence
change costs O(guilds x session shards) Ray calls, never one per recipient.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rayguild.actors.commands import Publish
from rayguild.fanout.events import GUILD_PRESENCES

PublishFn = Callable[[Publish], Awaitable[int]]


class PresenceShard:
    def __init__(self, index: int, publish: PublishFn) -> None:
        self.index = index
        self._publish = publish
        self.presences: dict[int, dict[str, Any]] = {}

    async def update(self, user_id: int, guild_ids: list[int], presence: dict[str, Any]) -> None:
        status = presence.get("status", "online")
        current = {
            "status": status,
            "activities": presence.get("activities") or [],
            "client_status": {"desktop": status} if status != "offline" else {},
        }
        if self.presences.get(user_id) == current:
            return
        self.presences[user_id] = current
        for guild_id in guild_ids:
            d = {"user": {"id": str(user_id)}, "guild_id": str(guild_id), **current}
            await self._publish(Publish(guild_id, "PRESENCE_UPDATE", d, intent=GUILD_PRESENCES))

    async def get(self, user_id: int) -> dict[str, Any] | None:
        return self.presences.get(user_id)

    async def stats(self) -> dict[str, Any]:
        return {"presences": len(self.presences)}
