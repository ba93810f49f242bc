"""What outlives the request that made an interaction: its acknowledgement deadline and the modals
its callbacks opened.

Deadline: the edge that accepted the interaction watches it; when ``interaction_ack_timeout_s``
passes it claims the acknowledgement for ``EXPIRED`` with the same atomic write a callback uses,
so exactly one of the two wins: either the bot's callback (the invoker gets INTERACTION_SUCCESS)
or the deadline (the invoker gets INTERACTION_FAILURE, and a later callback 404 10062). If that
edge stops or dies before the deadline no INTERACTION_FAILURE is sent (Discord's client then times out on
its own), but a late callback is still refused by its age.

Modals: a MODAL callback records the modal (custom_id, text inputs, the component message it came
from) under ``modal:<interaction id>``, next to the interaction and with its 15-minute life; a
modal submit (type 5) names that id in ``data.id`` and is checked against it. The record's
``application_id`` is 0 and its type 9 (no interaction has either), so no callback or webhook
route can take its key for a token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import structlog
from aiohttp import web

from rayguild.errors import RayguildError
from rayguild.http_api import hook_messages
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.keys import CTX
from rayguild.storage.bots_protocol import InteractionState

log = structlog.get_logger(__name__)
Json = dict[str, Any]
EXPIRED = -1  # callback_type once the deadline won
MODAL_RECORD = 9
_watching: dict[asyncio.Task[None], EdgeContext] = {}  # running deadlines, by the edge that runs them


def watch_deadline(ctx: EdgeContext, state: InteractionState, nonce: Any) -> None:
    """Start watching ``state``'s acknowledgement deadline (returns at once)."""
    task = asyncio.get_running_loop().create_task(_expire(ctx, state, nonce))
    _watching[task] = ctx
    task.add_done_callback(lambda done: _watching.pop(done, None))


async def deadlines(app: web.Application) -> AsyncIterator[None]:
    """The edge's deadlines stop with it (its storage closes; nothing is sent for them)."""
    yield
    ctx = app[CTX]
    mine = [task for task, owner in _watching.items() if owner is ctx]
    for task in mine:
        task.cancel()
    await asyncio.gather(*mine, return_exceptions=True)


async def _expire(ctx: EdgeContext, state: InteractionState, nonce: Any) -> None:
    deadline_ms = state.created_at_ms + ctx.config.interaction_ack_timeout_s * 1000
    await asyncio.sleep(max(0.0, deadline_ms - time.time_ns() // 1_000_000) / 1000)
    try:
        if not await ctx.storage.acknowledge_interaction(state.token, EXPIRED, False):
            return  # the bot answered in time
    except RayguildError as exc:  # storage unreachable: the late callback is still refused by age
        log.warning("interaction.expire_failed", interaction_id=state.id, error=str(exc))
        return
    d = {"id": str(state.id), "nonce": nonce, "reason_code": 1}
    await hook_messages.tell(ctx, state.user_id, "INTERACTION_FAILURE", d)


def _key(interaction_id: int) -> str:
    return f"modal:{interaction_id}"


async def remember_modal(
    ctx: EdgeContext, state: InteractionState, modal: Json, message: Json | None
) -> None:
    """Record the modal a callback of ``state`` opened (``message``: the component's, if any)."""
    body = {"application_id": state.application_id, "modal": modal, "message": message}
    record = InteractionState(
        id=state.id, application_id=0, token=_key(state.id), type=MODAL_RECORD, channel_id=state.channel_id,
        guild_id=state.guild_id, user_id=state.user_id, created_at_ms=state.created_at_ms,
        body=orjson.dumps(body).decode(),
    )  # fmt: skip
    await ctx.storage.put_interaction(record)


async def opened_modal(
    ctx: EdgeContext, interaction_id: int, user_id: int, app_id: int, channel_id: int
) -> Json | None:
    """The modal the app opened for ``user_id`` in interaction ``interaction_id`` there, if any:
    ``{"modal": ..., "message": ...}``."""
    record = await ctx.storage.get_interaction(_key(interaction_id))
    if (
        record is None
        or record.type != MODAL_RECORD
        or (record.user_id, record.channel_id) != (user_id, channel_id)
    ):
        return None
    body: Json = orjson.loads(record.body)
    return body if body["application_id"] == app_id else None
