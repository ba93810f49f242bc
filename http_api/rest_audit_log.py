"""``GET /guilds/{guild_id}/audit-logs``: the guild's audit log, newest first, for members with
VIEW_AUDIT_LOG; filters ``user_id``, ``target_id``, ``action_type``, ``before``, ``after``,
``limit`` 1-100 (default 50), as Discord's. The users the entries name come along in ``users``;
rayguild has no integrations, webhooks in the log, scheduled events, threads in the log, commands
or automod rules, so those lists are empty.
"""

from __future__ import annotations

from aiohttp import web

from rayguild.http_api.access import guild_request
from rayguild.http_api.audit import entry_shape
from rayguild.http_api.errors import json_response
from rayguild.http_api.forms import query_id, query_int
from rayguild.http_api.moderation import VIEW_AUDIT_LOG
from rayguild.shapes import user as user_shape
from rayguild.storage.moderation import MAX_AUDIT_LIMIT, AuditQuery

routes = web.RouteTableDef()

MAX_ACTION_TYPE = 1 << 16


@routes.get("/guilds/{guild_id}/audit-logs")
async def audit_log(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(VIEW_AUDIT_LOG)
    action = query_int(request, "action_type", 0, 0, MAX_ACTION_TYPE)
    query = AuditQuery(
        access.guild.id, query_int(request, "limit", 50, 1, MAX_AUDIT_LIMIT),
        user_id=query_id(request, "user_id"), target_id=query_id(request, "target_id"),
        action_type=action or None, before=query_id(request, "before"), after=query_id(request, "after"),
    )  # fmt: skip
    entries = await ctx.storage.list_audit_entries(query)
    named = {e.user_id for e in entries} | {e.target_id for e in entries if e.target_id is not None}
    users = await ctx.storage.get_users(sorted(named))
    return json_response({
        "audit_log_entries": [entry_shape(e) for e in entries],
        "users": [user_shape(u) for u in users.values()],
        "integrations": [], "webhooks": [], "guild_scheduled_events": [], "threads": [],
        "application_commands": [], "auto_moderation_rules": [],
    })  # fmt: skip
