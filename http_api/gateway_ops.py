"""What the edge does for each client opcode once the protocol accepted it.

The edge's half is the protocol: authenticate, check intents and the identify limits, write
READY's fields, turn an outcome into a frame or a close code, answer op 8 and op 14/37. The
session's life (open, resume here or from another edge, detach, close, reap, presence records)
is the session-side service ``rayguild.actors.session_lifecycle``, reached through
``ctx.lifecycle`` with commands; its guarantees are stated there.
"""

from __future__ import annotations

import math
from typing import Any

from rayguild.actors.session import FrameSink, Session, SessionState
from rayguild.actors.session_lifecycle import OpenSession, Refused, guarded
from rayguild.fanout.events import ALL_INTENTS, GUILD_MEMBERS
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
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Member
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT

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
    status, activities = presence_sync.parse(ident.presence) or ("online", ())
    ready = {
        "v": 10, "user": user_shape(account),
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_type": "normal",
        "resume_gateway_url": ctx.resume_gateway_url, "shard": [shard_id, shard_count],
        "application": {"id": str(account.id), "flags": 0},
        "private_channels": [], "relationships": [], "presences": [],
        "guild_join_requests": [], "geo_ordered_rtc_regions": [], "auth": {},
    }  # fmt: skip
    session = await ctx.lifecycle.open(OpenSession(
        account.id, intents, account.bot, tuple(guild_ids), ident.large_threshold, ready, sink,
        status, activities,
    ))  # fmt: skip
    if session is None:  # more user events arrived meanwhile than the replay buffer holds
        raise GatewayClose(CloseCode.SESSION_TIMED_OUT, "Session could not be started; identify again")
    return session


async def resume(ctx: EdgeContext, req: Resume, sink: FrameSink) -> Session | None:
    """The resumed session, or None when it cannot be resumed (the caller sends op 9 false)."""
    account = await user_for_token(ctx.storage, _strip_bot(req.token))
    if account is None:
        raise GatewayClose(CloseCode.AUTHENTICATION_FAILED, "Authentication failed")
    outcome = await ctx.lifecycle.resume(req.session_id, account.id, req.seq, sink)
    if outcome is Refused.INVALID_SEQ:
        raise GatewayClose(CloseCode.INVALID_SEQ, "Invalid seq")
    return outcome if isinstance(outcome, Session) else None


async def end_session(ctx: EdgeContext, session: Session, sink: FrameSink, close_code: int) -> None:
    """The socket that carried ``session`` ended: detach (resumable) or close for good."""
    await ctx.lifecycle.end(session, sink, final=close_code in FINAL_CLOSES)


async def reap_expired(ctx: EdgeContext) -> int:
    """Close every session detached for longer than the replay window; returns how many."""
    return await ctx.lifecycle.reap_expired()


async def update_presence(ctx: EdgeContext, session: Session, d: Any) -> None:
    """op 3: rate limited per session (4008 beyond ``presence_updates_per_minute``)."""
    if not await ctx.lifecycle.change_presence(session, presence_sync.parse(d)):
        limit = ctx.config.presence_updates_per_minute
        raise GatewayClose(
            CloseCode.RATE_LIMITED, f"Rate limited: more than {limit} presence updates a minute"
        )


async def subscribe(ctx: EdgeContext, session: Session, op: Op, d: Any) -> None:
    """op 14 (one guild) and op 37 (many) turn the session active in those guilds."""
    if not isinstance(d, dict):
        return
    raw = [d.get("guild_id")] if op is Op.GUILD_SUBSCRIBE else list(d.get("subscriptions") or {})
    for value in raw:
        guild_id = _as_id(value)
        if guild_id in session.guild_ids:
            await guarded(ctx.guilds.subscribe(guild_id, session.session_id, True), "subscribe", guild_id)
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
