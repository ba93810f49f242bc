"""Application commands, global (``/applications/{app}/commands``) and per guild
(``/applications/{app}/guilds/{g}/commands``): create, get, list, edit, delete, bulk overwrite.

Only the application's own bot manages its commands (an application's id is its bot's user id;
anyone else gets 403 20012); a guild scope needs the bot in the guild (404 10004 / 403 50001).
Create upserts by (type, name) as Discord does: an existing command keeps its id (200), a new one
is 201. Bulk overwrite keeps the ids of commands whose (type, name) already existed and leaves
exactly the given commands. Every change gets a new ``version``; a command unchanged by a bulk
overwrite keeps its version. Limits: 100 chat-input, 15 user and 15 message commands per scope
(400 30032 beyond).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from rayguild.http_api import command_forms
from rayguild.http_api.access import guild_access
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import INVALID_JSON, ApiError, invalid_form, json_response
from rayguild.http_api.forms import path_id
from rayguild.http_api.keys import ctx_of
from rayguild.storage.bots_protocol import AppCommand

routes = web.RouteTableDef()
Json = dict[str, Any]

NOT_APPLICATION_OWNER = 20012
MAX_COMMANDS_REACHED = 30032
UNKNOWN_COMMAND = 10063
MAX_PER_TYPE = {command_forms.CHAT_INPUT: 100, command_forms.USER: 15, command_forms.MESSAGE: 15, 4: 1}
GLOBAL = 0


def command_shape(c: AppCommand) -> Json:
    """The command as Discord returns it."""
    out: Json = {"id": str(c.id), "application_id": str(c.application_id), "version": str(c.version)}
    out.update(orjson.loads(c.body))
    if c.guild_id != GLOBAL:
        out["guild_id"] = str(c.guild_id)
    return out


def unknown_command() -> ApiError:
    return ApiError(404, UNKNOWN_COMMAND, "Unknown application command")


async def _scope(request: web.Request) -> tuple[int, int]:
    """(application id, guild id or 0) after checking the caller may manage that scope."""
    caller = await authenticate(request)
    app_id = path_id(request, "application_id")
    if not caller.bot or caller.id != app_id:
        raise ApiError(403, NOT_APPLICATION_OWNER,
                       "You are not authorized to perform this action on this application")  # fmt: skip
    if "guild_id" not in request.match_info:
        return app_id, GLOBAL
    guild_id = path_id(request, "guild_id")
    await guild_access(ctx_of(request), guild_id, caller)
    return app_id, guild_id


def _stored(app_id: int, guild_id: int, command_id: int, version: int, body: Json) -> AppCommand:
    return AppCommand(
        command_id, app_id, guild_id, body["name"], body["type"], version, orjson.dumps(body).decode()
    )


def _check_room(existing: list[AppCommand], kind: int) -> None:
    if sum(c.type == kind for c in existing) >= MAX_PER_TYPE[kind]:
        raise ApiError(400, MAX_COMMANDS_REACHED,
                       f"Maximum number of application commands reached ({MAX_PER_TYPE[kind]})")  # fmt: skip


async def _read_body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise ApiError(400, INVALID_JSON, "The request body contains invalid JSON.") from None


async def _addressed(request: web.Request) -> tuple[int, int, AppCommand]:
    app_id, guild_id = await _scope(request)
    found = await ctx_of(request).storage.get_command(app_id, guild_id, path_id(request, "command_id"))
    if found is None:
        raise unknown_command()
    return app_id, guild_id, found


async def list_commands(request: web.Request) -> web.Response:
    app_id, guild_id = await _scope(request)
    commands = await ctx_of(request).storage.list_commands(app_id, guild_id)
    return json_response([command_shape(c) for c in commands])


async def create_command(request: web.Request) -> web.Response:
    app_id, guild_id = await _scope(request)
    ctx = ctx_of(request)
    body = command_forms.command(await _read_body(request), global_scope=guild_id == GLOBAL)
    existing = await ctx.storage.list_commands(app_id, guild_id)
    same = next((c for c in existing if (c.type, c.name) == (body["type"], body["name"])), None)
    if same is None:
        _check_room(existing, body["type"])
    command_id = same.id if same is not None else ctx.snowflakes.next()
    stored = _stored(app_id, guild_id, command_id, ctx.snowflakes.next(), body)
    await ctx.storage.put_command(stored)
    return json_response(command_shape(stored), status=200 if same is not None else 201)


async def bulk_overwrite(request: web.Request) -> web.Response:
    app_id, guild_id = await _scope(request)
    ctx = ctx_of(request)
    raw = await _read_body(request)
    if not isinstance(raw, list):
        raise invalid_form("_root", "BASE_TYPE_ARRAY", "Could not interpret value as array.")
    bodies = [
        command_forms.command(item, str(i), global_scope=guild_id == GLOBAL) for i, item in enumerate(raw)
    ]
    seen: set[tuple[int, str]] = set()
    for i, body in enumerate(bodies):
        key = (body["type"], body["name"])
        if key in seen:
            raise invalid_form(
                f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
    for kind, most in MAX_PER_TYPE.items():
        if sum(b["type"] == kind for b in bodies) > most:
            raise ApiError(
                400, MAX_COMMANDS_REACHED, f"Maximum number of application commands reached ({most})"
            )
    old = {(c.type, c.name): c for c in await ctx.storage.list_commands(app_id, guild_id)}
    commands = []
    for body in bodies:
        prior = old.get((body["type"], body["name"]))
        if prior is not None and orjson.loads(prior.body) == body:
            commands.append(prior)
            continue
        command_id = prior.id if prior is not None else ctx.snowflakes.next()
        commands.append(_stored(app_id, guild_id, command_id, ctx.snowflakes.next(), body))
    await ctx.storage.replace_commands(app_id, guild_id, commands)
    return json_response([command_shape(c) for c in commands])


async def get_command(request: web.Request) -> web.Response:
    _, _, found = await _addressed(request)
    return json_response(command_shape(found))


async def edit_command(request: web.Request) -> web.Response:
    app_id, guild_id, found = await _addressed(request)
    ctx = ctx_of(request)
    raw = await _read_body(request) or {}
    body = command_forms.command(raw, old=orjson.loads(found.body), global_scope=guild_id == GLOBAL)
    if body["name"] != found.name:
        others = await ctx.storage.list_commands(app_id, guild_id)
        if any(c.id != found.id and (c.type, c.name) == (body["type"], body["name"]) for c in others):
            raise invalid_form(
                "name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
    stored = _stored(app_id, guild_id, found.id, ctx.snowflakes.next(), body)
    await ctx.storage.put_command(stored)
    return json_response(command_shape(stored))


async def delete_command(request: web.Request) -> web.Response:
    app_id, guild_id, found = await _addressed(request)
    if not await ctx_of(request).storage.delete_command(app_id, guild_id, found.id):
        raise unknown_command()
    return web.Response(status=204)


async def guild_command_permissions(request: web.Request) -> web.Response:
    """Per-command permission overrides are not kept: every guild has none (an honest empty list)."""
    await _scope(request)
    return json_response([])


routes.get("/applications/{application_id}/guilds/{guild_id}/commands/permissions")(guild_command_permissions)
for _base in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
    routes.get(f"{_base}/commands")(list_commands)
    routes.post(f"{_base}/commands")(create_command)
    routes.put(f"{_base}/commands")(bulk_overwrite)
    routes.get(f"{_base}/commands/{{command_id}}")(get_command)
    routes.patch(f"{_base}/commands/{{command_id}}")(edit_command)
    routes.delete(f"{_base}/commands/{{command_id}}")(delete_command)
