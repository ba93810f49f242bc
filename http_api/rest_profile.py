"""``PATCH /users/@me``: the caller changes their username, display name or avatar.

The avatar comes as a data URI (as Discord takes it); its bytes are kept as the user's settings
document ``avatar:<hash>`` and the profile names the hash, as Discord's avatar field does. The
profile is durable before USER_UPDATE reaches the caller's sessions on every edge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import structlog
from aiohttp import web

from rayguild.errors import RayguildError
from rayguild.http_api.auth import authenticate
from rayguild.http_api.errors import invalid_form, json_response, unknown
from rayguild.http_api.expression_media import image_data_uri
from rayguild.http_api.forms import read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.rest_users import private_user

routes = web.RouteTableDef()
log = structlog.get_logger("rayguild.http")


@routes.patch("/users/@me")
async def modify_me(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    body = await read_json(request)
    user = caller
    if "username" in body:
        name = text(body, "username", 2, 32)
        assert name is not None
        if name.lower() in ("everyone", "here") or "@" in name or "#" in name:
            raise invalid_form(
                "username", "USERNAME_INVALID_CONTAINS", "Username cannot contain @, # or be everyone/here."
            )
        user = replace(user, username=name)
    if "global_name" in body:
        user = replace(user, global_name=text(body, "global_name", 1, 32, required=False))
    if "avatar" in body:
        if body["avatar"] is None:
            user = replace(user, avatar=None)
        else:
            image, animated = image_data_uri(body, "avatar")
            digest = hashlib.sha256(image.encode()).hexdigest()[:32]
            avatar = f"a_{digest}" if animated else digest
            await ctx.storage.put_setting(caller.id, f"avatar:{avatar}", json.dumps(image))
            user = replace(user, avatar=avatar)
    if user != caller and not await ctx.storage.update_user(user):
        raise unknown("user")
    shown = private_user(user)
    try:
        await ctx.users.deliver([user.id], "USER_UPDATE", shown)
    except RayguildError as exc:  # the profile is stored; the sessions read it on their next READY
        log.warning("user_update.undelivered", user_id=user.id, error=str(exc))
    return json_response(shown)
