"""Auto-moderation rules over REST: list, get, create, modify, delete (``automod.py`` validates
and enforces them).

Every route needs MANAGE_GUILD. Each rule is its own settings document (``automod-rule:<id>``) on
every backend; a write is durable before AUTO_MODERATION_RULE_CREATE / UPDATE / DELETE (to the
members who may MANAGE_GUILD, AUTO_MODERATION_CONFIGURATION intent) and its audit entry
(140-142). At most 6 KEYWORD rules per guild and one of each other trigger type, as Discord; a
rule's trigger type cannot change.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rayguild.fanout.permissions import MANAGE_GUILD
from rayguild.http_api import audit, automod
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.forms import flag, path_id, read_json, text

routes = web.RouteTableDef()

AUTO_MODERATION_CONFIGURATION = 1 << 20  # the gateway intent
RULE_CREATE, RULE_UPDATE, RULE_DELETE = 140, 141, 142
UNKNOWN_RULE = 0  # Discord documents no code for it (10066 is application command permissions)
MAX_EXEMPT_ROLES, MAX_EXEMPT_CHANNELS = 20, 50


async def _manager(request: web.Request) -> tuple[EdgeContext, GuildAccess]:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_GUILD)
    return ctx, access


async def _rule_of(ctx: EdgeContext, guild_id: int, request: web.Request) -> dict[str, Any]:
    stored = await ctx.storage.get_setting(guild_id, f"{automod.PREFIX}{path_id(request, 'rule_id')}")
    if stored is None:
        raise ApiError(404, UNKNOWN_RULE, "Unknown Auto Moderation Rule")
    return dict(json.loads(stored))


async def _apply(ctx: EdgeContext, access: GuildAccess, body: dict[str, Any], rule: dict[str, Any]) -> None:
    """Validate the fields ``body`` gives and set them on ``rule``."""
    kind = rule["trigger_type"]
    if "name" in body or "name" not in rule:
        rule["name"] = text(body, "name", 1, 100)
    if "event_type" in body or "event_type" not in rule:
        wanted = automod.MEMBER_UPDATE if kind == automod.MEMBER_PROFILE else automod.MESSAGE_SEND
        if body.get("event_type") != wanted:
            raise invalid_form("event_type", "BASE_TYPE_CHOICES", f"Must be {wanted} for this trigger type.")
        rule["event_type"] = wanted
    if "trigger_metadata" in body or "trigger_metadata" not in rule:
        rule["trigger_metadata"] = automod.trigger_metadata(kind, body.get("trigger_metadata"))
    if "actions" in body or "actions" not in rule:
        rule["actions"] = await automod.actions(ctx, access, kind, body.get("actions"))
    if "enabled" in body or "enabled" not in rule:
        rule["enabled"] = flag(body, "enabled", False)
    if "exempt_roles" in body or "exempt_roles" not in rule:
        known = {r.id for r in access.roles}
        rule["exempt_roles"] = automod.exemptions(access, body, "exempt_roles", known, MAX_EXEMPT_ROLES)
    if "exempt_channels" in body or "exempt_channels" not in rule:
        known = {c.id for c in await ctx.storage.list_channels(access.guild.id)}
        rule["exempt_channels"] = automod.exemptions(
            access, body, "exempt_channels", known, MAX_EXEMPT_CHANNELS
        )


async def _announce(request: web.Request, ctx: EdgeContext, access: GuildAccess, t: str, action: int,
                    rule: dict[str, Any], changes: list[audit.Change]) -> None:  # fmt: skip
    gid = access.guild.id
    await audit.deliver_to_holders(ctx, gid, MANAGE_GUILD, t, rule, AUTO_MODERATION_CONFIGURATION)
    await audit.record(request, ctx, gid, access.member.user_id, action, int(rule["id"]), changes)


async def _store(ctx: EdgeContext, rule: dict[str, Any]) -> None:
    gid = int(rule["guild_id"])
    await ctx.guild_cache.write(ctx.storage, gid, ctx.storage.put_setting(gid, f"{automod.PREFIX}{rule['id']}",
                                                                          json.dumps(rule)))  # fmt: skip


@routes.get("/guilds/{guild_id}/auto-moderation/rules")
async def list_rules(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    return json_response(await automod.rules_of(ctx, access.guild.id))


@routes.get("/guilds/{guild_id}/auto-moderation/rules/{rule_id}")
async def get_rule(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    return json_response(await _rule_of(ctx, access.guild.id, request))


@routes.post("/guilds/{guild_id}/auto-moderation/rules")
async def create_rule(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    body = await read_json(request)
    kind = body.get("trigger_type")
    if not isinstance(kind, int) or isinstance(kind, bool) or kind not in automod.MAX_OF_TYPE:
        raise invalid_form("trigger_type", "BASE_TYPE_CHOICES", "Value must be one of (1, 3, 4, 5, 6).")
    existing = await automod.rules_of(ctx, access.guild.id)
    if sum(r["trigger_type"] == kind for r in existing) >= automod.MAX_OF_TYPE[kind]:
        raise invalid_form("trigger_type", "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED",
                           "Maximum number of rules of this trigger type reached.")  # fmt: skip
    rule: dict[str, Any] = {"id": str(ctx.snowflakes.next()), "guild_id": str(access.guild.id),
                            "creator_id": str(access.member.user_id), "trigger_type": kind}  # fmt: skip
    await _apply(ctx, access, body, rule)
    await _store(ctx, rule)
    await _announce(request, ctx, access, "AUTO_MODERATION_RULE_CREATE", RULE_CREATE, rule,
                    [audit.change("name", None, rule["name"])])  # fmt: skip
    return json_response(rule)


@routes.patch("/guilds/{guild_id}/auto-moderation/rules/{rule_id}")
async def modify_rule(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    rule = await _rule_of(ctx, access.guild.id, request)
    body = await read_json(request)
    if body.get("trigger_type", rule["trigger_type"]) != rule["trigger_type"]:
        raise invalid_form("trigger_type", "AUTO_MODERATION_TRIGGER_TYPE_IMMUTABLE", "Cannot be changed.")
    before = dict(rule)
    await _apply(ctx, access, body, rule)
    await _store(ctx, rule)
    changes = [audit.change(k, before[k], rule[k]) for k in ("name", "enabled") if before[k] != rule[k]]
    await _announce(request, ctx, access, "AUTO_MODERATION_RULE_UPDATE", RULE_UPDATE, rule, changes)
    return json_response(rule)


@routes.delete("/guilds/{guild_id}/auto-moderation/rules/{rule_id}")
async def delete_rule(request: web.Request) -> web.Response:
    ctx, access = await _manager(request)
    rule = await _rule_of(ctx, access.guild.id, request)
    deleting = ctx.storage.delete_setting(access.guild.id, f"{automod.PREFIX}{rule['id']}")
    if not await ctx.guild_cache.write(ctx.storage, access.guild.id, deleting):
        raise ApiError(404, UNKNOWN_RULE, "Unknown Auto Moderation Rule")
    await _announce(request, ctx, access, "AUTO_MODERATION_RULE_DELETE", RULE_DELETE, rule,
                    [audit.change("name", rule["name"], None)])  # fmt: skip
    return web.Response(status=204)
