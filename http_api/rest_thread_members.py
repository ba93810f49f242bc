"""Thread members: join, leave, add, remove, get and list (``with_member`` adds the guild member).

Joining needs sight of the thread (a private thread: an invitation, or MANAGE_THREADS) and an
unarchived thread; adding another needs the right to send in it (and MANAGE_THREADS in a private
thread that is not invitable, unless the caller owns it); removing another needs MANAGE_THREADS
(or owning the private thread). Joining needs SEND_MESSAGES_IN_THREADS, which a timeout masks away: a timed-out member cannot join.
A user added to a private thread receives THREAD_CREATE with their member object; everyone
affected receives THREAD_MEMBERS_UPDATE (``thread_events``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rayguild import shapes
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import MANAGE_THREADS, SEND_MESSAGES, SEND_MESSAGES_IN_THREADS
from rayguild.http_api import thread_events
from rayguild.http_api.access import ChannelAccess, channel_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, json_response, unknown
from rayguild.http_api.forms import path_id, query_id, query_int
from rayguild.http_api.rest_threads import stored_thread
from rayguild.storage.models import User
from rayguild.storage.thread_models import Thread, ThreadMember
from rayguild.thread_rules import member_json, thread_json

routes = web.RouteTableDef()
Json = dict[str, Any]

THREAD_ARCHIVED = 50083


def _not_archived(thread: Thread) -> None:
    if thread.archived:
        raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")


async def _guild_member(ctx: EdgeContext, guild_id: int, user_id: int) -> Json | None:
    member = await ctx.storage.get_member(guild_id, user_id)
    user = await ctx.storage.get_user(user_id)
    return shapes.member(member, user) if member is not None and user is not None else None


async def _add(ctx: EdgeContext, thread: Thread, user_id: int) -> web.Response:
    guild_member = await _guild_member(ctx, thread.guild_id, user_id)
    if guild_member is None:
        raise unknown("member")
    added = ThreadMember(thread.id, user_id, thread_events.now_ms())
    if await ctx.storage.add_thread_member(added):
        thread = (await ctx.storage.get_thread(thread.id)) or thread
        if thread.private:
            d = thread_json(thread, added)
            await thread_events.deliver(ctx, [user_id], "THREAD_CREATE", d, GUILDS)
        await thread_events.members_update(ctx, thread, added=added, added_member=guild_member)
        await thread_events.member_update(ctx, thread, added)
    return web.Response(status=204)


async def _remove(ctx: EdgeContext, thread: Thread, user_id: int) -> web.Response:
    if await ctx.storage.remove_thread_member(thread.id, user_id):
        thread = (await ctx.storage.get_thread(thread.id)) or thread
        await thread_events.members_update(ctx, thread, removed=user_id)
    return web.Response(status=204)


async def _thread_request(request: web.Request) -> tuple[User, EdgeContext, ChannelAccess, Thread]:
    caller, ctx, found = await channel_request(request)
    return caller, ctx, found, await stored_thread(ctx, found)


@routes.put("/channels/{channel_id}/thread-members/@me")
async def join(request: web.Request) -> web.Response:
    caller, ctx, found, thread = await _thread_request(request)
    _not_archived(thread)
    found.require(SEND_MESSAGES_IN_THREADS)  # masked away while the member is timed out
    return await _add(ctx, thread, caller.id)


@routes.delete("/channels/{channel_id}/thread-members/@me")
async def leave(request: web.Request) -> web.Response:
    caller, ctx, _, thread = await _thread_request(request)
    _not_archived(thread)
    return await _remove(ctx, thread, caller.id)


@routes.put("/channels/{channel_id}/thread-members/{user_id}")
async def add_member(request: web.Request) -> web.Response:
    caller, ctx, found, thread = await _thread_request(request)
    _not_archived(thread)
    found.require(SEND_MESSAGES)
    if thread.private and not thread.invitable and thread.owner_id != caller.id:
        found.require(MANAGE_THREADS)
    return await _add(ctx, thread, path_id(request, "user_id"))


@routes.delete("/channels/{channel_id}/thread-members/{user_id}")
async def remove_member(request: web.Request) -> web.Response:
    caller, ctx, found, thread = await _thread_request(request)
    _not_archived(thread)
    if not (thread.private and thread.owner_id == caller.id):
        found.require(MANAGE_THREADS)
    return await _remove(ctx, thread, path_id(request, "user_id"))


def _with_member(request: web.Request) -> bool:
    return request.query.get("with_member", "false").lower() in ("true", "1")


@routes.get("/channels/{channel_id}/thread-members/{user_id}")
async def get_member(request: web.Request) -> web.Response:
    _, ctx, _, thread = await _thread_request(request)
    found = await ctx.storage.get_thread_member(thread.id, path_id(request, "user_id"))
    if found is None:
        raise unknown("member")
    guild_member = await _guild_member(ctx, thread.guild_id, found.user_id) if _with_member(request) else None
    return json_response(member_json(found, guild_member))


@routes.get("/channels/{channel_id}/thread-members")
async def list_members(request: web.Request) -> web.Response:
    _, ctx, _, thread = await _thread_request(request)
    after = query_id(request, "after") or 0
    limit = query_int(request, "limit", 100, 1, 100)
    page = await ctx.storage.list_thread_members(thread.id, after, limit)
    with_member = _with_member(request)
    shown = [
        member_json(m, await _guild_member(ctx, thread.guild_id, m.user_id) if with_member else None)
        for m in page
    ]
    return json_response(shown)
