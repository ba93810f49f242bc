"""``POST /interactions``: a user invokes a command, clicks a component or submits a modal, the
way Discord's own client does; the application's bot receives INTERACTION_CREATE.

The request is validated against what the bot declared (the stored command, the components the
message carries; 400 50035 naming the field under ``data``), the caller must see the channel
(403 50001) and hold the command's ``default_member_permissions`` (403 50013). The interaction's
live state (token, deadline, acknowledgement, @original) is written to storage before anything is
delivered, so whichever edge the bot's callback or followup reaches can answer it; the bot's
sessions, wherever they are, get INTERACTION_CREATE through the user path, and the caller's own
sessions get ``INTERACTION_CREATE {id, nonce}`` as Discord's client does, and INTERACTION_FAILURE
if the bot lets the 3 s deadline pass (interaction_chain.py). A modal submit names the interaction
that opened the modal in ``data.id`` and must match that modal. The response is 204.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
from aiohttp import web

from rayguild.errors import RayguildError
from rayguild.fanout.permissions import ADMINISTRATOR, base_permissions, channel_permissions
from rayguild.http_api import dms, hook_messages, interaction_chain, interaction_forms
from rayguild.http_api.access import ChannelAccess, channel_access, overwrites_of
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import (
    INVALID_JSON,
    ApiError,
    invalid_form,
    missing_access,
    missing_permissions,
    unknown,
)
from rayguild.http_api.forms import read_json, snowflake
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.message_view import show_message
from rayguild.http_api.rest_commands import unknown_command
from rayguild.shapes import channel as channel_shape
from rayguild.shapes import member as member_shape
from rayguild.shapes import role as role_shape
from rayguild.shapes import user as user_shape
from rayguild.storage.bots_protocol import InteractionState
from rayguild.storage.models import Channel, User

routes = web.RouteTableDef()
Json = dict[str, Any]

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
UNKNOWN_APPLICATION = 10002
GUILD_CONTEXT, BOT_DM_CONTEXT = 0, 1
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024


def _required_id(body: Json, field: str) -> int:
    if body.get(field) is None:
        raise invalid_form(field, "BASE_TYPE_REQUIRED", "This field is required")
    return snowflake(body[field], field)


async def _payload(request: web.Request) -> Json:
    """JSON, or multipart with a ``payload_json`` part (Discord's client sends either)."""
    if request.content_type != "multipart/form-data":
        return await read_json(request)
    form = await request.post()
    raw = form.get("payload_json")
    if isinstance(raw, web.FileField):  # a part sent with its own Content-Type
        raw = raw.file.read()
    try:
        body = orjson.loads(raw if isinstance(raw, str | bytes | bytearray) else b"")
    except orjson.JSONDecodeError:
        raise ApiError(400, INVALID_JSON, "The request body contains invalid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return body


def _permissions_in(found: ChannelAccess, channel: Channel, user_id: int, member_roles: Any) -> int:
    """``user_id``'s permissions in ``channel`` of the interaction's guild, overwrites included."""
    assert found.access is not None
    guild = found.access.guild
    roles = {r.id: r.permissions for r in found.access.roles}
    in_guild = base_permissions(guild.id, guild.owner_id, user_id, roles, member_roles)
    return channel_permissions(in_guild, guild.id, user_id, member_roles, overwrites_of(channel))


async def _resolved(ctx: EdgeContext, found: ChannelAccess, refs: list[tuple[str, int]]) -> Json:
    """Discord's ``data.resolved``: the users, members, roles and channels the options name; a
    member carries its permissions in the interaction's channel, a channel the invoker's there."""
    out: dict[str, Json] = {}
    guild_id = found.channel.guild_id
    roles = {r.id: r for r in await ctx.storage.list_roles(guild_id)} if refs else {}
    users = await ctx.storage.get_users([i for kind, i in refs if kind in ("users", "mentionables")])
    for kind, ref in refs:
        if ref in roles and kind in ("roles", "mentionables"):
            out.setdefault("roles", {})[str(ref)] = role_shape(roles[ref])
        elif ref in users and kind in ("users", "mentionables"):
            out.setdefault("users", {})[str(ref)] = user_shape(users[ref])
            member = await ctx.storage.get_member(guild_id, ref) if found.access is not None else None
            if member is not None:
                bits = _permissions_in(found, found.channel, ref, member.roles)
                out.setdefault("members", {})[str(ref)] = {**member_shape(member), "permissions": str(bits)}
        elif (
            kind == "channels"
            and found.access is not None
            and (channel := await ctx.storage.get_channel(ref))
            and channel.guild_id == guild_id
        ):
            shown = channel_shape(channel)
            bits = _permissions_in(found, channel, found.access.member.user_id, found.access.member.roles)
            out.setdefault("channels", {})[str(ref)] = {
                k: shown[k] for k in ("id", "name", "type", "parent_id", "guild_id")
            } | {"permissions": str(bits)}
        else:
            raise invalid_form(
                "data.options", "INTERACTION_APPLICATION_COMMAND_INVALID", f"Unknown {kind[:-1]} {ref}"
            )
    return out


async def _command_data(ctx: EdgeContext, app_id: int, found: ChannelAccess, data: Any, kind: int) -> Json:
    if not isinstance(data, dict):
        raise invalid_form("data", "BASE_TYPE_REQUIRED", "This field is required")
    guild_id = found.channel.guild_id
    command_id = _required_id(data, "id")
    command = await ctx.storage.get_command(app_id, guild_id, command_id) if guild_id else None
    command = command or await ctx.storage.get_command(app_id, 0, command_id)
    if command is None:
        raise unknown_command()
    if data.get("name") != command.name:
        raise invalid_form(
            "data.name", "INTERACTION_APPLICATION_COMMAND_INVALID", "Command name does not match"
        )
    declared = orjson.loads(command.body)
    if found.access is None:  # the bot's DM: a global command that allows DMs
        if not declared.get("dm_permission", True) or BOT_DM_CONTEXT not in (declared["contexts"] or [1]):
            raise missing_access()
    elif (needed := declared.get("default_member_permissions")) is not None:
        bits = int(needed) or ADMINISTRATOR  # "0": only administrators
        if found.access.permissions & bits != bits:
            raise missing_permissions()
    given = interaction_forms.options(
        declared["options"], data.get("options"), "data.options", kind == AUTOCOMPLETE
    )
    if kind == AUTOCOMPLETE and interaction_forms.count_focused(given) != 1:
        raise invalid_form(
            "data.options", "INTERACTION_APPLICATION_COMMAND_INVALID", "One option must be focused"
        )
    out: Json = {"id": str(command.id), "name": command.name, "type": command.type}
    if given:
        out["options"] = given
    if command.guild_id:
        out["guild_id"] = str(command.guild_id)
    refs = list(interaction_forms.referenced_ids(given))
    if command.type in (2, 3):  # a user or message context menu: its target
        target = _required_id(data, "target_id")
        out["target_id"] = str(target)
        if command.type == 2:
            refs.append(("users", target))
        elif (message := await ctx.storage.get_message(found.channel.id, target)) is not None:
            out["resolved"] = {"messages": {str(target): await show_message(ctx, message, 0)}}
        else:
            raise unknown("message")
    resolved = await _resolved(ctx, found, refs)
    if resolved:
        out["resolved"] = {**out.get("resolved", {}), **resolved}
    return out


async def _component_data(
    ctx: EdgeContext, app_id: int, caller: User, found: ChannelAccess, body: Json
) -> tuple[Json, Json]:
    """The component interaction's data and the message it was on (the app's own message)."""
    message_id = _required_id(body, "message_id")
    located = await hook_messages.resolve(ctx, found.channel.id, message_id)
    if located is None:
        raise unknown("message")
    shown = await hook_messages.show(ctx, located, caller.id)
    viewer = shown.get("interaction_metadata", {}).get("user", {}).get("id")
    if located.ephemeral and viewer != str(caller.id):
        raise unknown("message")
    if shown["author"]["id"] != str(app_id) and shown.get("application_id") != str(app_id):
        raise invalid_form("message_id", "COMPONENT_INVALID", "The message is not the application's")
    return interaction_forms.component(shown.get("components", []), body.get("data")), shown


async def _modal_data(
    ctx: EdgeContext, app_id: int, caller: User, found: ChannelAccess, data: Any
) -> tuple[Json, Json]:
    """A modal submit's data, checked against the modal the app opened for this caller in the
    interaction ``data.id`` names; and the component message that chain started on, if any."""
    if not isinstance(data, dict):
        raise invalid_form("data", "BASE_TYPE_REQUIRED", "This field is required")
    modal_id = _required_id(data, "id")
    opened = await interaction_chain.opened_modal(ctx, modal_id, caller.id, app_id, found.channel.id)
    if opened is None:
        raise invalid_form("data.id", "MODAL_INVALID", "The application opened no such modal here")
    extra = {"message": opened["message"]} if opened["message"] is not None else {}
    return interaction_forms.modal(data, opened["modal"]), extra


async def _where(ctx: EdgeContext, found: ChannelAccess, caller: User, app: User) -> Json:
    """The interaction's place: guild, channel, the invoker (member or user) and what the app may
    do there. In a DM only the bot's own DM is served (a user-installed app is not)."""
    if found.access is None:
        dm = await ctx.storage.get_dm(found.channel.id)
        if dm is None or dm.other(caller.id) != app.id:
            raise missing_access()
        return {
            "channel": dms.dm_shape(dm, app), "user": user_shape(caller), "app_permissions": str(found.permissions),
            "context": BOT_DM_CONTEXT, "authorizing_integration_owners": {"0": "0"},
        }  # fmt: skip
    guild_id = found.channel.guild_id
    bot_member = await ctx.storage.get_member(guild_id, app.id)
    if bot_member is None:
        raise missing_access()
    roles = {r.id: r.permissions for r in found.access.roles}
    app_guild = base_permissions(guild_id, found.access.guild.owner_id, app.id, roles, bot_member.roles)
    app_perms = channel_permissions(
        app_guild, guild_id, app.id, bot_member.roles, overwrites_of(found.channel)
    )
    return {
        "guild_id": str(guild_id), "channel": channel_shape(found.channel), "guild_locale": "en-US",
        "member": {**member_shape(found.access.member, caller), "permissions": str(found.permissions)},
        "app_permissions": str(app_perms), "context": GUILD_CONTEXT,
        "authorizing_integration_owners": {"0": str(guild_id)},
    }  # fmt: skip


@routes.post("/interactions")
async def create_interaction(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await _payload(request)
    kind = body.get("type")
    if isinstance(kind, bool) or kind not in (
        APPLICATION_COMMAND,
        MESSAGE_COMPONENT,
        AUTOCOMPLETE,
        MODAL_SUBMIT,
    ):
        raise invalid_form("type", "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
    app_id = _required_id(body, "application_id")
    found = await channel_access(ctx, _required_id(body, "channel_id"), caller)
    app = await ctx.storage.get_user(app_id)
    if app is None or not app.bot:
        raise ApiError(404, UNKNOWN_APPLICATION, "Unknown Application")
    where = await _where(ctx, found, caller, app)
    nonce = body.get("nonce")
    extra: Json = {}
    if kind in (APPLICATION_COMMAND, AUTOCOMPLETE):
        data = await _command_data(ctx, app_id, found, body.get("data"), kind)
    elif kind == MESSAGE_COMPONENT:
        data, extra["message"] = await _component_data(ctx, app_id, caller, found, body)
    else:
        data, extra = await _modal_data(ctx, app_id, caller, found, body.get("data"))
    interaction_id = ctx.snowflakes.next()
    token = f"{interaction_id}.{secrets.token_urlsafe(48)}"
    d: Json = {
        "id": str(interaction_id), "application_id": str(app_id), "type": kind, "data": data,
        "channel_id": str(found.channel.id), "token": token, "version": 1, "locale": "en-US",
        "entitlements": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT, **where, **extra,
    }  # fmt: skip
    state = InteractionState(
        id=interaction_id, application_id=app_id, token=token, type=kind, channel_id=found.channel.id,
        guild_id=found.channel.guild_id or None, user_id=caller.id, created_at_ms=time.time_ns() // 1_000_000,
        body=orjson.dumps({"interaction": d, "nonce": nonce}).decode(),
    )  # fmt: skip
    await ctx.storage.put_interaction(state)
    try:
        await ctx.users.deliver([app_id], "INTERACTION_CREATE", d)
    except RayguildError as exc:  # the bot can not be told: the interaction fails now, not in 3 s
        raise ApiError(503, 0, f"The application could not be reached, retry later: {exc}") from exc
    interaction_chain.watch_deadline(ctx, state, nonce)
    await hook_messages.tell(
        ctx, caller.id, "INTERACTION_CREATE", {"id": str(interaction_id), "nonce": nonce}
    )
    return web.Response(status=204)
