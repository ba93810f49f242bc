"""``GET /channels/{channel_id}/threads/search``: a channel's threads whose names contain every word
asked, as Discord's forum search; active and archived, newest first (by last message, or by
creation with ``sort_by=creation_time``; ``sort_order=asc`` reverses), ``limit`` 1-25 from
``offset``. Only threads the caller may see are found (a private thread: its members, or who may
MANAGE_THREADS); needs READ_MESSAGE_HISTORY in the channel, as the archived lists do. The search
reads the guild's threads from storage (no index), so it is always ready (never Discord's 202).
"""

from __future__ import annotations

from aiohttp import web

from rayguild.fanout.permissions import READ_MESSAGE_HISTORY, VIEW_CHANNEL
from rayguild.http_api import thread_events
from rayguild.http_api.access import channel_request
from rayguild.http_api.errors import invalid_form, json_response
from rayguild.http_api.forms import query_int
from rayguild.http_api.rest_threads import listing
from rayguild.ids import snowflake_time_ms
from rayguild.storage.thread_models import Thread
from rayguild.thread_rules import permissions as thread_permissions

routes = web.RouteTableDef()


def _last_message(thread: Thread) -> int:
    """When the thread last got a message (its creation if none), as Discord's sort reads it."""
    return snowflake_time_ms(thread.last_message_id) if thread.last_message_id else thread.created_at_ms


SORTS = {
    "last_message_time": _last_message,
    "creation_time": lambda t: t.created_at_ms,
    "relevance": _last_message,
}


@routes.get("/channels/{channel_id}/threads/search")
async def search_threads(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(READ_MESSAGE_HISTORY)
    words = (request.query.get("name") or "").lower().split()
    sort_by = request.query.get("sort_by", "last_message_time")
    if sort_by not in SORTS:
        raise invalid_form("sort_by", "BASE_TYPE_CHOICES", f"Value must be one of {tuple(SORTS)}.")
    order = request.query.get("sort_order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_form("sort_order", "BASE_TYPE_CHOICES", "Value must be one of ('asc', 'desc').")
    archived = request.query.get("archived")
    limit, offset = query_int(request, "limit", 25, 1, 25), query_int(request, "offset", 0, 0, 9975)
    matches: list[Thread] = []
    for stored in await ctx.storage.list_threads(found.channel.guild_id):
        if stored.parent_id != found.channel.id or not all(w in stored.name.lower() for w in words):
            continue
        thread = await thread_events.current(ctx, stored)
        if archived is not None and thread.archived != (archived.lower() == "true"):
            continue
        member = thread.private and await ctx.storage.get_thread_member(thread.id, caller.id) is not None
        if thread_permissions(found.permissions, thread, member) & VIEW_CHANNEL:
            matches.append(thread)
    matches.sort(key=SORTS[sort_by], reverse=order == "desc")
    page = matches[offset : offset + limit]
    shown = await listing(ctx, caller, page, offset + limit < len(matches))
    return json_response({**shown, "total_results": len(matches), "first_messages": []})
