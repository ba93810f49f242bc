"""One channel permission overwrite: ``PUT`` / ``DELETE /channels/{channel_id}/permissions/{id}``.

Needs MANAGE_ROLES in the channel, and (unless the caller administers the guild) only bits the
caller has there may be allowed or denied. The channel is durable with its new overwrites before
CHANNEL_UPDATE, whose ``ChannelUpserted`` change makes the guild process recompute who sees the
channel, so a member who loses VIEW_CHANNEL stops receiving its events from the next one on.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from rayguild.actors.commands import ChannelUpserted, Publish
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import ADMINISTRATOR, MANAGE_ROLES
from rayguild.http_api import audit, thread_sync
from rayguild.http_api.access import ChannelAccess, channel_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import invalid_form, missing_permissions, unknown
from rayguild.http_api.forms import path_id, permission_bits, read_json
from rayguild.http_api.moderation import in_guild
from rayguild.http_api.notify import publish
from rayguild.shapes import channel as channel_shape
from rayguild.storage.models import Overwrite

routes = web.RouteTableDef()


async def _save(
    request: web.Request, ctx: EdgeContext, found: ChannelAccess, overwrites: tuple[Overwrite, ...], action: int,
    target: Overwrite,
) -> None:  # fmt: skip
    channel = replace(found.channel, permission_overwrites=overwrites)
    await ctx.storage.put_channel(channel)
    await publish(ctx, Publish(channel.guild_id, "CHANNEL_UPDATE", channel_shape(channel), intent=GUILDS,
                               change=ChannelUpserted(channel)))  # fmt: skip
    await thread_sync.after_overwrites(ctx, found.channel, channel)
    options = {"id": str(target.id), "type": str(target.type)}
    changes = [audit.change("allow", None, str(target.allow)), audit.change("deny", None, str(target.deny))]
    await audit.record(request, ctx, channel.guild_id, in_guild(found).member.user_id, action, channel.id,
                       changes if action != audit.CHANNEL_OVERWRITE_DELETE else [], options)  # fmt: skip


@routes.put("/channels/{channel_id}/permissions/{overwrite_id}")
async def put_overwrite(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(MANAGE_ROLES)
    target_id = path_id(request, "overwrite_id")
    body = await read_json(request)
    kind = body.get("type")
    if kind not in (0, 1, "0", "1"):
        raise invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1).")
    overwrite = Overwrite(
        target_id, int(kind), permission_bits(body, "allow", 0), permission_bits(body, "deny", 0)
    )
    if (
        not in_guild(found).permissions & ADMINISTRATOR
        and (overwrite.allow | overwrite.deny) & ~found.permissions
    ):
        raise missing_permissions()  # only bits the caller holds here
    gid = found.channel.guild_id
    if overwrite.type == 0 and target_id not in {r.id for r in in_guild(found).roles}:
        raise unknown("role")
    if overwrite.type == 1 and await ctx.storage.get_member(gid, target_id) is None:
        raise unknown("member")
    others = tuple(o for o in found.channel.permission_overwrites if o.id != target_id)
    existed = len(others) != len(found.channel.permission_overwrites)
    action = audit.CHANNEL_OVERWRITE_UPDATE if existed else audit.CHANNEL_OVERWRITE_CREATE
    await _save(request, ctx, found, (*others, overwrite), action, overwrite)
    return web.Response(status=204)


@routes.delete("/channels/{channel_id}/permissions/{overwrite_id}")
async def delete_overwrite(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(MANAGE_ROLES)
    target_id = path_id(request, "overwrite_id")
    gone = [o for o in found.channel.permission_overwrites if o.id == target_id]
    if gone:
        kept = tuple(o for o in found.channel.permission_overwrites if o.id != target_id)
        await _save(request, ctx, found, kept, audit.CHANNEL_OVERWRITE_DELETE, gone[0])
    return web.Response(status=204)
