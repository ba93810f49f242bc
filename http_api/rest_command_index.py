"""The application commands a user can run in a channel, as Discord's own client asks for them:
``GET /channels/{channel_id}/application-command-index`` -> ``{applications,
application_commands, version}`` (each bot in the channel's guild with its global and guild
commands). The web client's slash-command picker reads it.

Bound: the bots are found among the guild's first ``MAX_MEMBERS_SCANNED`` members (by user id),
one page at a time; rayguild has no per-guild list of installed applications yet.
"""

from __future__ import annotations

from aiohttp import web

from rayguild.http_api.access import channel_request
from rayguild.http_api.errors import json_response
from rayguild.http_api.rest_commands import GLOBAL, command_shape

routes = web.RouteTableDef()

MAX_MEMBERS_SCANNED = 10_000
PAGE = 1000


@routes.get("/channels/{channel_id}/application-command-index")
async def command_index(request: web.Request) -> web.Response:
    _, ctx, access = await channel_request(request)
    guild_id = access.channel.guild_id
    applications, commands = [], []
    if guild_id is not None:
        after, scanned = 0, 0
        while scanned < MAX_MEMBERS_SCANNED:
            page = await ctx.storage.list_members(guild_id, after=after, limit=PAGE)
            if not page:
                break
            scanned += len(page)
            after = page[-1].user_id
            last = len(page) < PAGE
            users = await ctx.storage.get_users([m.user_id for m in page])
            for bot in (u for u in users.values() if u.bot):
                found = [
                    *await ctx.storage.list_commands(bot.id, GLOBAL),
                    *await ctx.storage.list_commands(bot.id, guild_id),
                ]
                if found:
                    applications.append({"id": str(bot.id), "name": bot.username, "icon": bot.avatar,
                                         "description": "", "bot_id": str(bot.id)})  # fmt: skip
                    commands += [command_shape(c) for c in found]
            if last:
                break
    version = max((int(c["version"]) for c in commands), default=0)
    return json_response(
        {"applications": applications, "application_commands": commands, "version": str(version)}
    )
