"""The caller's application and what hangs off it: ``/applications/@me`` (read and modify),
role-connection metadata, and monetisation (entitlements, SKU subscriptions) as honest minimal
answers: rayguild sells nothing, so there are no entitlements, SKUs or subscriptions.

A bot's application has the bot's id (as on Discord for current applications); the fields a
bot may change here (description, tags, interactions_endpoint_url,
role_connections_verification_url) are stored as the application's settings document and read back.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import ApiError, invalid_form, json_response
from rayguild.http_api.forms import integer, path_id, read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.minimal import answer_empty, answer_unknown
from rayguild.http_api.rest_roles import read_json_array
from rayguild.shapes import user as user_shape
from rayguild.storage.models import User

routes = web.RouteTableDef()

UNKNOWN_APPLICATION = 10002
UNKNOWN_SKU = 10027
UNKNOWN_ENTITLEMENT = 10029
MAX_METADATA = 5


def application_shape(owner: User, kept: dict[str, Any]) -> dict[str, Any]:
    shown = user_shape(owner)
    return {
        "id": str(owner.id), "name": owner.username, "icon": owner.avatar, "description": "",
        "type": None, "bot_public": True, "bot_require_code_grant": False,
        "verify_key": "0" * 64, "flags": 0, "flags_new": "0", "redirect_uris": [],
        "interactions_endpoint_url": None, "role_connections_verification_url": None,
        "owner": shown, "bot": shown, "approximate_guild_count": 0,
        "approximate_user_install_count": 0, "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0, "team": None, "eligible_oauth2_scopes": ["bot"],
        "summary": "", "hook": True, "tags": [], "integration_types_config": {}, **kept,
    }  # fmt: skip


async def _own_application(request: web.Request) -> tuple[User, dict[str, Any]]:
    caller = await authenticate(request)
    if "application_id" in request.match_info and path_id(request, "application_id") != caller.id:
        raise ApiError(404, UNKNOWN_APPLICATION, "Unknown Application")
    stored = await ctx_of(request).storage.get_setting(caller.id, "application")
    return caller, json.loads(stored) if stored else {}


@routes.get("/applications/{application_id}")
@routes.get("/applications/@me")  # registered first (decorators apply bottom-up)
async def get_application(request: web.Request) -> web.Response:
    caller, kept = await _own_application(request)
    return json_response(application_shape(caller, kept))


@routes.patch("/applications/{application_id}")
@routes.patch("/applications/@me")  # registered first (decorators apply bottom-up)
async def modify_application(request: web.Request) -> web.Response:
    caller, kept = await _own_application(request)
    body = await read_json(request)
    if "description" in body:
        kept["description"] = text(body, "description", 0, 400, required=False) or ""
    for field in ("interactions_endpoint_url", "role_connections_verification_url"):
        if field in body:
            url = text(body, field, 0, 2048, required=False)
            if url and not url.startswith(("https://", "http://")):
                raise invalid_form(field, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
            kept[field] = url or None
    if "tags" in body:
        tags = body["tags"] or []
        if (
            not isinstance(tags, list)
            or len(tags) > 5
            or not all(isinstance(t, str) and 0 < len(t) <= 20 for t in tags)
        ):
            raise invalid_form("tags", "BASE_TYPE_MAX_LENGTH", "At most 5 tags of 1-20 characters.")
        kept["tags"] = tags
    await ctx_of(request).storage.put_setting(caller.id, "application", json.dumps(kept))
    return json_response(application_shape(caller, kept))


@routes.get("/applications/{application_id}/role-connections/metadata")
async def role_connection_metadata(request: web.Request) -> web.Response:
    caller, _ = await _own_application(request)
    stored = await ctx_of(request).storage.get_setting(caller.id, "role_connections_metadata")
    return json_response(json.loads(stored) if stored else [])


@routes.put("/applications/{application_id}/role-connections/metadata")
async def put_role_connection_metadata(request: web.Request) -> web.Response:
    caller, _ = await _own_application(request)
    raw = await read_json_array(request)
    if len(raw) > MAX_METADATA:
        raise invalid_form("_root", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_METADATA} or fewer in length.")
    records = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid_form(str(i), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        fields = {f"{i}.{k}": v for k, v in item.items()}  # errors name the item: "0.type"
        key = text(fields, f"{i}.key", 1, 50)
        assert key is not None
        if not key.replace("_", "").isalnum() or not key.islower():
            raise invalid_form(
                f"{i}.key", "APPLICATION_ROLE_CONNECTION_METADATA_KEY_INVALID", "a-z, 0-9 or _."
            )
        records.append({
            "type": integer(fields, f"{i}.type", 0, 1, 8), "key": key,
            "name": text(fields, f"{i}.name", 1, 100), "description": text(fields, f"{i}.description", 1, 200),
        })  # fmt: skip
    await ctx_of(request).storage.put_setting(caller.id, "role_connections_metadata", json.dumps(records))
    return json_response(records)


async def _own_app_gate(request: web.Request) -> None:
    await _own_application(request)


answer_empty(
    routes,
    ["/applications/{application_id}/entitlements"],
    [],
    "no monetisation: no entitlements",
    _own_app_gate,
)
answer_empty(
    routes,
    ["/users/@me/applications/{application_id}/entitlements"],
    [],
    "no monetisation: no entitlements",
    authenticate,
)
answer_unknown(
    routes,
    [
        ("GET", "/applications/{application_id}/entitlements/{entitlement_id}"),
        ("DELETE", "/applications/{application_id}/entitlements/{entitlement_id}"),
        ("POST", "/applications/{application_id}/entitlements/{entitlement_id}/consume"),
    ],
    (404, UNKNOWN_ENTITLEMENT, "Unknown Entitlement"),
    "no monetisation: every entitlement is unknown",
    _own_app_gate,
)
answer_unknown(routes, [("POST", "/applications/{application_id}/entitlements"),
                        ("GET", "/skus/{sku_id}/subscriptions"),
                        ("GET", "/skus/{sku_id}/subscriptions/{subscription_id}")],
               (404, UNKNOWN_SKU, "Unknown SKU"), "no monetisation: every SKU is unknown", _own_app_gate)  # fmt: skip
