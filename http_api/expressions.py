"""What a guild's custom expressions (emojis, stickers, soundboard sounds) share: each one is its own
settings document of its owner (``<kind prefix><id>``), its media apart; reading one by the path's
id (Discord's "Unknown ..." 404), the permission to change one (its creator with
CREATE_EXPRESSIONS, anyone with MANAGE_GUILD_EXPRESSIONS), and announcing a change: the gateway
event the kind names (GUILD_EXPRESSIONS intent) and its audit entry, after the write is durable.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rayguild.actors.commands import Publish
from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, missing_permissions
from rayguild.http_api.forms import path_id
from rayguild.http_api.notify import publish

CREATE_EXPRESSIONS = 1 << 43
MANAGE_GUILD_EXPRESSIONS = 1 << 30
GUILD_EXPRESSIONS = 1 << 3  # the gateway intent of GUILD_EMOJIS_UPDATE / GUILD_STICKERS_UPDATE

Doc = dict[str, Any]
Shape = Callable[[EdgeContext, Doc], Awaitable[Doc]]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of expression: where its documents are, how it is named and announced."""

    prefix: str  # its documents' names: prefix + id
    path_param: str  # the route's {…} naming one
    unknown_code: int
    unknown_message: str
    shape: Shape  # the stored document as Discord shows it
    event: str  # the gateway event a change sends
    listed_as: str  # the event's list field ("emojis"); "" when the event carries the one changed


async def stored_all(ctx: EdgeContext, kind: Kind, owner_id: int) -> list[Doc]:
    return [json.loads(doc) for _, doc in await ctx.storage.list_settings(owner_id, kind.prefix)]


async def stored_one(ctx: EdgeContext, kind: Kind, owner_id: int, request: web.Request) -> Doc:
    """The stored expression the path names (404 with the kind's code if the owner has none)."""
    stored = await ctx.storage.get_setting(owner_id, f"{kind.prefix}{path_id(request, kind.path_param)}")
    if stored is None:
        raise ApiError(404, kind.unknown_code, kind.unknown_message)
    return dict(json.loads(stored))


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
