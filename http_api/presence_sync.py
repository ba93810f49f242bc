"""The edge's presence duties: report each session's presence to its user's presence shard, hold
op 3 to its rate limit, and send lagged (or resynced) sessions ONE PRESENCES_REPLACE.

Bounds: ``presence_updates_per_minute`` op 3 frames per session within 60 s (one more closes the
socket with 4008, as Discord does); ``presence_backlog_frames`` pending frames before a session
stops receiving PRESENCE_UPDATE (``rayguild.actors.session_presence``); at most
``presences_replace_max`` presences per guild in one PRESENCES_REPLACE.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import numpy as np
import structlog
from aiohttp import web

from rayguild.actors.presence import SessionPresence
from rayguild.actors.session import FrameSink, Session, SessionState
from rayguild.actors.session_presence import Backlogged
from rayguild.errors import RayguildError
from rayguild.fanout.events import GUILD_PRESENCES
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.gateway_protocol import CloseCode, GatewayClose
from rayguild.http_api.keys import CTX

log = structlog.get_logger("rayguild.presence")

STATUSES = frozenset({"online", "dnd", "idle", "invisible", "offline"})


def parse(d: Any) -> tuple[str, tuple[dict[str, Any], ...]] | None:
    """(status, activities) of an op 3 / Identify presence, or None if it is not one."""
    if not isinstance(d, dict) or d.get("status") not in STATUSES:
        return None
    return d["status"], tuple(a for a in d.get("activities") or [] if isinstance(a, dict))


async def _report(ctx: EdgeContext, record: SessionPresence) -> None:
    ctx.sessions.presence.records[record.session_id] = record
    try:
        await ctx.presence.update(record)
    except (TimeoutError, RayguildError) as exc:
        log.warning("presence.update_failed", user_id=record.user_id, error=str(exc))


def _record(ctx: EdgeContext, session: Session, **presence: Any) -> SessionPresence:
    """A new record of the session, with where it lives now (its user's events go there)."""
    return SessionPresence(
        session.user_id, session.session_id, tuple(sorted(session.guild_ids)), **presence,
        shard=ctx.sessions.index, slot=session.slot, intents=session.intents, bot=session.bot,
    )  # fmt: skip


def _watch(ctx: EdgeContext, session: Session, sink: FrameSink) -> None:
    if session.intents & GUILD_PRESENCES and isinstance(sink, Backlogged):
        ctx.sessions.presence.watch(session.slot, sink)


async def started(ctx: EdgeContext, session: Session, sink: FrameSink, d: Any) -> None:
    """A session identified (its presence from Identify, ``online`` by default)."""
    status, activities = parse(d) or ("online", ())
    _watch(ctx, session, sink)
    await _report(ctx, _record(ctx, session, status=status, activities=activities))


async def changed(ctx: EdgeContext, session: Session, d: Any) -> None:
    """op 3: rate limited per session (4008 beyond the bound), then reported."""
    if not ctx.sessions.presence.allow_update(session.session_id):
        limit = ctx.config.presence_updates_per_minute
        raise GatewayClose(
            CloseCode.RATE_LIMITED, f"Rate limited: more than {limit} presence updates a minute"
        )
    parsed = parse(d)
    record = ctx.sessions.presence.records.get(session.session_id)
    if parsed is None or record is None:
        return
    status, activities = parsed
    await _report(
        ctx, replace(record, status=status, activities=activities, guild_ids=tuple(sorted(session.guild_ids)))
    )


async def connection(ctx: EdgeContext, session: Session, sink: FrameSink | None) -> None:
    """The session detached (``sink`` None: resumable, the user stays online), resumed, or is
    held here while it moves from another edge (``sink`` None: its events now come here)."""
    presences = ctx.sessions.presence
    record = presences.records.get(session.session_id)
    if sink is None:
        presences.unwatch(session.slot)
    else:
        _watch(ctx, session, sink)
    if record is None:
        record = _record(ctx, session)
    await _report(ctx, replace(record, connected=sink is not None))


async def ended(ctx: EdgeContext, session: Session) -> None:
    """The session is gone for good: the presence shard may fan the user's offline out."""
    ctx.sessions.presence.unwatch(session.slot)
    ctx.sessions.presence.forget(session.session_id)
    try:
        await ctx.presence.disconnect(session.user_id, session.session_id)
    except (TimeoutError, RayguildError) as exc:
        log.warning("presence.disconnect_failed", user_id=session.user_id, error=str(exc))


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
