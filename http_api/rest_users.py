"""Users, the caller's application and the gateway URL: what a client reads when it logs in."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rayguild.fanout.permissions import base_permissions
from rayguild.http_api import identify_limits
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import json_response, unknown
from rayguild.http_api.forms import path_id, query_id, query_int
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.rest_applications import application_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.models import User

routes = web.RouteTableDef()


def private_user(account: User) -> dict[str, Any]:
    """The caller's own user object (Discord adds the PII fields)."""
    return {
        **user_shape(account),
        "locale": "en-US",
        "verified": True,
        "email": None,
        "premium_type": 0,
    }


@routes.get("/users/@me")
async def me(request: web.Request) -> web.Response:
    return json_response(private_user(await authenticate(request)))


@routes.get("/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    await authenticate(request)
    account = await ctx_of(request).storage.get_user(path_id(request, "user_id"))
    if account is None:
        raise unknown("user")
    return json_response(user_shape(account))


@routes.get("/users/@me/guilds")
async def my_guilds(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    limit = query_int(request, "limit", 200, 1, 200)
    after, before = query_id(request, "after"), query_id(request, "before")
    ids = [
        g for g in await ctx.storage.guilds_of_user(caller.id)
        if (after is None or g > after) and (before is None or g < before)
    ]  # fmt: skip
    ids = ids[-limit:] if before is not None and after is None else ids[:limit]
    out: list[dict[str, Any]] = []
    for guild_id in ids:
        guild = await ctx.storage.get_guild(guild_id)
        member = await ctx.storage.get_member(guild_id, caller.id)
        if guild is None or member is None:
            continue
        roles = {r.id: r.permissions for r in await ctx.storage.list_roles(guild_id)}
        perms = base_permissions(guild_id, guild.owner_id, caller.id, roles, member.roles)
        out.append({
            "id": str(guild.id), "name": guild.name, "icon": guild.icon, "banner": None,
            "owner": guild.owner_id == caller.id, "permissions": str(perms), "features": [],
        })  # fmt: skip
    return json_response(out)


@routes.get("/oauth2/applications/@me")
async def my_application(request: web.Request) -> web.Response:
    """A bot's application has the bot's id (as on Discord for current applications)."""
    caller = await authenticate(request)
    stored = await ctx_of(request).storage.get_setting(caller.id, "application")
    return json_response(application_shape(caller, json.loads(stored) if stored else {}))


@routes.get("/gateway")
async def gateway(request: web.Request) -> web.Response:
    return json_response({"url": ctx_of(request).config.gateway_url})


@routes.get("/gateway/bot")
async def gateway_bot(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    limit = await identify_limits.standing_of(ctx.storage, ctx.config, caller.id)
    guilds = len(await ctx.storage.guilds_of_user(caller.id))
    return json_response({
        "url": ctx.config.gateway_url, "shards": identify_limits.recommended_shards(guilds),
        "session_start_limit": limit.shape(),
    })  # fmt: skip
