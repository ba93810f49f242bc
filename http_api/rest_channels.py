"""One guild channel: get, modify (MANAGE_CHANNELS), delete (MANAGE_CHANNELS); a thread's id is
handed to ``rest_threads``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from rayguild.actors.commands import ChannelDeleted, ChannelUpserted, Publish
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import MANAGE_CHANNELS
from rayguild.http_api import audit, dms, rest_threads, thread_sync
from rayguild.http_api.access import channel_access, channel_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import json_response
from rayguild.http_api.extra_fields import channel_extras, patch_channel_extras
from rayguild.http_api.forms import integer, optional_id, path_id, read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.moderation import in_guild
from rayguild.http_api.notify import publish
from rayguild.http_api.overwrites import parse_overwrites
from rayguild.http_api.rest_attachments import forget_channel_files
from rayguild.shapes import channel as channel_shape
from rayguild.storage.thread_models import THREAD_TYPES

routes = web.RouteTableDef()


@routes.get("/channels/{channel_id}")
async def get_channel(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    found = await channel_access(ctx, path_id(request, "channel_id"), caller)
    if found.channel.type in THREAD_TYPES:
        return await rest_threads.show(ctx, found, caller)
    if found.access is None:  # a DM channel, as its user sees it
        return json_response(await dms.shown(ctx, found.channel.id, caller.id))
    return json_response({**channel_shape(found.channel), **await channel_extras(ctx, found.channel)})


@routes.patch("/channels/{channel_id}")
async def modify_channel(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    if found.channel.type in THREAD_TYPES:
        return await rest_threads.modify(request, ctx, found, caller)
    found.require(MANAGE_CHANNELS)
    body = await read_json(request)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = text(body, "name", 1, 100)
    if "topic" in body:
        changes["topic"] = text(body, "topic", 0, 1024, required=False)
    if "position" in body:
        changes["position"] = integer(body, "position", found.channel.position, 0, 10_000)
    if "parent_id" in body:
        changes["parent_id"] = optional_id(body, "parent_id")
    if "permission_overwrites" in body:
        changes["permission_overwrites"] = parse_overwrites(body)
    extras, extra_changes = await patch_channel_extras(ctx, found.channel, body)  # extra_fields.py's
    channel = replace(found.channel, **changes)
    await ctx.storage.put_channel(channel)
    shown = {**channel_shape(channel), **extras}
    await audit.record(request, ctx, channel.guild_id, in_guild(found).member.user_id, audit.CHANNEL_UPDATE, channel.id,
                       [audit.change(k, None, shown[k]) for k in changes] + extra_changes)  # fmt: skip
    await publish(ctx, Publish(channel.guild_id, "CHANNEL_UPDATE", shown, intent=GUILDS,
                               change=ChannelUpserted(channel)))  # fmt: skip
    if "permission_overwrites" in changes:
        await thread_sync.after_overwrites(ctx, found.channel, channel)
    return json_response(shown)


@routes.delete("/channels/{channel_id}")
async def delete_channel(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    if found.channel.type in THREAD_TYPES:
        return await rest_threads.delete(ctx, found)
    found.require(MANAGE_CHANNELS)
    # No guild cache stamp: a deleted channel is refused before its cached slowmode is read, and
    # channel ids are never reused; its entry goes with the guild's (TTL, LRU, or the next change).
    await ctx.storage.delete_channel(found.channel.id)
    await forget_channel_files(ctx.storage.blobs, [found.channel.id])
    shown = channel_shape(found.channel)
    await audit.record(request, ctx, found.channel.guild_id, in_guild(found).member.user_id, audit.CHANNEL_DELETE,
                       found.channel.id, [audit.change("name", found.channel.name, None)])  # fmt: skip
    await publish(ctx, Publish(found.channel.guild_id, "CHANNEL_DELETE", shown, intent=GUILDS,
                               change=ChannelDeleted(found.channel.id)))  # fmt: skip
    return json_response(shown)
