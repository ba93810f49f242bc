"""What the edge does for each client opcode once the protocol accepted it.

Identify opens a session on this shard, held until its user's shard registered it (so an event
addressed to the user after READY reaches it), sends READY (seq 1) ahead of anything held, then
asks each guild to connect the session (each guild sends its own GUILD_CREATE through the delivery path, ordered with its later
events). Resume re-attaches a session held by this shard and replays every frame after the
client's seq in order, then RESUMED; between computing the replay and attaching there is no
await, so no dispatch can slip in between or be sent twice. A session another edge holds is
taken over (``resume_moved``): held here, its guilds moved here, its missed events handed over.
Sessions never leak: a socket that ends detaches its session, ``reap_expired`` closes those
detached longer than replay_window_s.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import structlog

from rayguild.actors.commands import SessionJoin
from rayguild.actors.handoff import SessionSummary
from rayguild.actors.session import FrameSink, Session, SessionState
from rayguild.errors import RayguildError
from rayguild.fanout.events import ALL_INTENTS, GUILD_MEMBERS, Dispatch, encode
from rayguild.http_api import identify_limits, presence_sync
from rayguild.http_api.auth import user_for_token
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.gateway_protocol import (
    CloseCode,
    GatewayClose,
    Identify,
    Op,
    Resume,
    check_intents,
)
from rayguild.ids import GuildId, SessionId, UserId, new_session_id, session_shard_index
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Member
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT

log = structlog.get_logger("rayguild.gateway")

CHUNK_MEMBERS = 1000
# Closes after which the session cannot be resumed (Discord: a client closing with 1000/1001
# ends its session; 4009 means "start a new one").
FINAL_CLOSES = frozenset({1000, 1001, int(CloseCode.SESSION_TIMED_OUT)})


def _strip_bot(token: str) -> str:
    return token[4:] if token.startswith("Bot ") else token


async def identify(ctx: EdgeContext, ident: Identify, sink: FrameSink) -> Session:
    account = await user_for_token(ctx.storage, _strip_bot(ident.token))
    if account is None:
        raise GatewayClose(CloseCode.AUTHENTICATION_FAILED, "Authentication failed")
    if ident.intents is None and account.bot:
        raise GatewayClose(CloseCode.INVALID_INTENTS, "Invalid intent(s): a bot must send intents")
    intents = ALL_INTENTS & ctx.allowed_intents if ident.intents is None else ident.intents
    check_intents(intents, ctx.allowed_intents)
    shard_id, shard_count = ident.shard
    guild_ids = [
        g for g in await ctx.storage.guilds_of_user(account.id) if (g >> 22) % shard_count == shard_id
    ]
    await identify_limits.admit(ctx.storage, ctx.config, account, ident.shard, len(guild_ids))
    # Held (events recorded, not written) until its user's shard knows where it is: an event
    # addressed to the user after the client saw READY reaches it, and READY is still seq 1.
    session = ctx.sessions.hold(account.id, intents, account.bot, new_session_id(ctx.sessions.index))
    session.guild_ids.update(guild_ids)
    session.large_threshold = ident.large_threshold
    await presence_sync.started(ctx, session, sink, ident.presence)
    ready = Dispatch(0, "READY", encode({
        "v": 10, "user": user_shape(account),
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_id": session.session_id, "session_type": "normal",
        "resume_gateway_url": ctx.resume_gateway_url, "shard": [shard_id, shard_count],
        "application": {"id": str(account.id), "flags": 0},
        "private_channels": [], "relationships": [], "presences": [],
        "guild_join_requests": [], "geo_ordered_rtc_regions": [], "auth": {},
    }))  # fmt: skip
    frames = ctx.sessions.rebase(session, 0, [ready])
    if frames is None:  # more user events arrived meanwhile than the replay buffer holds
        await close_everywhere(ctx, session)
        raise GatewayClose(CloseCode.SESSION_TIMED_OUT, "Session could not be started; identify again")
    # No await from here on: the frames are written before any later event.
    ctx.sessions.attach(session.session_id, sink)
    for frame in frames:
        sink.write(frame)
    log.info("gateway.identified", session_id=session.session_id, user_id=account.id,
             intents=intents, guilds=len(guild_ids))  # fmt: skip
    for guild_id in guild_ids:
        join = SessionJoin(
            guild_id=GuildId(guild_id), session_id=session.session_id, shard=ctx.sessions.index,
            slot=session.slot, user_id=UserId(account.id), intents=intents, bot=account.bot,
            large_threshold=ident.large_threshold,
        )  # fmt: skip
        await _guarded(ctx.guilds.connect(guild_id, join), "connect", guild_id)
    return session


async def resume(ctx: EdgeContext, req: Resume, sink: FrameSink) -> Session | None:
    """The resumed session, or None when it cannot be resumed (the caller sends op 9 false)."""
    account = await user_for_token(ctx.storage, _strip_bot(req.token))
    if account is None:
        raise GatewayClose(CloseCode.AUTHENTICATION_FAILED, "Authentication failed")
    session = ctx.sessions.sessions.get(SessionId(req.session_id))
    if session is None:
        return await resume_moved(ctx, account.id, req, sink)
    if session.user_id != account.id or session.state not in (SessionState.CONNECTED, SessionState.DETACHED):
        return None
    if req.seq > ctx.sessions.seq_of(session.slot):
        raise GatewayClose(CloseCode.INVALID_SEQ, "Invalid seq")
    frames = ctx.sessions.replay_after(session, req.seq)
    if frames is None:
        return None
    # No await from here on: nothing can be delivered between the replay and the attach.
    if session.state is SessionState.CONNECTED:
        previous = session.sink
        ctx.sessions.detach(session.session_id)
        if previous is not None:
            previous.close(int(CloseCode.UNKNOWN_ERROR), "Session resumed on another connection")
    ctx.sessions.attach(session.session_id, sink)
    for frame in frames:
        sink.write(frame)
    ctx.sessions.send(session, "RESUMED", {})
    log.info("gateway.resumed", session_id=session.session_id, replayed=len(frames))
    await presence_sync.connection(ctx, session, sink)
    return session


async def resume_moved(ctx: EdgeContext, user_id: int, req: Resume, sink: FrameSink) -> Session | None:
    """Resume a session another edge holds: hold it here, move its guilds here, take it over.

    Every event after the client's seq arrives once, in order (the old shard's, then the held
    ones renumbered after them), then RESUMED; see ``rayguild.actors.handoff``. Anything that
    fails on the way ends the session everywhere (the caller sends op 9, the client identifies).
    """
    owner = _shard_of(req.session_id)
    if ctx.peers is None or owner is None or owner == ctx.sessions.index:
        return None
    try:
        summary = await ctx.peers.describe(owner, req.session_id, user_id)
    except RayguildError as exc:
        log.warning("gateway.resume_lookup_failed", session_id=req.session_id, error=str(exc))
        return None
    if summary is None or summary.seq - req.seq > ctx.config.replay_buffer_events:
        return None  # (out of the buffer: op 9 before anything moved)
    if req.seq > summary.seq:
        raise GatewayClose(CloseCode.INVALID_SEQ, "Invalid seq")
    held = ctx.sessions.hold(user_id, summary.intents, summary.bot, SessionId(req.session_id))
    held.guild_ids.update(summary.guild_ids)
    frames = None
    try:
        await presence_sync.connection(ctx, held, None)  # the user's events come here from now on
        frames = await _take_over(ctx, owner, held, req.seq, summary)
    finally:
        if frames is None:
            await close_everywhere(ctx, held)
    if frames is None:
        return None
    # No await from here on: the session turns live with its replay written first.
    ctx.sessions.attach(held.session_id, sink)
    for frame in frames:
        sink.write(frame)
    ctx.sessions.send(held, "RESUMED", {})
    log.info("gateway.resumed", session_id=held.session_id, replayed=len(frames), moved_from=owner)
    await presence_sync.connection(ctx, held, sink)
    return held


async def _take_over(
    ctx: EdgeContext, owner: int, held: Session, seq: int, summary: SessionSummary
) -> list[bytes] | None:
    """Move the guilds to the held slot, take the session from ``owner``; the frames to write."""
    assert ctx.peers is not None
    guilds = list(summary.guild_ids)
    moves = await asyncio.gather(*(_move(ctx, g, held) for g in guilds))
    moved = [g for g, ok in zip(guilds, moves, strict=True) if ok]
    try:
        handed = await ctx.peers.take(owner, held.session_id, held.user_id, seq, moved, guilds)
    except RayguildError as exc:
        log.warning("gateway.resume_take_failed", session_id=held.session_id, error=str(exc))
        return None
    if handed is None or held.state is not SessionState.HOLDING:
        return None
    held.guild_ids = set(handed.guild_ids)
    return ctx.sessions.rebase(held, seq, handed.events)


async def _move(ctx: EdgeContext, guild_id: int, session: Session) -> bool:
    try:
        return bool(await ctx.guilds.move(guild_id, session.session_id, ctx.sessions.index, session.slot))
    except (TimeoutError, RayguildError) as exc:
        log.warning("gateway.move_failed", guild_id=guild_id, error=str(exc))
        return False


def _shard_of(session_id: str) -> int | None:
    try:
        return session_shard_index(session_id)
    except ValueError:
        return None


async def end_session(ctx: EdgeContext, session: Session, sink: FrameSink, close_code: int) -> None:
    """The socket that carried ``session`` ended: detach (resumable) or close for good."""
    if session.state is SessionState.CLOSED:
        # Closed under us (invalidated as lagging): make sure no guild still sends to its slot,
        # which the shard may hand to a new session. Disconnecting twice is harmless.
        for guild_id in sorted(session.guild_ids):
            await _guarded(ctx.guilds.disconnect(guild_id, session.session_id), "disconnect", guild_id)
        await presence_sync.ended(ctx, session)
        return
    if session.sink is not sink or session.state is not SessionState.CONNECTED:
        return  # resumed on another socket meanwhile
    if close_code in FINAL_CLOSES:
        await close_everywhere(ctx, session)
    else:
        ctx.sessions.detach(session.session_id)
        await presence_sync.connection(ctx, session, None)


async def close_everywhere(ctx: EdgeContext, session: Session) -> None:
    ctx.sessions.close_session(session.session_id)
    for guild_id in sorted(session.guild_ids):
        await _guarded(ctx.guilds.disconnect(guild_id, session.session_id), "disconnect", guild_id)
    await presence_sync.ended(ctx, session)


async def reap_expired(ctx: EdgeContext) -> int:
    """Close every session detached for longer than the replay window; returns how many."""
    expired = ctx.sessions.expired(ctx.config.replay_window_s)
    for session in expired:
        await close_everywhere(ctx, session)
    return len(expired)


async def update_presence(ctx: EdgeContext, session: Session, d: Any) -> None:
    """op 3: rate limited per session (4008 beyond ``presence_updates_per_minute``)."""
    await presence_sync.changed(ctx, session, d)


async def subscribe(ctx: EdgeContext, session: Session, op: Op, d: Any) -> None:
    """op 14 (one guild) and op 37 (many) turn the session active in those guilds."""
    if not isinstance(d, dict):
        return
    raw = [d.get("guild_id")] if op is Op.GUILD_SUBSCRIBE else list(d.get("subscriptions") or {})
    for value in raw:
        guild_id = _as_id(value)
        if guild_id in session.guild_ids:
            await _guarded(ctx.guilds.subscribe(guild_id, session.session_id, True), "subscribe", guild_id)
    ctx.sessions.presence.owe_replace(session.slot)  # the presences of the guilds now in view


async def request_members(ctx: EdgeContext, session: Session, d: Any) -> None:
    """op 8: GUILD_MEMBERS_CHUNK replies of at most 1000 members each.

    The whole member list (empty query, limit 0) needs the GUILD_MEMBERS intent; without it only
    lookups by ``user_ids`` are answered. Requests for guilds the session is not in are ignored.
    """
    if not isinstance(d, dict):
        return
    raw_guilds = d.get("guild_id")
    guild_values = raw_guilds if isinstance(raw_guilds, list) else [raw_guilds]
    nonce = d.get("nonce") if isinstance(d.get("nonce"), str) else None
    for guild_id in (_as_id(v) for v in guild_values):
        if guild_id not in session.guild_ids:
            continue
        members, not_found = await _find_members(ctx, session, guild_id, d)
        count = max(1, math.ceil(len(members) / CHUNK_MEMBERS))
        for index in range(count):
            if session.state is SessionState.CLOSED:
                return
            page = members[index * CHUNK_MEMBERS : (index + 1) * CHUNK_MEMBERS]
            chunk: dict[str, Any] = {
                "guild_id": str(guild_id), "members": page, "chunk_index": index,
                "chunk_count": count, "not_found": not_found if index == 0 else [],
            }  # fmt: skip
            if nonce is not None:
                chunk["nonce"] = nonce[:32]
            if d.get("presences"):
                chunk["presences"] = []
            ctx.sessions.send(session, "GUILD_MEMBERS_CHUNK", chunk)


async def _find_members(
    ctx: EdgeContext, session: Session, guild_id: int, d: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    raw_ids = d.get("user_ids")
    if raw_ids is not None:
        ids = [_as_id(v) for v in (raw_ids if isinstance(raw_ids, list) else [raw_ids])][:100]
        found, missing = [], []
        for user_id in ids:
            member = await ctx.storage.get_member(guild_id, user_id)
            shown = await _shown(ctx, member) if member is not None else None
            if shown is None:
                missing.append(str(user_id))
            else:
                found.append(shown)
        return found, missing
    query = d["query"] if isinstance(d.get("query"), str) else ""
    limit = d["limit"] if isinstance(d.get("limit"), int) else 0
    if not query and not session.intents & GUILD_MEMBERS:
        return [], []
    cap = limit if limit > 0 else (1 << 62 if not query else 100)
    out: list[dict[str, Any]] = []
    page: list[Member] = []
    async for member in ctx.storage.iter_members(guild_id):
        page.append(member)
        if len(page) == MAX_MEMBERS_LIMIT:
            out += await _matching(ctx, page, query, cap - len(out))
            page = []
            if len(out) >= cap:
                return out, []
    out += await _matching(ctx, page, query, cap - len(out))
    return out, []


async def _matching(ctx: EdgeContext, page: list[Member], query: str, room: int) -> list[dict[str, Any]]:
    """Members of one page whose username starts with ``query``: one batched user read a page."""
    users = await ctx.storage.get_users([m.user_id for m in page])
    prefix = query.lower()
    shown = [member_shape(m, users[m.user_id]) for m in page if m.user_id in users]
    return [s for s in shown if s["user"]["username"].lower().startswith(prefix)][: max(0, room)]


async def _shown(ctx: EdgeContext, member: Member) -> dict[str, Any] | None:
    account = await ctx.storage.get_user(member.user_id)
    return None if account is None else member_shape(member, account)


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


async def _guarded(call: Any, what: str, guild_id: int) -> None:
    """A directory call whose failure is logged: the session stays up (the shard may be back soon)."""
    try:
        await call
    except (TimeoutError, RayguildError) as exc:
        log.warning(f"gateway.{what}_failed", guild_id=guild_id, error=str(exc))
