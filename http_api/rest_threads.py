"""Threads: create (from a message or without one), read, modify (archive, lock, rename...),
delete, and the active and archived lists.

A thread started from a message takes the message's id and marks it with HAS_THREAD; threads are
created only under text channels. Creation needs CREATE_PUBLIC_THREADS / CREATE_PRIVATE_THREADS
in the parent; the creator is the first member. Editing needs MANAGE_THREADS, except that the
owner may rename, archive and set the auto-archive duration, and anyone who may send in an
unlocked thread may unarchive it. Archived lists are newest-archived first (``before`` an ISO
time), the caller's private archived threads newest-id first (``before`` an id). A webhook
posts into a thread of its channel through ``thread_under``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import (
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    MANAGE_THREADS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from rayguild.http_api import thread_events
from rayguild.http_api.access import ChannelAccess, channel_access, channel_request, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, missing_permissions, unknown
from rayguild.http_api.forms import flag, integer, path_id, query_id, query_int, read_json, snowflake, text
from rayguild.storage.models import Channel, User
from rayguild.storage.thread_models import (
    AUTO_ARCHIVE_MINUTES,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Thread,
    ThreadMember,
)
from rayguild.thread_rules import (
    HAS_THREAD,
    as_channel,
    member_json,
    thread_json,
)
from rayguild.thread_rules import permissions as thread_permissions

routes = web.RouteTableDef()
Json = dict[str, Any]

TEXT_CHANNEL = 0
THREAD_ALREADY_CREATED = 160004
WRONG_CHANNEL_TYPE = 50024
MAX_SLOWMODE_S = 21_600


def _duration(body: Json, default: int) -> int:
    value = integer(body, "auto_archive_duration", default, 60, 10_080)
    if value not in AUTO_ARCHIVE_MINUTES:
        raise invalid_form("auto_archive_duration", "BASE_TYPE_CHOICES",
                           f"Value must be one of {AUTO_ARCHIVE_MINUTES}.")  # fmt: skip
    return value


def _tags(body: Json) -> tuple[int, ...] | None:
    raw = body.get("applied_tags")
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > 5:
        raise invalid_form("applied_tags", "BASE_TYPE_MAX_LENGTH", "Must be a list of at most 5 ids.")
    return tuple(snowflake(v, f"applied_tags.{i}") for i, v in enumerate(raw))


def _text_parent(found: ChannelAccess) -> Channel:
    if found.channel.type != TEXT_CHANNEL:
        raise ApiError(400, WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
    return found.channel


async def _start(ctx: EdgeContext, caller: User, thread: Thread) -> web.Response:
    """Store a new thread with its creator as first member, announce it, answer 201."""
    await ctx.storage.put_thread(thread)
    me = ThreadMember(thread.id, caller.id, thread.created_at_ms)
    await ctx.storage.add_thread_member(me)
    thread = (await ctx.storage.get_thread(thread.id)) or thread
    if thread.private:  # only its members see it: the creator, for now
        d = {**thread_json(thread, me), "newly_created": True}
        await thread_events.deliver(ctx, [caller.id], "THREAD_CREATE", d, GUILDS)
    else:
        d = {**thread_json(thread), "newly_created": True}
        await thread_events.to_viewers(ctx, thread, "THREAD_CREATE", d)
        await thread_events.members_update(ctx, thread, added=me)
    await thread_events.member_update(ctx, thread, me)
    return json_response(thread_json(thread, me), status=201)


@routes.post("/channels/{channel_id}/messages/{message_id}/threads")
async def start_from_message(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    parent = _text_parent(found)
    found.require(CREATE_PUBLIC_THREADS | READ_MESSAGE_HISTORY)
    message = await ctx.storage.get_message(parent.id, path_id(request, "message_id"))
    if message is None:
        raise unknown("message")
    if await ctx.storage.get_thread(message.id) is not None:
        raise ApiError(400, THREAD_ALREADY_CREATED, "A thread has already been created for this message")
    body = await read_json(request)
    now = thread_events.now_ms()
    thread = Thread(
        id=message.id, guild_id=parent.guild_id, parent_id=parent.id, owner_id=caller.id,
        name=text(body, "name", 1, 100) or "", type=PUBLIC_THREAD,
        auto_archive_duration=_duration(body, 1440), archive_timestamp_ms=now,
        rate_limit_per_user=integer(body, "rate_limit_per_user", 0, 0, MAX_SLOWMODE_S), created_at_ms=now,
    )  # fmt: skip
    await ctx.storage.edit_message(replace(message, flags=message.flags | HAS_THREAD))
    return await _start(ctx, caller, thread)


@routes.post("/channels/{channel_id}/threads")
async def start_without_message(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    parent = _text_parent(found)
    body = await read_json(request)
    kind = integer(body, "type", PRIVATE_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
    found.require(CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS)
    now = thread_events.now_ms()
    thread = Thread(
        id=ctx.snowflakes.next(), guild_id=parent.guild_id, parent_id=parent.id, owner_id=caller.id,
        name=text(body, "name", 1, 100) or "", type=kind, invitable=flag(body, "invitable", True),
        auto_archive_duration=_duration(body, 1440), archive_timestamp_ms=now,
        rate_limit_per_user=integer(body, "rate_limit_per_user", 0, 0, MAX_SLOWMODE_S),
        applied_tags=_tags(body) or (), created_at_ms=now,
    )  # fmt: skip
    return await _start(ctx, caller, thread)


async def stored_thread(ctx: EdgeContext, found: ChannelAccess) -> Thread:
    """The stored thread ``found`` names (already current: ``access`` archived it if idle)."""
    thread = await ctx.storage.get_thread(found.channel.id)
    if thread is None:
        raise unknown("channel")
    return thread


async def thread_under(ctx: EdgeContext, parent: Channel, thread_id: int) -> Channel:
    """Thread ``thread_id`` of ``parent`` as a channel, for a webhook of the parent posting into
    it (``?thread_id=``); 400 50035 if it is not one of the parent's threads."""
    thread = await ctx.storage.get_thread(thread_id)
    if thread is None or thread.parent_id != parent.id:
        raise invalid_form("thread_id", "CHANNEL_TYPE_INVALID", "Unknown thread of this channel")
    return as_channel(thread, parent)


async def show(ctx: EdgeContext, found: ChannelAccess, caller: User) -> web.Response:
    """``GET /channels/{thread}`` (``rest_channels`` hands threads here)."""
    thread = await stored_thread(ctx, found)
    return json_response(thread_json(thread, await ctx.storage.get_thread_member(thread.id, caller.id)))


async def modify(request: web.Request, ctx: EdgeContext, found: ChannelAccess, caller: User) -> web.Response:
    """``PATCH /channels/{thread}``: name, archived, locked, auto_archive_duration, invitable,
    rate_limit_per_user, applied_tags; THREAD_UPDATE to the thread's viewers."""
    thread = await stored_thread(ctx, found)
    body = await read_json(request)
    manager = bool(found.permissions & MANAGE_THREADS)
    owner = thread.owner_id == caller.id
    changes: Json = {}
    if "name" in body:
        changes["name"] = text(body, "name", 1, 100)
    if "auto_archive_duration" in body:
        changes["auto_archive_duration"] = _duration(body, thread.auto_archive_duration)
    if "applied_tags" in body:
        changes["applied_tags"] = _tags(body) or ()
    if "locked" in body:
        changes["locked"] = flag(body, "locked", thread.locked)
    if "invitable" in body and thread.private:
        changes["invitable"] = flag(body, "invitable", thread.invitable)
    if "rate_limit_per_user" in body:
        changes["rate_limit_per_user"] = integer(body, "rate_limit_per_user", 0, 0, MAX_SLOWMODE_S)
    archived = flag(body, "archived", thread.archived) if "archived" in body else thread.archived
    if not manager:
        reopening_only = not changes and not archived and not thread.locked
        if reopening_only:
            found.require(SEND_MESSAGES)
        elif not owner or {"locked", "invitable", "rate_limit_per_user"} & changes.keys() or thread.locked:
            raise missing_permissions()
    if archived != thread.archived:
        changes.update(archived=archived, archive_timestamp_ms=thread_events.now_ms())
    edited = replace(thread, **changes)
    if edited != thread:
        if edited.rate_limit_per_user != thread.rate_limit_per_user:  # every edge reads it again
            await ctx.guild_cache.write(ctx.storage, edited.guild_id, ctx.storage.put_thread(edited))
        else:
            await ctx.storage.put_thread(edited)
        await thread_events.updated(ctx, edited)
    return json_response(thread_json(edited, await ctx.storage.get_thread_member(thread.id, caller.id)))


async def delete(ctx: EdgeContext, found: ChannelAccess) -> web.Response:
    """``DELETE /channels/{thread}`` (MANAGE_THREADS): THREAD_DELETE to who could see it."""
    found.require(MANAGE_THREADS)
    thread = await stored_thread(ctx, found)
    d = {"id": str(thread.id), "guild_id": str(thread.guild_id), "parent_id": str(thread.parent_id),
         "type": thread.type}  # fmt: skip
    viewers = await thread_events.member_ids(ctx, thread.id) if thread.private else []
    await ctx.storage.delete_thread(thread.id)
    if thread.private:
        await thread_events.deliver(ctx, viewers, "THREAD_DELETE", d, GUILDS)
    else:
        await thread_events.to_viewers(ctx, thread, "THREAD_DELETE", d)
    return json_response(thread_json(thread))


async def listing(ctx: EdgeContext, caller: User, threads: list[Thread], has_more: bool = False) -> Json:
    mine = [m for m in [await ctx.storage.get_thread_member(t.id, caller.id) for t in threads] if m]
    return {
        "threads": [thread_json(t) for t in threads],
        "members": [member_json(m) for m in mine],
        "has_more": has_more,
    }


@routes.get("/guilds/{guild_id}/threads/active")
async def active_threads(request: web.Request) -> web.Response:
    """Every unarchived thread the caller may see (idle ones are archived on the way)."""
    caller, ctx, access = await guild_request(request)
    visible: list[Thread] = []
    parents: dict[int, int] = {}
    for stored in await ctx.storage.list_threads(access.guild.id):
        thread = await thread_events.current(ctx, stored)
        if thread.archived:
            continue
        if thread.parent_id not in parents:
            try:
                parents[thread.parent_id] = (await channel_access(ctx, thread.parent_id, caller)).permissions
            except ApiError:
                parents[thread.parent_id] = 0
        member = thread.private and await ctx.storage.get_thread_member(thread.id, caller.id) is not None
        if thread_permissions(parents[thread.parent_id], thread, member) & VIEW_CHANNEL:
            visible.append(thread)
    return json_response(await listing(ctx, caller, visible))


def _before_time(request: web.Request) -> int | None:
    raw = request.query.get("before")
    if raw is None:
        return None
    try:
        return int(datetime.fromisoformat(raw).timestamp() * 1000)
    except ValueError:
        raise invalid_form("before", "DATE_TIME_TYPE_PARSE", "Could not parse timestamp.") from None


async def _archived(request: web.Request, kind: int) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY | (MANAGE_THREADS if kind == PRIVATE_THREAD else 0))
    before = _before_time(request)
    limit = query_int(request, "limit", 50, 2, 100)
    archived = [
        t for t in [await thread_events.current(ctx, t) for t in await ctx.storage.list_threads(found.channel.guild_id)]
        if t.parent_id == found.channel.id and t.type == kind and t.archived
        and (before is None or t.archive_timestamp_ms < before)
    ]  # fmt: skip
    archived.sort(key=lambda t: t.archive_timestamp_ms, reverse=True)
    return json_response(await listing(ctx, caller, archived[:limit], len(archived) > limit))


@routes.get("/channels/{channel_id}/threads/archived/public")
async def archived_public(request: web.Request) -> web.Response:
    return await _archived(request, PUBLIC_THREAD)


@routes.get("/channels/{channel_id}/threads/archived/private")
async def archived_private(request: web.Request) -> web.Response:
    return await _archived(request, PRIVATE_THREAD)


@routes.get("/channels/{channel_id}/users/@me/threads/archived/private")
async def my_archived_private(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY)
    before = query_id(request, "before")
    limit = query_int(request, "limit", 50, 2, 100)
    mine: list[Thread] = []
    for thread_id in sorted(await ctx.storage.threads_of_user(caller.id), reverse=True):
        stored = await ctx.storage.get_thread(thread_id)
        thread = await thread_events.current(ctx, stored) if stored is not None else None
        if (thread is not None and thread.parent_id == found.channel.id and thread.private
                and thread.archived and (before is None or thread.id < before)):  # fmt: skip
            mine.append(thread)
    return json_response(await listing(ctx, caller, mine[:limit], len(mine) > limit))
