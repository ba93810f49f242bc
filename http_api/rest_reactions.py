"""Reactions: add and remove one's own, remove another's, remove all or one emoji's, list users.

The ``{emoji}`` path part is a URL-encoded unicode emoji or a custom ``name:id`` (``a:name:id``
accepted); anything else is 400 10014 Unknown Emoji. Reacting needs READ_MESSAGE_HISTORY, and
ADD_REACTIONS when nobody has reacted with that emoji yet; a message holds at most 20 different
emoji (30010). The limit holds under concurrent adds on any backend without a cross-row
transaction: every add that wrote a reaction counts again after its write and, if the message then
holds more than 20 emoji, takes its own reaction back (30010, nothing dispatched). The last of the
kept adds to count saw every kept reaction, so no more than 20 survive; racing adds at the limit
may all lose (the client retries), a reaction that survives is never taken back. Removing
another's reactions needs MANAGE_MESSAGES. Every change is durable, then
MESSAGE_REACTION_ADD / REMOVE / REMOVE_ALL / REMOVE_EMOJI go to the sessions that may see the
channel and asked for GUILD_MESSAGE_REACTIONS. Repeating an add or a remove changes nothing and
dispatches nothing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rayguild.fanout.events import DIRECT_MESSAGE_REACTIONS, GUILD_MESSAGE_REACTIONS
from rayguild.fanout.permissions import ADD_REACTIONS, MANAGE_MESSAGES, READ_MESSAGE_HISTORY
from rayguild.http_api.access import ChannelAccess
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.emoji import emoji_key, emoji_shape
from rayguild.http_api.errors import ApiError, json_response
from rayguild.http_api.forms import path_id, query_id, query_int
from rayguild.http_api.message_core import dispatch
from rayguild.http_api.rest_messages import addressed_message
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Message
from rayguild.storage.protocol import MAX_REACTION_USERS

routes = web.RouteTableDef()

MAX_REACTIONS = 30010
MAX_EMOJI_PER_MESSAGE = 20
BASE = "/channels/{channel_id}/messages/{message_id}/reactions"


async def _target(request: web.Request) -> tuple[int, EdgeContext, ChannelAccess, Message, str]:
    caller, ctx, found, message = await addressed_message(request)
    found.require(READ_MESSAGE_HISTORY)
    return caller.id, ctx, found, message, emoji_key(request.match_info["emoji"])


async def _event(ctx: EdgeContext, found: ChannelAccess, t: str, d: dict[str, Any]) -> None:
    channel = found.channel
    d["channel_id"] = str(channel.id)
    if channel.guild_id:
        d["guild_id"] = str(channel.guild_id)
    await dispatch(ctx, channel, t, d, GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGE_REACTIONS)


def _too_many() -> ApiError:
    return ApiError(400, MAX_REACTIONS, f"Maximum number of reactions reached ({MAX_EMOJI_PER_MESSAGE})")


async def _distinct(ctx: EdgeContext, channel_id: int, message: Message, user_id: int) -> set[str]:
    counts = (await ctx.storage.reaction_counts(channel_id, [message.id], user_id)).get(message.id, [])
    return {c.emoji for c in counts}


@routes.put(BASE + "/{emoji}/@me")
async def add_reaction(request: web.Request) -> web.Response:
    user_id, ctx, found, message, emoji = await _target(request)
    channel_id = found.channel.id
    before = await _distinct(ctx, channel_id, message, user_id)
    if emoji not in before:
        found.require(ADD_REACTIONS)
        if len(before) >= MAX_EMOJI_PER_MESSAGE:
            raise _too_many()
    if await ctx.storage.add_reaction(channel_id, message.id, emoji, user_id):
        if len(await _distinct(ctx, channel_id, message, user_id)) > MAX_EMOJI_PER_MESSAGE:
            await ctx.storage.remove_reaction(channel_id, message.id, emoji, user_id)  # a racing add won
            raise _too_many()
        d = {
            "user_id": str(user_id), "message_id": str(message.id), "emoji": emoji_shape(emoji),
            "message_author_id": str(message.author_id), "burst": False, "burst_colors": [], "type": 0,
        }  # fmt: skip
        if found.member is not None:  # in a guild
            d["member"] = member_shape(found.member, await ctx.storage.get_user(user_id))
        await _event(ctx, found, "MESSAGE_REACTION_ADD", d)
    return web.Response(status=204)


async def _remove(ctx: EdgeContext, found: ChannelAccess, message: Message, emoji: str, user_id: int) -> None:
    if await ctx.storage.remove_reaction(found.channel.id, message.id, emoji, user_id):
        d = {"user_id": str(user_id), "message_id": str(message.id), "emoji": emoji_shape(emoji),
             "burst": False, "type": 0}  # fmt: skip
        await _event(ctx, found, "MESSAGE_REACTION_REMOVE", d)


@routes.delete(BASE + "/{emoji}/@me")
async def remove_own_reaction(request: web.Request) -> web.Response:
    user_id, ctx, found, message, emoji = await _target(request)
    await _remove(ctx, found, message, emoji, user_id)
    return web.Response(status=204)


@routes.delete(BASE + "/{emoji}/{user_id}")
async def remove_user_reaction(request: web.Request) -> web.Response:
    caller_id, ctx, found, message, emoji = await _target(request)
    user_id = path_id(request, "user_id")
    if user_id != caller_id:
        found.require(MANAGE_MESSAGES)
    await _remove(ctx, found, message, emoji, user_id)
    return web.Response(status=204)


@routes.delete(BASE + "/{emoji}")
async def remove_emoji_reactions(request: web.Request) -> web.Response:
    _, ctx, found, message, emoji = await _target(request)
    found.require(MANAGE_MESSAGES)
    await ctx.storage.remove_reactions(found.channel.id, message.id, emoji)
    d = {"message_id": str(message.id), "emoji": emoji_shape(emoji)}
    await _event(ctx, found, "MESSAGE_REACTION_REMOVE_EMOJI", d)
    return web.Response(status=204)


@routes.delete(BASE)
async def remove_all_reactions(request: web.Request) -> web.Response:
    _, ctx, found, message = await addressed_message(request)
    found.require(MANAGE_MESSAGES)
    await ctx.storage.remove_reactions(found.channel.id, message.id)
    await _event(ctx, found, "MESSAGE_REACTION_REMOVE_ALL", {"message_id": str(message.id)})
    return web.Response(status=204)


@routes.get(BASE + "/{emoji}")
async def reaction_users(request: web.Request) -> web.Response:
    _, ctx, found, message, emoji = await _target(request)
    limit = query_int(request, "limit", 25, 1, MAX_REACTION_USERS)
    after = query_id(request, "after") or 0
    if query_int(request, "type", 0, 0, 1) == 1:
        return json_response([])  # no super (burst) reactions exist here
    ids = await ctx.storage.reaction_users(found.channel.id, message.id, emoji, after, limit)
    users = await ctx.storage.get_users(ids)
    return json_response([user_shape(users[i]) for i in ids if i in users])
