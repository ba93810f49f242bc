"""``POST /interactions/{id}/{token}/callback``: the bot answers an interaction, once, in time; and
the token's later life (@original and followups) for rest_webhooks.py.

Callback types as Discord allows them: 1 PONG (pings only), 4 message, 5 deferred message (a
loading message the bot edits later), 6 deferred update and 7 update (components and modal
submits from components), 8 autocomplete result, 9 modal. The first callback within
``config.interaction_ack_timeout_s`` (3 s, as on Discord) wins: the acknowledgement is an atomic
write in storage, so two callbacks on two edges cannot both succeed (the second gets 400 40060);
one after the deadline gets 404 10062 (the deadline itself is an acknowledgement that sends the
invoker INTERACTION_FAILURE: interaction_chain.py). A MODAL callback records the modal for the
submit to be checked against.
``?with_response=true`` returns Discord's interaction callback response instead of 204. The
invoking user's sessions get INTERACTION_SUCCESS, and the autocomplete choices or the modal, as
Discord's client expects. The token then lives ``INTERACTION_TTL_S`` (15 minutes) for @original
and followups (401 50027 after).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import orjson
from aiohttp import web

from rayguild.http_api import dms, hook_messages, interaction_chain
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form, json_response, unknown
from rayguild.http_api.forms import path_id
from rayguild.http_api.keys import ctx_of
from rayguild.http_api.message_core import EPHEMERAL
from rayguild.http_api.uploads import message_form
from rayguild.storage.bots_protocol import INTERACTION_TTL_S, InteractionState
from rayguild.storage.models import Channel, User

routes = web.RouteTableDef()
Json = dict[str, Any]

UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060
INVALID_WEBHOOK_TOKEN = 50027
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, AUTOCOMPLETE_RESULT, MODAL = 1, 4, 5, 6, 7, 8, 9
ALLOWED = {
    1: {PONG},
    2: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    3: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, MODAL},
    4: {AUTOCOMPLETE_RESULT},
    5: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE},
}
CHAT_INPUT_COMMAND, CONTEXT_MENU_COMMAND = 20, 23


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def unknown_interaction() -> ApiError:
    return ApiError(404, UNKNOWN_INTERACTION, "Unknown interaction")


@dataclass(frozen=True, slots=True)
class Live:
    """An interaction whose token still lives, with what messages sent through it need."""

    state: InteractionState
    interaction: Json
    nonce: Any
    channel: Channel

    @property
    def message_type(self) -> int:
        if self.state.type != 2:
            return 0
        return CHAT_INPUT_COMMAND if self.interaction["data"]["type"] == 1 else CONTEXT_MENU_COMMAND

    def sender(self, app: User, followup_of: int | None = None) -> hook_messages.Sender:
        """Messages through this token: by the application's bot, with ``interaction_metadata``."""
        d = self.interaction
        user = d["member"]["user"] if "member" in d else d["user"]
        metadata: Json = {"id": d["id"], "type": d["type"], "user": user,
                          "authorizing_integration_owners": d["authorizing_integration_owners"]}  # fmt: skip
        if d["type"] == 2:
            metadata.update(name=d["data"]["name"], command_type=d["data"]["type"])
        if d["type"] == 3:
            metadata["interacted_message_id"] = d["message"]["id"]
        if followup_of is not None:
            metadata["original_response_message_id"] = str(followup_of)
        return hook_messages.Sender(
            app, self.state.token, INTERACTION_TTL_S, webhook_id=app.id, application_id=app.id,
            interaction_metadata=metadata,
        )  # fmt: skip


async def live(ctx: EdgeContext, application_id: int, token: str) -> Live | None:
    """The interaction behind a token, if it belongs to ``application_id`` and still lives."""
    state = await ctx.storage.get_interaction(token)
    if state is None or state.application_id != application_id:
        return None
    if _now_ms() - state.created_at_ms > INTERACTION_TTL_S * 1000:
        raise ApiError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
    channel = await ctx.storage.get_channel(state.channel_id)
    if channel is None:
        dm = await ctx.storage.get_dm(state.channel_id)
        if dm is None:
            raise unknown("channel")
        channel = dms.as_channel(dm)
    body = orjson.loads(state.body)
    return Live(state, body["interaction"], body["nonce"], channel)


def _choices(data: Any) -> list[Json]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or len(choices) > 25:
        raise invalid_form("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid_form(
                f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if isinstance(choice.get("value"), bool) or not isinstance(choice.get("value"), str | int | float):
            raise invalid_form(f"data.choices.{i}.value", "BASE_TYPE_REQUIRED", "This field is required")
    return choices


def _modal(data: Any) -> Json:
    if not isinstance(data, dict):
        raise invalid_form("data", "BASE_TYPE_REQUIRED", "This field is required")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        raise invalid_form("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        raise invalid_form("data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= 5:
        raise invalid_form("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    return {"title": title, "custom_id": custom_id, "components": rows}


async def app_user(ctx: EdgeContext, app_id: int) -> User:
    account = await ctx.storage.get_user(app_id)
    if account is None:
        raise unknown("user")
    return account


async def _apply(ctx: EdgeContext, found: Live, kind: int, data: Any, files: tuple[Json, ...]) -> Json | None:
    """Carry out an acknowledged callback (``files``: stored uploads for its message); the message
    it made or changed, if any."""
    user_id, token = found.state.user_id, found.state.token
    if kind in (MESSAGE, DEFERRED_MESSAGE):
        body, ephemeral = data if kind == MESSAGE else (hook_messages.LOADING_BODY, found.state.ephemeral)
        sender = found.sender(await app_user(ctx, found.state.application_id))
        shown = await hook_messages.create(
            ctx, found.channel, sender, body, type_=found.message_type,
            flags=hook_messages.LOADING if kind == DEFERRED_MESSAGE else 0,
            ephemeral_to=user_id if ephemeral else None, attachments=files,
        )  # fmt: skip
        await ctx.storage.set_original(token, int(shown["id"]))
        return shown
    if kind in (DEFERRED_UPDATE, UPDATE):
        message_id = int(found.interaction["message"]["id"])
        await ctx.storage.set_original(token, message_id)
        if kind == DEFERRED_UPDATE:
            return None
        located = await hook_messages.resolve(ctx, found.channel.id, message_id)
        if located is None:
            raise unknown("message")
        body, _ = data
        return await hook_messages.edit(
            ctx, found.channel, located, body, found.state.application_id, user_id, files or None
        )
    if kind == AUTOCOMPLETE_RESULT:
        d = {
            "choices": data["choices"],
            "nonce": found.nonce,
            "application_id": str(found.state.application_id),
        }
        await hook_messages.tell(ctx, user_id, "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE", d)
    elif kind == MODAL:
        await interaction_chain.remember_modal(ctx, found.state, data, found.interaction.get("message"))
        app = {"id": str(found.state.application_id)}
        d = {"id": str(found.state.id), "nonce": found.nonce, "channel_id": str(found.channel.id),
             "application": app, **data}  # fmt: skip
        await hook_messages.tell(ctx, user_id, "INTERACTION_MODAL_CREATE", d)
    return None


def _validated(kind: int, data: Any, has_files: bool) -> Any:
    """The callback's data, checked before anything is acknowledged."""
    if kind in (MESSAGE, UPDATE):
        body = data if isinstance(data, dict) else {}
        return hook_messages.parse(
            body, edit=kind == UPDATE, ephemeral_ok=kind == MESSAGE, has_attachments=has_files
        )
    if kind == AUTOCOMPLETE_RESULT:
        return {"choices": _choices(data)}
    if kind == MODAL:
        return _modal(data)
    if data is not None and not isinstance(data, dict):
        raise invalid_form("data", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return data or {}


async def _answer(
    ctx: EdgeContext, state: InteractionState, body: Json, files: tuple[Json, ...]
) -> tuple[Json | None, bool]:
    """Check the callback, acknowledge it (once, in time), carry it out: (its message, ephemeral)."""
    kind = body.get("type")
    if isinstance(kind, bool) or kind not in ALLOWED.get(state.type, set()):
        raise invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
    if kind in (DEFERRED_UPDATE, UPDATE) and "message" not in orjson.loads(state.body)["interaction"]:
        raise invalid_form(
            "type", "INTERACTION_RESPONSE_TYPE_INVALID", "The interaction has no message to update"
        )
    if state.callback_type == interaction_chain.EXPIRED:
        raise unknown_interaction()
    if state.callback_type:
        raise ApiError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    if _now_ms() - state.created_at_ms > ctx.config.interaction_ack_timeout_s * 1000:
        raise unknown_interaction()
    data = _validated(kind, body.get("data"), bool(files))
    if kind == MESSAGE:
        ephemeral = data[1]
    else:
        flags = data.get("flags") if kind == DEFERRED_MESSAGE else 0
        ephemeral = isinstance(flags, int) and not isinstance(flags, bool) and bool(flags & EPHEMERAL)
    if not await ctx.storage.acknowledge_interaction(state.token, kind, ephemeral):
        now = await ctx.storage.get_interaction(state.token)
        if now is None or now.callback_type == interaction_chain.EXPIRED:
            raise unknown_interaction()  # the deadline won the race
        raise ApiError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    found = await live(ctx, state.application_id, state.token)
    assert found is not None
    found = replace(found, state=replace(found.state, callback_type=kind, ephemeral=ephemeral))
    return await _apply(ctx, found, kind, data, files), ephemeral


@routes.post("/interactions/{interaction_id}/{interaction_token}/callback")
async def callback(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    token = request.match_info["interaction_token"]
    state = await ctx.storage.get_interaction(token)
    if state is None or state.id != path_id(request, "interaction_id") or state.type not in ALLOWED:
        raise unknown_interaction()
    async with message_form(request, ctx, state.channel_id) as form:
        kind = form.payload.get("type")
        message, ephemeral = await _answer(ctx, state, form.payload, form.attachments_after_edit(()) or ())
    nonce = orjson.loads(state.body)["nonce"]
    await hook_messages.tell(ctx, state.user_id, "INTERACTION_SUCCESS", {"id": str(state.id), "nonce": nonce})
    if request.query.get("with_response", "").lower() not in ("true", "1"):
        return web.Response(status=204)
    response: Json = {"interaction": {"id": str(state.id), "type": state.type}}
    if message is not None:
        loading = bool(message["flags"] & hook_messages.LOADING)
        response["interaction"].update(response_message_id=message["id"], response_message_loading=loading,
                                       response_message_ephemeral=ephemeral)  # fmt: skip
        response["resource"] = {"type": kind, "message": message}
    return json_response(response)
