"""What a guild's custom expressions (emojis, stickers, soundboard sounds) share: each one is its own
settings document of its owner (``<kind prefix><id>``), its media apart (``<media prefix><id>``,
written before the record and deleted after it, its owner recorded for the CDN paths of
``expression_media``); reading one by the path's id (Discord's "Unknown ..." 404), showing its
creator, the permission to change one (its creator with CREATE_EXPRESSIONS, anyone with
MANAGE_GUILD_EXPRESSIONS), and announcing a change: the gateway event the kind names
(GUILD_EXPRESSIONS intent) and its audit entry, after the write is durable.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.http_api import audit, expression_media
from rayguild.http_api.access import GuildAccess, guild_request
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, json_response, missing_permissions
from rayguild.http_api.forms import path_id
from rayguild.http_api.notify import publish
from rayguild.shapes import user as user_shape

CREATE_EXPRESSIONS = 1 << 43
MANAGE_GUILD_EXPRESSIONS = 1 << 30
GUILD_EXPRESSIONS = 1 << 3  # the gateway intent of GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE

Doc = dict[str, Any]
Shape = Callable[[EdgeContext, Doc], Awaitable[Doc]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One kind of expression: where its documents are, how it is named and announced (built by
    keyword: nine fields, several of them strings)."""

    prefix: str  # its documents' names: prefix + id
    path_param: str  # the route's {…} naming one
    unknown_code: int
    unknown_message: str
    shape: Shape  # the stored document as Discord shows it
    event: str  # the gateway event a change sends
    listed_as: str  # the event's list field ("emojis"); "" when the event carries the one changed
    media_prefix: str  # its media's documents: media_prefix + id
    media_kind: str  # its kind in the CDN paths' owner records (``expression_media``)


async def stored_all(ctx: EdgeContext, kind: Kind, owner_id: int) -> list[Doc]:
    return [json.loads(doc) for _, doc in await ctx.storage.list_settings(owner_id, kind.prefix)]


async def stored_one(ctx: EdgeContext, kind: Kind, owner_id: int, request: web.Request) -> Doc:
    """The stored expression the path names (404 with the kind's code if the owner has none)."""
    stored = await ctx.storage.get_setting(owner_id, f"{kind.prefix}{path_id(request, kind.path_param)}")
    if stored is None:
        raise unknown(kind)
    return dict(json.loads(stored))


async def shown_all(request: web.Request, kind: Kind) -> list[Doc]:
    """Every expression of the kind of the path's guild, as Discord shows them (any member may)."""
    _, ctx, access = await guild_request(request)
    return [await kind.shape(ctx, e) for e in await stored_all(ctx, kind, access.guild.id)]


async def get_one(request: web.Request, kind: Kind) -> web.Response:
    """The route showing the one expression the path names (any member of the guild may)."""
    _, ctx, access = await guild_request(request)
    return json_response(await kind.shape(ctx, await stored_one(ctx, kind, access.guild.id, request)))


def unknown(kind: Kind) -> ApiError:
    return ApiError(404, kind.unknown_code, kind.unknown_message)


async def with_creator(ctx: EdgeContext, shown: Doc, stored: Doc) -> Doc:
    """``shown`` with the expression's creator as ``user`` (unless the account is gone)."""
    creator = await ctx.storage.get_user(int(stored["user_id"]))
    if creator is not None:
        shown["user"] = user_shape(creator)
    return shown


async def store(ctx: EdgeContext, kind: Kind, owner_id: int, stored: Doc, media: str | None = None) -> None:
    """Write the expression's record (and first its media, a JSON string, when given)."""
    if media is not None:
        await ctx.storage.put_setting(owner_id, f"{kind.media_prefix}{stored['id']}", json.dumps(media))
        await expression_media.record_owner(ctx, kind.media_kind, stored["id"], owner_id)
    await ctx.storage.put_setting(owner_id, f"{kind.prefix}{stored['id']}", json.dumps(stored))


async def drop(ctx: EdgeContext, kind: Kind, owner_id: int, expression_id: str) -> bool:
    """Delete the record, then its media; False if another request deleted the record first."""
    existed = await ctx.storage.delete_setting(owner_id, f"{kind.prefix}{expression_id}")
    await ctx.storage.delete_setting(owner_id, f"{kind.media_prefix}{expression_id}")
    await expression_media.forget_owner(ctx, kind.media_kind, expression_id)
    return existed


def may_change(access: GuildAccess, stored: Doc) -> None:
    own = stored["user_id"] == str(access.member.user_id) and access.permissions & CREATE_EXPRESSIONS
    if not own and not access.permissions & MANAGE_GUILD_EXPRESSIONS:
        raise missing_permissions()


async def announce(request: web.Request, ctx: EdgeContext, kind: Kind, access: GuildAccess, action: int,
                   changed: Doc, changes: list[audit.Change], event: str = "", d: Doc | None = None) -> None:  # fmt: skip
    """The gateway event (the kind's, or ``event``) with ``d``, by default the kind's whole list or
    the one changed; then the audit entry."""
    gid = access.guild.id
    if d is None and kind.listed_as:
        shown = [await kind.shape(ctx, e) for e in await stored_all(ctx, kind, gid)]
        d = {"guild_id": str(gid), kind.listed_as: shown}
    elif d is None:
        d = {**await kind.shape(ctx, changed), "guild_id": str(gid)}
    await publish(ctx, Publish(gid, event or kind.event, d, intent=GUILD_EXPRESSIONS))
    await audit.record(request, ctx, gid, access.member.user_id, action, int(changed["id"]), changes)
