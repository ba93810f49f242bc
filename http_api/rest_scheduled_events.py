"""Guild scheduled events: list, create, get, modify (status transitions included), delete, and
who is interested (users, counts; ``PUT``/``DELETE .../users/@me`` as Discord's client marks it).

Each event is its own settings document (``sched-event:<id>``) and each interested user one
document (``sched-event-user:<event>:<zero-padded user>``, so a listing is in user-id order and
pages by ``before``/``after`` as Discord's does), kept on every backend by the settings store.
Every write is durable before GUILD_SCHEDULED_EVENT_CREATE / UPDATE / DELETE / USER_ADD /
USER_REMOVE (GUILD_SCHEDULED_EVENTS intent) and its audit entry (100-102). Creating needs
CREATE_EVENTS; changing or deleting another member's event MANAGE_EVENTS. Entity types as
Discord's: EXTERNAL (3) needs ``entity_metadata.location`` and an end time, VOICE (2) a voice
channel of the guild; there are no stage channels, so STAGE_INSTANCE (1) names none. A finished
(completed or canceled) event cannot change (180000); at most 100 uncompleted (30038). Recurring
events are not kept (``recurrence_rule`` must be null), so an event has no exceptions.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.actors.guild_documents import SCHEDULED_EVENT, event_fields
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, missing_permissions
from rayguild.http_api.forms import optional_id, path_id, query_id, query_int, read_json, text, timestamp_ms
from rayguild.http_api.minimal import minimal_body
from rayguild.http_api.moderation import now_ms
from rayguild.http_api.notify import publish
from rayguild.shapes import member as member_shape
from rayguild.shapes import user as user_shape

routes = web.RouteTableDef()

CREATE_EVENTS = 1 << 44
MANAGE_EVENTS = 1 << 33
GUILD_SCHEDULED_EVENTS = 1 << 16  # the gateway intent
EVENT_CREATE, EVENT_UPDATE, EVENT_DELETE = 100, 101, 102
UNKNOWN_EVENT = 10070
STAGE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
GUILD_ONLY = 2  # the one privacy level Discord allows
GUILD_VOICE = 2
MAX_EVENTS = 100  # uncompleted (scheduled or active) events per guild
MAX_EVENTS_REACHED = 30038
FINISHED_EVENT = 180000
# Status changes Discord allows: a scheduled event starts or is canceled; an active one ends.
NEXT_STATUS = {SCHEDULED: (ACTIVE, CANCELED), ACTIVE: (COMPLETED,), COMPLETED: (), CANCELED: ()}
PREFIX = SCHEDULED_EVENT
USER_PREFIX = "sched-event-user:"


def _user_key(event_id: str, user_id: int) -> str:
    return f"{USER_PREFIX}{event_id}:{user_id:020d}"


async def events_of(ctx: EdgeContext, guild_id: int) -> list[dict[str, Any]]:
    return [json.loads(doc) for _, doc in await ctx.storage.list_settings(guild_id, PREFIX)]


async def _interested(ctx: EdgeContext, guild_id: int, event_id: str) -> list[int]:
    """The interested users' ids, ascending."""
    found = await ctx.storage.list_settings(guild_id, f"{USER_PREFIX}{event_id}:")
    return [int(name.rsplit(":", 1)[1]) for name, _ in found]


async def event_shape(ctx: EdgeContext, stored: dict[str, Any], with_count: bool) -> dict[str, Any]:
    out = event_fields(stored)
    creator = await ctx.storage.get_user(int(stored["creator_id"]))
    if creator is not None:
        out["creator"] = user_shape(creator)
    if with_count:
        out["user_count"] = len(await _interested(ctx, int(stored["guild_id"]), stored["id"]))
    return out


async def event_of(ctx: EdgeContext, guild_id: int, request: web.Request) -> dict[str, Any]:
    """The stored event the path names (404 10070 if the guild has none such)."""
    event_id = path_id(request, "guild_scheduled_event_id")
    stored = await ctx.storage.get_setting(guild_id, f"{PREFIX}{event_id}")
    if stored is None:
        raise ApiError(404, UNKNOWN_EVENT, "Unknown Guild Scheduled Event")
    return dict(json.loads(stored))


def _with_count(request: web.Request) -> bool:
    return request.query.get("with_user_count", "false").lower() in ("true", "1")


async def _entity(
    ctx: EdgeContext, access: GuildAccess, body: dict[str, Any], stored: dict[str, Any]
) -> None:
    """Apply and validate the entity fields (type, channel, location, end time) of ``body``."""
    kind = body.get("entity_type", stored.get("entity_type"))
    if kind not in (STAGE, VOICE, EXTERNAL) or isinstance(kind, bool):
        raise invalid_form("entity_type", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3).")
    stored["entity_type"] = kind
    if kind == EXTERNAL:
        meta = body.get("entity_metadata", {"location": stored.get("location")})
        location = text(meta if isinstance(meta, dict) else {}, "location", 1, 100)
        stored.update(channel_id=None, location=location)
        if stored["end_ms"] is None:
            raise invalid_form(
                "scheduled_end_time", "BASE_TYPE_REQUIRED", "External events need an end time."
            )
        return
    channel_id = optional_id(body, "channel_id") if "channel_id" in body else stored.get("channel_id")
    channel = await ctx.storage.get_channel(int(channel_id)) if channel_id is not None else None
    wanted = GUILD_VOICE if kind == VOICE else None  # no stage channels exist
    if channel is None or channel.guild_id != access.guild.id or channel.type != wanted:
        raise invalid_form("channel_id", "CHANNEL_TYPE_INVALID", "A voice channel of this guild is required.")
    stored.update(channel_id=str(channel.id), location=None)


def _times(body: dict[str, Any], stored: dict[str, Any]) -> None:
    if "scheduled_start_time" in body:
        start = timestamp_ms(body, "scheduled_start_time")
        if start is None:
            raise invalid_form("scheduled_start_time", "BASE_TYPE_REQUIRED", "This field is required")
        if start < now_ms():
            raise invalid_form("scheduled_start_time", "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                               "Cannot schedule event in the past.")  # fmt: skip
        stored["start_ms"] = start
    if "scheduled_end_time" in body:
        stored["end_ms"] = timestamp_ms(body, "scheduled_end_time")
    if stored["end_ms"] is not None and stored["end_ms"] <= stored["start_ms"]:
        raise invalid_form("scheduled_end_time", "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                           "The end time must be after the start time.")  # fmt: skip


def _fields(body: dict[str, Any], stored: dict[str, Any]) -> None:
    if "name" in body or "name" not in stored:
        stored["name"] = text(body, "name", 1, 100)
    if "description" in body:
        stored["description"] = text(body, "description", 0, 1000, required=False)
    if body.get("privacy_level", GUILD_ONLY) != GUILD_ONLY:
        raise invalid_form("privacy_level", "BASE_TYPE_CHOICES", "Value must be one of (2,).")
    if body.get("recurrence_rule") is not None:
        raise invalid_form("recurrence_rule", "GUILD_SCHEDULED_EVENT_RECURRENCE_UNSUPPORTED",
                           "Recurring events are not supported.")  # fmt: skip


def _may_change(access: GuildAccess, stored: dict[str, Any]) -> None:
    own = stored["creator_id"] == str(access.member.user_id) and access.permissions & CREATE_EVENTS
    if not own and not access.permissions & MANAGE_EVENTS:
        raise missing_permissions()


async def _announce(ctx: EdgeContext, guild_id: int, t: str, d: dict[str, Any]) -> None:
    await publish(ctx, Publish(guild_id, t, {**d, "guild_id": str(guild_id)}, intent=GUILD_SCHEDULED_EVENTS))


async def _store(ctx: EdgeContext, stored: dict[str, Any]) -> None:
    await ctx.storage.put_setting(int(stored["guild_id"]), f"{PREFIX}{stored['id']}", json.dumps(stored))


@routes.get("/guilds/{guild_id}/scheduled-events")
async def list_events(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    count = _with_count(request)
    return json_response([await event_shape(ctx, e, count) for e in await events_of(ctx, access.guild.id)])


@routes.get("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def get_event(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await event_of(ctx, access.guild.id, request)
    return json_response(await event_shape(ctx, stored, _with_count(request)))


@routes.post("/guilds/{guild_id}/scheduled-events")
async def create_event(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    access.require(CREATE_EVENTS)
    body = await read_json(request)
    gid = access.guild.id
    stored: dict[str, Any] = {"id": str(ctx.snowflakes.next()), "guild_id": str(gid), "description": None,
                              "creator_id": str(caller.id), "image": None, "status": SCHEDULED,
                              "entity_id": None, "privacy_level": GUILD_ONLY, "end_ms": None}  # fmt: skip
    _fields(body, stored)
    _times({"scheduled_start_time": None, **body}, stored)
    await _entity(ctx, access, body, stored)
    if sum(e["status"] in (SCHEDULED, ACTIVE) for e in await events_of(ctx, gid)) >= MAX_EVENTS:
        raise ApiError(
            400,
            MAX_EVENTS_REACHED,
            f"Maximum number of uncompleted guild scheduled events reached ({MAX_EVENTS})",
        )
    await _store(ctx, stored)
    await ctx.storage.put_setting(gid, _user_key(stored["id"], caller.id), "{}")  # the creator is interested
    shown = await event_shape(ctx, stored, False)
    await _announce(ctx, gid, "GUILD_SCHEDULED_EVENT_CREATE", shown)
    await audit.record(request, ctx, gid, caller.id, EVENT_CREATE, int(stored["id"]),
                       [audit.change("name", None, stored["name"])])  # fmt: skip
    return json_response(shown)


@routes.patch("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def modify_event(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    stored = await event_of(ctx, access.guild.id, request)
    _may_change(access, stored)
    body = await read_json(request)
    before = dict(stored)
    if stored["status"] in (COMPLETED, CANCELED):
        raise ApiError(400, FINISHED_EVENT, "Cannot update a finished event")
    _fields(body, stored)
    if "scheduled_start_time" in body or "scheduled_end_time" in body:
        _times(body, stored)
    if {"entity_type", "channel_id", "entity_metadata", "scheduled_end_time"} & set(body):
        await _entity(ctx, access, body, stored)
    if "status" in body and body["status"] != stored["status"]:
        if body["status"] not in NEXT_STATUS[stored["status"]]:
            raise invalid_form("status", "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                               "Cannot transition to this status.")  # fmt: skip
        stored["status"] = body["status"]
    await _store(ctx, stored)
    shown = await event_shape(ctx, stored, False)
    await _announce(ctx, access.guild.id, "GUILD_SCHEDULED_EVENT_UPDATE", shown)
    changes = [audit.change(k, before.get(k), stored[k]) for k in ("name", "description", "status")
               if before.get(k) != stored[k]]  # fmt: skip
    await audit.record(request, ctx, access.guild.id, caller.id, EVENT_UPDATE, int(stored["id"]), changes)
    return json_response(shown)


@routes.delete("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}")
async def delete_event(request: web.Request) -> web.Response:
    caller, ctx, access = await guild_request(request)
    gid = access.guild.id
    stored = await event_of(ctx, gid, request)
    _may_change(access, stored)
    shown = await event_shape(ctx, stored, False)
    if not await ctx.storage.delete_setting(gid, f"{PREFIX}{stored['id']}"):
        raise ApiError(404, UNKNOWN_EVENT, "Unknown Guild Scheduled Event")
    for user_id in await _interested(ctx, gid, stored["id"]):
        await ctx.storage.delete_setting(gid, _user_key(stored["id"], user_id))
    await _announce(ctx, gid, "GUILD_SCHEDULED_EVENT_DELETE", shown)
    await audit.record(request, ctx, gid, caller.id, EVENT_DELETE, int(stored["id"]),
                       [audit.change("name", stored["name"], None)])  # fmt: skip
    return web.Response(status=204)


@routes.get("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/users")
async def event_users(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await event_of(ctx, access.guild.id, request)
    limit = query_int(request, "limit", 100, 1, 100)
    before, after = query_id(request, "before"), query_id(request, "after")
    ids = await _interested(ctx, access.guild.id, stored["id"])
    if before is not None:
        ids = [i for i in ids if i < before][-limit:]
    else:
        ids = [i for i in ids if after is None or i > after][:limit]
    with_member = request.query.get("with_member", "false").lower() in ("true", "1")
    out = []
    for user_id in ids:
        user = await ctx.storage.get_user(user_id)
        if user is None:
            continue
        entry: dict[str, Any] = {"guild_scheduled_event_id": stored["id"], "user_id": str(user_id),
                                 "user": user_shape(user), "response": 1}  # fmt: skip
        member = await ctx.storage.get_member(access.guild.id, user_id) if with_member else None
        if member is not None:
            entry["member"] = member_shape(member, user)
        out.append(entry)
    return json_response(out)


@routes.get("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/users/counts")
async def event_user_count(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    stored = await event_of(ctx, access.guild.id, request)
    count = len(await _interested(ctx, access.guild.id, stored["id"]))
    return json_response({"guild_scheduled_event_count": count, "guild_scheduled_event_exception_counts": {}})


@routes.put("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/users/@me")
@routes.delete("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/users/@me")
async def mark_interest(request: web.Request) -> web.Response:
    """The caller marks (PUT) or unmarks (DELETE) interest, as Discord's client does."""
    caller, ctx, access = await guild_request(request)
    stored = await event_of(ctx, access.guild.id, request)
    key = _user_key(stored["id"], caller.id)
    if request.method == "PUT":
        await ctx.storage.put_setting(access.guild.id, key, "{}")
        t = "GUILD_SCHEDULED_EVENT_USER_ADD"
    elif await ctx.storage.delete_setting(access.guild.id, key):
        t = "GUILD_SCHEDULED_EVENT_USER_REMOVE"
    else:
        return web.Response(status=204)
    d = {"guild_scheduled_event_id": stored["id"], "user_id": str(caller.id)}
    await _announce(ctx, access.guild.id, t, d)
    return web.Response(status=204)


@routes.post("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions")
@minimal_body("no recurring events: no occurrence to make an exception of", errors_only=True)
async def create_exception(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    await event_of(ctx, access.guild.id, request)
    access.require(MANAGE_EVENTS)
    raise invalid_form("original_scheduled_start_time", "GUILD_SCHEDULED_EVENT_NOT_RECURRING",
                       "The event is not recurring.")  # fmt: skip


@routes.patch("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions/{exception_id}")
@routes.delete("/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/exceptions/{exception_id}")
@routes.get(
    "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}/{guild_scheduled_event_exception_id}/users"
)
@minimal_body("no recurring events: every exception is unknown", errors_only=True)
async def exception(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    await event_of(ctx, access.guild.id, request)
    raise ApiError(404, UNKNOWN_EVENT, "Unknown Guild Scheduled Event Exception")
