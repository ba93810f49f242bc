"""Webhooks (create, list, get, modify, delete, execute, and their messages) and the routes they
share with interaction tokens: ``/webhooks/{application_id}/{interaction_token}`` is an
interaction's followup endpoint, ``.../messages/@original`` its first response.

Managing a webhook needs MANAGE_WEBHOOKS in its channel (403 50013); the token routes need only the
token (401 50027 if wrong, 404 10015 for an unknown webhook). A change is durable before the
response, then WEBHOOKS_UPDATE goes to the guild (intent GUILD_WEBHOOKS, gated on the channel).
``wait=true`` returns the executed message, else 204; ``thread_id`` posts into a thread of the
webhook's channel (``rest_threads.thread_under``). Webhook messages are authored by the webhook (``webhook_id``, name or ``username``
override); an interaction's followups carry ``interaction_metadata``; see hook_messages.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.http_api import hook_messages, rest_threads, slack_compat
from rayguild.http_api.access import ChannelAccess, channel_access, channel_request, guild_request
from rayguild.http_api.auth import authenticate
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, unknown
from rayguild.http_api.forms import optional_id, path_id, query_id, read_json, text
from rayguild.http_api.interaction_callbacks import Live, app_user, live
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.notify import publish
from rayguild.http_api.uploads import base_url, message_form
from rayguild.shapes import user as user_shape
from rayguild.storage.bots_protocol import HookMessage, Webhook
from rayguild.storage.models import Channel, User

routes = web.RouteTableDef()
Json = dict[str, Any]

MANAGE_WEBHOOKS = 1 << 29
GUILD_WEBHOOKS = 1 << 5
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
INCOMING = 1
MAX_WEBHOOKS_PER_CHANNEL = 15
FORBIDDEN_NAMES = ("clyde", "discord")
AVATAR_URI = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")


def webhook_shape(w: Webhook, creator: User | None, with_token: bool, base: str) -> Json:
    """Discord's webhook object; an incoming webhook shown with its token also has its ``url``
    (``base``: where clients reach this server)."""
    out: Json = {
        "id": str(w.id), "type": w.type, "guild_id": str(w.guild_id), "channel_id": str(w.channel_id),
        "name": w.name, "avatar": w.avatar,
        "application_id": str(w.application_id) if w.application_id else None,
    }  # fmt: skip
    if creator is not None:
        out["user"] = user_shape(creator)
    if with_token and w.type == INCOMING:
        out["token"] = w.token
        out["url"] = f"{base}/api/v10/webhooks/{w.id}/{w.token}"
    return out


def _avatar_hash(value: Any) -> str | None:
    """Discord takes an avatar as a data URI and shows its hash. The image itself is not kept
    (no avatar CDN here): the hash only names it."""
    if value is None:
        return None
    if not isinstance(value, str) or not AVATAR_URI.match(value):
        raise invalid_form("avatar", "IMAGE_INVALID", "Invalid image data")
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


def _unknown_webhook() -> ApiError:
    return ApiError(404, UNKNOWN_WEBHOOK, "Unknown Webhook")


def _name(body: Json, required: bool) -> str | None:
    name = text(body, "name", 1, 80, required=required)
    if name is not None and any(word in name.lower() for word in FORBIDDEN_NAMES):
        raise invalid_form("name", "WEBHOOK_INVALID_USERNAME", f'Username cannot contain "{name}"')
    return name


async def _updated(ctx: EdgeContext, w: Webhook) -> None:
    d = {"guild_id": str(w.guild_id), "channel_id": str(w.channel_id)}
    await publish(
        ctx, Publish(w.guild_id, "WEBHOOKS_UPDATE", d, channel_id=w.channel_id, intent=GUILD_WEBHOOKS)
    )


@routes.post("/channels/{channel_id}/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    caller, ctx, found = await channel_request(request)
    found.require(MANAGE_WEBHOOKS)
    body = await read_json(request)
    name = _name(body, required=True)
    assert name is not None
    existing = [
        w for w in await ctx.storage.list_webhooks(found.channel.guild_id) if w.channel_id == found.channel.id
    ]
    if len(existing) >= MAX_WEBHOOKS_PER_CHANNEL:
        raise ApiError(400, 30007, f"Maximum number of webhooks reached ({MAX_WEBHOOKS_PER_CHANNEL})")
    hook = Webhook(
        id=ctx.snowflakes.next(), type=INCOMING, guild_id=found.channel.guild_id, channel_id=found.channel.id,
        creator_id=caller.id, name=name, token=secrets.token_urlsafe(51),
        avatar=_avatar_hash(body.get("avatar")), application_id=caller.id if caller.bot else None,
    )  # fmt: skip
    await ctx.storage.put_webhook(hook)
    await _updated(ctx, hook)
    return json_response(webhook_shape(hook, caller, with_token=True, base=base_url(request, ctx)))


async def _listed(request: web.Request, ctx: EdgeContext, hooks: list[Webhook]) -> list[Json]:
    creators = await ctx.storage.get_users([w.creator_id for w in hooks])
    base = base_url(request, ctx)
    return [webhook_shape(w, creators.get(w.creator_id), with_token=True, base=base) for w in hooks]


@routes.get("/channels/{channel_id}/webhooks")
async def channel_webhooks(request: web.Request) -> web.Response:
    _, ctx, found = await channel_request(request)
    found.require(MANAGE_WEBHOOKS)
    hooks = await ctx.storage.list_webhooks(found.channel.guild_id)
    return json_response(await _listed(request, ctx, [w for w in hooks if w.channel_id == found.channel.id]))


@routes.get("/guilds/{guild_id}/webhooks")
async def guild_webhooks(request: web.Request) -> web.Response:
    _, ctx, access = await guild_request(request)
    access.require(MANAGE_WEBHOOKS)
    return json_response(await _listed(request, ctx, await ctx.storage.list_webhooks(access.guild.id)))


async def _managed(request: web.Request) -> tuple[User, EdgeContext, Webhook, ChannelAccess]:
    caller = await authenticate(request)
    ctx = ctx_of(request)
    hook = await ctx.storage.get_webhook(path_id(request, "webhook_id"))
    if hook is None:
        raise _unknown_webhook()
    found = await channel_access(ctx, hook.channel_id, caller)
    found.require(MANAGE_WEBHOOKS)
    return caller, ctx, hook, found


async def _by_token(request: web.Request) -> tuple[EdgeContext, Webhook]:
    ctx = ctx_of(request)
    hook = await ctx.storage.get_webhook(path_id(request, "webhook_id"))
    if hook is None:
        raise _unknown_webhook()
    if not secrets.compare_digest(hook.token.encode(), request.match_info["webhook_token"].encode()):
        raise ApiError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
    return ctx, hook


@routes.get("/webhooks/{webhook_id}")
async def get_webhook(request: web.Request) -> web.Response:
    _, ctx, hook, _ = await _managed(request)
    return json_response(
        webhook_shape(
            hook, await ctx.storage.get_user(hook.creator_id), with_token=True, base=base_url(request, ctx)
        )
    )


async def _modify(ctx: EdgeContext, hook: Webhook, body: Json, caller: User | None) -> Webhook:
    changed = replace(hook, name=_name(body, required=False) or hook.name)
    if "avatar" in body:
        changed = replace(changed, avatar=_avatar_hash(body["avatar"]))
    if (channel_id := optional_id(body, "channel_id")) is not None:
        if caller is None:
            raise invalid_form("channel_id", "BASE_TYPE_INVALID", "A webhook token cannot move its webhook")
        target = await channel_access(ctx, channel_id, caller)
        if target.channel.guild_id != hook.guild_id:
            raise invalid_form("channel_id", "BASE_TYPE_INVALID", "The channel is in another guild")
        target.require(MANAGE_WEBHOOKS)
        changed = replace(changed, channel_id=target.channel.id)
    await ctx.storage.put_webhook(changed)
    await _updated(ctx, changed)
    if changed.channel_id != hook.channel_id:
        await _updated(ctx, hook)
    return changed


@routes.patch("/webhooks/{webhook_id}")
async def modify_webhook(request: web.Request) -> web.Response:
    caller, ctx, hook, _ = await _managed(request)
    changed = await _modify(ctx, hook, await read_json(request), caller)
    return json_response(
        webhook_shape(
            changed, await ctx.storage.get_user(hook.creator_id), with_token=True, base=base_url(request, ctx)
        )
    )


@routes.delete("/webhooks/{webhook_id}")
async def delete_webhook(request: web.Request) -> web.Response:
    _, ctx, hook, _ = await _managed(request)
    if not await ctx.storage.delete_webhook(hook.id):
        raise _unknown_webhook()
    await _updated(ctx, hook)
    return web.Response(status=204)


@routes.get("/webhooks/{webhook_id}/{webhook_token}")
async def get_webhook_with_token(request: web.Request) -> web.Response:
    ctx, hook = await _by_token(request)
    return json_response(webhook_shape(hook, None, with_token=True, base=base_url(request, ctx)))


@routes.patch("/webhooks/{webhook_id}/{webhook_token}")
async def modify_webhook_with_token(request: web.Request) -> web.Response:
    ctx, hook = await _by_token(request)
    changed = await _modify(ctx, hook, await read_json(request), None)
    return json_response(webhook_shape(changed, None, with_token=True, base=base_url(request, ctx)))


@routes.delete("/webhooks/{webhook_id}/{webhook_token}")
async def delete_webhook_with_token(request: web.Request) -> web.Response:
    ctx, hook = await _by_token(request)
    if not await ctx.storage.delete_webhook(hook.id):
        raise _unknown_webhook()
    await _updated(ctx, hook)
    return web.Response(status=204)


@dataclass(frozen=True, slots=True)
class Target:
    """Where ``/webhooks/{id}/{token}`` messages go: a webhook, or a live interaction's token."""

    channel: Channel
    hook: str
    webhook: Webhook | None = None
    interaction: Live | None = None

    @property
    def viewer(self) -> int | None:
        return self.interaction.state.user_id if self.interaction else None


async def _target(request: web.Request) -> tuple[EdgeContext, Target]:
    ctx = ctx_of(request)
    token = request.match_info["webhook_token"]
    found = await live(ctx, path_id(request, "webhook_id"), token)
    if found is not None:
        return ctx, Target(found.channel, token, interaction=found)
    ctx, hook = await _by_token(request)
    channel = await ctx.storage.get_channel(hook.channel_id)
    if channel is None:
        raise unknown("channel")
    return ctx, Target(channel, str(hook.id), webhook=hook)


def _webhook_sender(hook: Webhook, body: Json) -> hook_messages.Sender:
    """The webhook posts under its name (or the request's ``username``) and avatar."""
    username = _name({"name": body["username"]}, required=True) if body.get("username") else hook.name
    avatar = hook.avatar
    if body.get("avatar_url") is not None:  # named by its hash, as Discord names the fetched image
        url = text(body, "avatar_url", 1, 2048)
        avatar = hashlib.md5(str(url).encode(), usedforsecurity=False).hexdigest()
    author = User(id=hook.id, username=username or hook.name, bot=True, discriminator="0000")
    return hook_messages.Sender(
        author, str(hook.id), author_override={"username": author.username, "avatar": avatar},
        webhook_id=hook.id, application_id=hook.application_id,
    )  # fmt: skip


@routes.post("/webhooks/{webhook_id}/{webhook_token}")
async def execute(request: web.Request) -> web.Response:
    ctx, target = await _target(request)
    thread_id = query_id(request, "thread_id")
    if thread_id is not None and target.webhook is not None:  # post into a thread of its channel
        target = replace(target, channel=await rest_threads.thread_under(ctx, target.channel, thread_id))
    async with message_form(request, ctx, target.channel.id) as form:
        body, files = form.payload, form.attachments_after_edit(()) or ()
        if target.interaction is not None:
            return json_response(await _followup(ctx, target.interaction, body, files))
        assert target.webhook is not None
        parsed, _ = hook_messages.parse(body, has_attachments=bool(files))
        sender = _webhook_sender(target.webhook, body)
        shown = await hook_messages.create(ctx, target.channel, sender, parsed, attachments=files)
    wait = request.query.get("wait", "").lower() in ("true", "1")
    return json_response(shown) if wait else web.Response(status=204)


@routes.post("/webhooks/{webhook_id}/{webhook_token}/slack")
async def execute_slack(request: web.Request) -> web.Response:
    """A Slack-compatible payload (``slack_compat``) posted as the webhook; answers "ok"."""
    ctx, hook = await _by_token(request)
    channel = await ctx.storage.get_channel(hook.channel_id)
    if channel is None:
        raise unknown("channel")
    thread_id = query_id(request, "thread_id")
    if thread_id is not None:
        channel = await rest_threads.thread_under(ctx, channel, thread_id)
    body = slack_compat.as_discord(await read_json(request))
    parsed, _ = hook_messages.parse(body)
    await hook_messages.create(ctx, channel, _webhook_sender(hook, body), parsed)
    return json_response("ok")


async def _followup(ctx: EdgeContext, found: Live, body: Json, files: tuple[Json, ...]) -> Json:
    """A followup; the first after a deferred response fills its loading message, as on Discord."""
    if found.state.callback_type <= 0:  # never acknowledged, or the deadline passed first
        raise _unknown_webhook()
    parsed, ephemeral = hook_messages.parse(body, ephemeral_ok=True, has_attachments=bool(files))
    original = found.state.original_id
    app_id, user_id = found.state.application_id, found.state.user_id
    if found.state.callback_type == 5 and original is not None:
        loading = await hook_messages.resolve(ctx, found.channel.id, original)
        if (
            loading is not None
            and (await hook_messages.show(ctx, loading, user_id))["flags"] & hook_messages.LOADING
        ):
            return await hook_messages.edit(
                ctx, found.channel, loading, replace(parsed, flags=None), app_id, user_id, files
            )
    sender = found.sender(await app_user(ctx, app_id), followup_of=original)
    return await hook_messages.create(
        ctx,
        found.channel,
        sender,
        parsed,
        type_=found.message_type,
        ephemeral_to=user_id if ephemeral else None,
    )


async def _addressed(request: web.Request) -> tuple[EdgeContext, Target, HookMessage]:
    ctx, target = await _target(request)
    raw = request.match_info["message_id"]
    if raw == "@original":
        original = target.interaction.state.original_id if target.interaction else None
        found = (
            await hook_messages.resolve(ctx, target.channel.id, original) if original is not None else None
        )
    else:
        found = await ctx.storage.get_hook_message(target.hook, path_id(request, "message_id"))
    if found is None or found.channel_id != target.channel.id:
        raise unknown("message")
    return ctx, target, found


@routes.get("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def get_hook_message(request: web.Request) -> web.Response:
    ctx, target, found = await _addressed(request)
    return json_response(await hook_messages.show(ctx, found, target.viewer or 0))


@routes.patch("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def edit_hook_message(request: web.Request) -> web.Response:
    ctx, target, found = await _addressed(request)
    editor = target.interaction.state.application_id if target.interaction else int(target.hook)
    existing = tuple((await hook_messages.show(ctx, found, editor))["attachments"])
    async with message_form(request, ctx, target.channel.id) as form:
        parsed, _ = hook_messages.parse(form.payload, edit=True)
        kept = form.attachments_after_edit(existing)
        shown = await hook_messages.edit(ctx, target.channel, found, parsed, editor, target.viewer, kept)
    return json_response(shown)


@routes.delete("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def delete_hook_message(request: web.Request) -> web.Response:
    ctx, target, found = await _addressed(request)
    await hook_messages.delete(ctx, target.channel, found, target.viewer)
    return web.Response(status=204)
