"""Direct-message channels: who may message whom, how a DM channel looks, and how its message
events reach its two users (the routes that open and list DMs are in ``rest_dms``).

A pair of users has exactly one DM channel (type 1), reused by every later open from either
side; CHANNEL_CREATE goes to the opener's sessions when it is created. Who may DM whom
(decided here, as Discord does for bots; checked when opening AND when sending, since
membership changes): never oneself, never a bot to a bot, and only users who share a guild
(403 50007 Cannot send messages to this user). An unknown recipient is 400 50033 Invalid
Recipient(s); a DM channel the caller is not in is 403 50001 Missing Access.

Message events of a DM channel go through the user path (``ctx.users.deliver``) to both users'
sessions that asked for DIRECT_MESSAGES, content never stripped (Discord's MESSAGE_CONTENT
exemption for DMs); a new message also asks the push pipeline to notify the recipient if they
have no connected session.
"""

from __future__ import annotations

from typing import Any

import structlog

from rayguild.actors.push import PushRequest
from rayguild.errors import RayguildError
from rayguild.fanout.events import DIRECT_MESSAGES
from rayguild.fanout.permissions import ADD_REACTIONS, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, missing_access, unknown
from rayguild.http_api.push_notify import PREVIEW_CHARS
from rayguild.shapes import user as user_shape
from rayguild.storage.models import Channel, DmChannel, User

log = structlog.get_logger("rayguild.http")

Json = dict[str, Any]
DM = 1  # Discord's channel type
# What each recipient may do in a DM: no one manages it or pings @everyone there.
DM_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | ADD_REACTIONS
CANNOT_MESSAGE_USER = 50007
INVALID_RECIPIENTS = 50033


def cannot_message() -> ApiError:
    return ApiError(403, CANNOT_MESSAGE_USER, "Cannot send messages to this user")


def as_channel(dm: DmChannel) -> Channel:
    """The DM as the message core's channel record: type 1, no guild (guild_id 0)."""
    return Channel(id=dm.id, guild_id=0, name="", type=DM)


def dm_shape(dm: DmChannel, recipient: User) -> Json:
    """The channel as one of its users sees it: ``recipients`` is the other user."""
    return {
        "id": str(dm.id), "type": DM, "last_message_id": None, "flags": 0,
        "last_pin_timestamp": None, "recipients": [user_shape(recipient)],
    }  # fmt: skip


async def check_may_dm(ctx: EdgeContext, sender: User, recipient: User) -> None:
    """403 50007 unless ``sender`` may message ``recipient`` (see the module docstring)."""
    if sender.id == recipient.id or (sender.bot and recipient.bot):
        raise cannot_message()
    shared = set(await ctx.storage.guilds_of_user(sender.id)) & set(
        await ctx.storage.guilds_of_user(recipient.id)
    )
    if not shared:
        raise cannot_message()


async def dm_of(ctx: EdgeContext, channel_id: int, caller: User) -> DmChannel | None:
    """The DM channel ``channel_id`` if it is one (403 50001 if the caller is not in it)."""
    dm = await ctx.storage.get_dm(channel_id)
    if dm is not None and caller.id not in dm.users:
        raise missing_access()
    return dm


async def check_may_send(ctx: EdgeContext, channel_id: int, sender: User) -> None:
    """Before a message goes into DM ``channel_id``: the pair may still message each other."""
    dm = await ctx.storage.get_dm(channel_id)
    recipient = await ctx.storage.get_user(dm.other(sender.id)) if dm is not None else None
    if recipient is None:
        raise cannot_message()
    await check_may_dm(ctx, sender, recipient)


async def deliver(ctx: EdgeContext, channel_id: int, t: str, d: Json, intent: int = DIRECT_MESSAGES) -> None:
    """An event of DM ``channel_id`` to both users' sessions (with ``intent``: DIRECT_MESSAGES,
    or DIRECT_MESSAGE_REACTIONS / _TYPING), and for a new message a push to the recipient if
    they have no connected session. The change is already durable: a failure on the way is
    logged, never raised."""
    dm = await ctx.storage.get_dm(channel_id)
    if dm is None:
        return
    try:
        await ctx.users.deliver(list(dm.users), t, d, intent=intent)
    except RayguildError as exc:
        log.warning("dm.deliver_failed", channel_id=channel_id, t=t, error=str(exc))
    if t == "MESSAGE_CREATE":
        await _push(ctx, dm, d)


async def shown(ctx: EdgeContext, channel_id: int, viewer_id: int) -> Json:
    """DM ``channel_id`` as ``viewer_id`` sees it (GET /channels/{id} on a DM)."""
    dm = await ctx.storage.get_dm(channel_id)
    if dm is None:
        raise unknown("channel")
    recipient = await ctx.storage.get_user(dm.other(viewer_id))
    return dm_shape(dm, recipient or User(id=dm.other(viewer_id), username="Deleted User"))


async def _push(ctx: EdgeContext, dm: DmChannel, d: Json) -> None:
    author_id = int(d["author"]["id"])
    recipient = dm.other(author_id)
    data = {
        "message_id": d["id"], "channel_id": str(dm.id), "author": d["author"],
        "content": str(d.get("content", ""))[:PREVIEW_CHARS],
    }  # fmt: skip
    request = PushRequest(f"{d['id']}:{recipient}", recipient, "dm", data)
    try:
        await ctx.presence.push_if_offline([request])
    except (TimeoutError, RayguildError) as exc:
        log.warning("push.submit_failed", message_id=d["id"], users=1, error=str(exc))
