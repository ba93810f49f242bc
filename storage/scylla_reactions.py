"""The Scylla backend's reactions and pins (a mixin of ``ScyllaStorage``).

Reactions live in one partition per message, clustered by emoji then user, so counts are one
``GROUP BY emoji`` read and the users of an emoji one ordered page. A change is read first and
written only when it changes something, so its boolean answer says whether it did (two racing
identical requests may both answer True; the stored state is the same either way). Setting the
message's ``reacted`` / ``pinned`` column after a delete leaves an author-less row that is never
read back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rayguild.storage.buckets import bucket_of
from rayguild.storage.models import Pin, ReactionCount
from rayguild.storage.scylla_messages import CqlStatements


class ScyllaReactions(CqlStatements):
    def _where(self, channel_id: int, message_id: int) -> tuple[int, int, int]:
        return channel_id, bucket_of(message_id), message_id

    async def add_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        key = (channel_id, message_id, emoji, user_id)
        if await self._run("react_get", *key):
            return False
        await self._run("react_put", *key)
        await self._run("msg_reacted", *self._where(channel_id, message_id))
        self._reads.forget(("messages", channel_id))
        return True

    async def remove_reaction(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        key = (channel_id, message_id, emoji, user_id)
        if not await self._run("react_get", *key):
            return False
        await self._run("react_del", *key)
        return True

    async def remove_reactions(self, channel_id: int, message_id: int, emoji: str | None = None) -> None:
        if emoji is None:
            await self._run("react_drop", channel_id, message_id)
        else:
            await self._run("react_del_emoji", channel_id, message_id, emoji)

    async def reaction_counts(
        self, channel_id: int, message_ids: Sequence[int], viewer_id: int
    ) -> dict[int, list[ReactionCount]]:
        wanted = sorted(set(message_ids))
        counted = await asyncio.gather(*(self._counts(channel_id, m, viewer_id) for m in wanted))
        return {m: counts for m, counts in zip(wanted, counted, strict=True) if counts}

    async def _counts(self, channel_id: int, message_id: int, viewer_id: int) -> list[ReactionCount]:
        rows = await self._run("react_counts", channel_id, message_id)
        mine = await asyncio.gather(
            *(self._run("react_get", channel_id, message_id, r["emoji"], viewer_id) for r in rows)
        )
        return [ReactionCount(r["emoji"], r["n"], bool(me)) for r, me in zip(rows, mine, strict=True)]

    async def reaction_users(
        self, channel_id: int, message_id: int, emoji: str, after: int = 0, limit: int = 25
    ) -> list[int]:
        rows = await self._run("react_users", channel_id, message_id, emoji, after, limit)
        return [r["user_id"] for r in rows]

    async def pin_message(self, channel_id: int, message_id: int, pinned_at_ms: int) -> bool:
        if await self._run("pin_get", channel_id, message_id):
            return False
        await self._run("pin_put", channel_id, message_id, pinned_at_ms)
        await self._run("msg_pinned", True, *self._where(channel_id, message_id))
        self._reads.forget(("messages", channel_id))
        return True

    async def unpin_message(self, channel_id: int, message_id: int) -> bool:
        if not await self._run("pin_get", channel_id, message_id):
            return False
        await self._run("pin_del", channel_id, message_id)
        await self._run("msg_pinned", False, *self._where(channel_id, message_id))
        self._reads.forget(("messages", channel_id))
        return True

    async def list_pins(self, channel_id: int) -> list[Pin]:
        rows = await self._run("pin_list", channel_id)
        pins = [Pin(r["message_id"], r["pinned_at_ms"]) for r in rows]
        return sorted(pins, key=lambda p: (p.pinned_at_ms, p.message_id), reverse=True)
