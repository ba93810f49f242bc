"""The edge's presence duties: read a presence out of Identify and op 3, and send lagged (or
resynced) sessions ONE PRESENCES_REPLACE. Each session's presence record (reported to its user's
presence shard) and the op 3 rate limit are the session lifecycle's (``session_lifecycle``).

Bounds: ``presence_updates_per_minute`` op 3 frames per session within 60 s (one more closes the
socket with 4008, as Discord does); ``presence_backlog_frames`` pending frames before a session
stops receiving PRESENCE_UPDATE (``rayguild.actors.session_presence``); at most
``presences_replace_max`` presences per guild in one PRESENCES_REPLACE.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import structlog
from aiohttp import web

from rayguild.actors.session import SessionState
from rayguild.errors import RayguildError
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.keys import CTX

log = structlog.get_logger("rayguild.presence")

STATUSES = frozenset({"online", "dnd", "idle", "invisible", "offline"})


def parse(d: Any) -> tuple[str, tuple[dict[str, Any], ...]] | None:
    """(status, activities) of an op 3 / Identify presence, or None if it is not one."""
    if not isinstance(d, dict) or d.get("status") not in STATUSES:
        return None
    return d["status"], tuple(a for a in d.get("activities") or [] if isinstance(a, dict))


async def resync(ctx: EdgeContext) -> int:
    """One pass: every stale session whose socket drained gets ONE PRESENCES_REPLACE, then the
    updates held while it was fetched; returns how many sessions were resynced."""
    presences, core = ctx.sessions.presence, ctx.sessions
    slots = presences.due()
    if not slots:
        return 0
    by_slot = {s.slot: s for s in core.sessions.values() if s.state is SessionState.CONNECTED}
    guilds = sorted({g for slot in slots if slot in by_slot for g in by_slot[slot].guild_ids})
    try:
        visible = await ctx.presence.visible(guilds, ctx.config.presences_replace_max)
    except (TimeoutError, RayguildError) as exc:
        presences.abandon(slots)
        log.warning("presence.resync_failed", sessions=len(slots), error=str(exc))
        return 0
    done = 0
    by_slot = {s.slot: s for s in core.sessions.values() if s.state is SessionState.CONNECTED}
    for slot in slots:
        session = by_slot.get(slot)
        if session is None or slot not in presences.holding:
            presences.release(slot)
            continue
        d = [p for g in sorted(session.guild_ids) for p in visible.get(g, [])]
        core.send(session, "PRESENCES_REPLACE", d)
        held = presences.release(slot) or []
        one = np.asarray([slot], dtype=np.int32)
        core.deliver([(dispatch, one) for dispatch in held])
        done += 1
    return done


async def resync_loop(app: web.Application) -> AsyncIterator[None]:
    """The app's cleanup context: ``resync`` every ``presence_resync_interval_s``."""
    ctx = app[CTX]

    async def loop() -> None:
        while True:
            await asyncio.sleep(ctx.config.presence_resync_interval_s)
            try:
                await resync(ctx)
            except Exception:
                log.exception("presence.resync_crashed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
