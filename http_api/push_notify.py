"""After a message is stored and dispatched: notify the mentioned users who have no active session.

The users are the message's ``mention_ids`` (what its content mentions as ``allowed_mentions``
permits, computed when it was created), at most ``MAX_MENTIONS`` members of the guild, the author
excluded. The presence shards decide who has no connected session and hand those to the push
shards, which persist them before answering; a failure on the way is logged and never fails the
message, which is already durable.
"""

from __future__ import annotations

from typing import Any

import structlog

from rayguild.actors.push import PushRequest
from rayguild.errors import RayguildError
from rayguild.http_api.context import EdgeContext
from rayguild.storage.models import Message

log = structlog.get_logger("rayguild.push")

MAX_MENTIONS = 50
PREVIEW_CHARS = 200


def mentioned(message: Message) -> list[int]:
    """Distinct user ids the message mentions, in order, without the author."""
    ids = dict.fromkeys(message.mention_ids)
    ids.pop(message.author_id, None)
    return list(ids)[:MAX_MENTIONS]


async def mentions(ctx: EdgeContext, message: Message, author: dict[str, Any]) -> int:
    """Push notifications for the message's mentions; returns how many deliveries were accepted."""
    if message.guild_id is None:
        return 0
    users = [u for u in mentioned(message)
             if await ctx.storage.get_member(message.guild_id, u) is not None]  # fmt: skip
    if not users:
        return 0
    data = {
        "message_id": str(message.id), "channel_id": str(message.channel_id),
        "guild_id": str(message.guild_id), "author": author, "content": message.content[:PREVIEW_CHARS],
    }  # fmt: skip
    requests = [PushRequest(f"{message.id}:{user_id}", user_id, "mention", data) for user_id in users]
    try:
        return await ctx.presence.push_if_offline(requests)
    except (TimeoutError, RayguildError) as exc:
        log.warning("push.submit_failed", message_id=message.id, users=len(users), error=str(exc))
        return 0
