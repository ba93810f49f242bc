"""Roles after creation: get one, modify, delete, reorder.

Only roles below the caller's highest role can be changed (the owner changes any), a role never
gains a permission its editor lacks, and @everyone can be neither deleted nor moved. Each change
is durable before GUILD_ROLE_UPDATE / GUILD_ROLE_DELETE (which also updates the guild process's
permissions, so who receives events changes at once) and before its audit entry. A deleted role
is removed from every member holding it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from aiohttp import web

from rayguild.actors.commands import Publish, RoleDeleted, RoleUpserted
from rayguild.fanout.events import GUILDS
from rayguild.fanout.permissions import MANAGE_ROLES
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import (
    INVALID_JSON,
    ApiError,
    invalid_form,
    json_response,
    missing_permissions,
    unknown,
)
from rayguild.http_api.forms import flag, integer, path_id, permission_bits, read_json, role_color, text
from rayguild.http_api.moderation import top_position
from rayguild.http_api.notify import publish
from rayguild.shapes import role as role_shape
from rayguild.storage.models import Role

routes = web.RouteTableDef()

INVALID_ROLE = 50028


def _role_of(access: GuildAccess, role_id: int) -> Role:
    for role in access.roles:
        if role.id == role_id:
            return role
    raise unknown("role")


def _require_below(access: GuildAccess, role: Role) -> None:
    if role.id != access.guild.id and role.position >= top_position(
        access.guild, access.roles, access.member
    ):
        raise missing_permissions()


async def _updated(
    request: web.Request, ctx: EdgeContext, access: GuildAccess, old: Role, new: Role
) -> dict[str, Any]:
    await ctx.storage.put_role(new)
    shown = role_shape(new)
    await publish(ctx, Publish(new.guild_id, "GUILD_ROLE_UPDATE", {"guild_id": str(new.guild_id), "role": shown},
                               intent=GUILDS, change=RoleUpserted(new)))  # fmt: skip
    before, after = role_shape(old), shown
    changes = [audit.change(k, before[k], after[k]) for k in ("name", "permissions", "color", "hoist",
               "mentionable", "position") if before[k] != after[k]]  # fmt: skip
    await audit.record(request, ctx, new.guild_id, access.member.user_id, audit.ROLE_UPDATE, new.id, changes)
    return shown


@routes.get("/guilds/{guild_id}/roles/member-counts")
async def role_member_counts(request: web.Request) -> web.Response:
    """How many members hold each role (@everyone: every member), by one scan of the members."""
    _, ctx, access = await guild_request(request)
    counts = {r.id: 0 for r in access.roles}
    async for member in ctx.storage.iter_members(access.guild.id):
        counts[access.guild.id] = counts.get(access.guild.id, 0) + 1
        for role_id in member.roles:
            if role_id in counts:
                counts[role_id] += 1
    return json_response({str(k): v for k, v in counts.items()})


@routes.get("/guilds/{guild_id}/roles/{role_id}")
async def get_role(request: web.Request) -> web.Response:
    _, _, access = await guild_request(request)
    return json_response(role_shape(_role_of(access, path_id(request, "role_id"))))


@routes.patch("/guilds/{guild_id}/roles/{role_id}")
async def modify_role(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_ROLES)
    role = _role_of(access, path_id(request, "role_id"))
    _require_below(access, role)
    body = await read_json(request)
    changes: dict[str, Any] = {}
    if body.get("name") is not None:
        changes["name"] = text(body, "name", 1, 100)
    if "permissions" in body:
        permissions = permission_bits(body, "permissions", role.permissions)
        if (permissions & ~role.permissions) & ~access.permissions:
            raise missing_permissions()  # a role cannot gain what its editor lacks
        changes["permissions"] = permissions
    if "color" in body or "colors" in body:
        changes["color"] = role_color(body, role.color)
    for field in ("hoist", "mentionable"):
        if field in body:
            changes[field] = flag(body, field, getattr(role, field))
    return json_response(await _updated(request, ctx, access, role, replace(role, **changes)))


@routes.delete("/guilds/{guild_id}/roles/{role_id}")
async def delete_role(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_ROLES)
    role = _role_of(access, path_id(request, "role_id"))
    if role.id == access.guild.id:
        raise ApiError(400, INVALID_ROLE, "Invalid Role: @everyone cannot be deleted")
    _require_below(access, role)
    gid = access.guild.id
    async for member in ctx.storage.iter_members(gid):
        if role.id in member.roles:
            kept = tuple(r for r in member.roles if r != role.id)
            await ctx.storage.put_member(
                replace(member, roles=kept)
            )  # the guild process drops it with the role
    await ctx.storage.delete_role(gid, role.id)
    d = {"guild_id": str(gid), "role_id": str(role.id)}
    await publish(ctx, Publish(gid, "GUILD_ROLE_DELETE", d, intent=GUILDS, change=RoleDeleted(role.id)))
    await audit.record(request, ctx, gid, access.member.user_id, audit.ROLE_DELETE, role.id,
                       [audit.change("name", role.name, None)])  # fmt: skip
    return web.Response(status=204)


@routes.patch("/guilds/{guild_id}/roles")
async def reorder_roles(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_ROLES)
    raw = await read_json_array(request)
    mine = top_position(access.guild, access.roles, access.member)
    moves: dict[int, int] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid_form(str(i), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        role = _role_of(access, _item_id(item, i))
        position = integer(item, "position", role.position, 0, 10_000)
        if role.id == access.guild.id:
            raise ApiError(400, INVALID_ROLE, "Invalid Role: @everyone cannot be moved")
        if role.position >= mine or position >= mine:
            raise missing_permissions()
        moves[role.id] = position
    roles = []
    for role in access.roles:
        if role.id in moves and moves[role.id] != role.position:
            moved = replace(role, position=moves[role.id])
            await _updated(request, ctx, access, role, moved)
            role = moved
        roles.append(role)
    return json_response([role_shape(r) for r in sorted(roles, key=lambda r: (r.position, r.id))])


async def read_json_array(request: web.Request) -> list[Any]:
    """A body that is a JSON array (the position routes); 400 50109 if not JSON, 50035 if no array."""
    try:
        raw = orjson.loads(await request.read() or b"null")
    except orjson.JSONDecodeError:
        raise ApiError(400, INVALID_JSON, "The request body contains invalid JSON.") from None
    if not isinstance(raw, list):
        raise invalid_form("_root", "BASE_TYPE_ARRAY", "Must be an array of {id, position}.")
    return raw


def _item_id(item: dict[str, Any], index: int) -> int:
    try:
        return int(item["id"])
    except (KeyError, TypeError, ValueError):
        raise invalid_form(f"{index}.id", "NUMBER_TYPE_COERCE", "Value is not snowflake.") from None
