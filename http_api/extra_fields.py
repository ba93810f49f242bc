"""The guild and channel fields Discord lets a bot set beyond what their records hold: a guild's
verification level, notification and content-filter defaults, AFK / system / rules / public
updates / safety alerts channels, locale, banner and splash images, mutable features...; a
channel's nsfw flag, slowmode, bitrate, user limit, region, default auto-archive duration...

They are kept as one settings document per guild (``guild_extras``) and per channel
(``channel_extras:<id>``, owned by the guild so a guild's channels list in one read), validated as
Discord validates them (400 50035 naming the field), and merged into the guild and channel
objects the REST routes and GUILD_UPDATE / CHANNEL_UPDATE show. Images come as data URIs; the
field shows the image's hash and its bytes are kept beside it (``image:<hash>``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from rayguild.http_api import audit
from rayguild.http_api.access import GuildAccess
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import invalid_form
from rayguild.http_api.expression_media import image_data_uri
from rayguild.http_api.forms import flag, integer, optional_id, text
from rayguild.storage.models import Channel

Body = dict[str, Any]
MUTABLE_FEATURES = ("COMMUNITY", "DISCOVERABLE", "INVITES_DISABLED", "RAID_ALERTS_DISABLED")
AFK_TIMEOUTS = (60, 300, 900, 1800, 3600)
ARCHIVE_MINUTES = (60, 1440, 4320, 10080)
TEXT, VOICE = (0, 5), (2, 13)


def _choice(field: str, choices: tuple[int, ...]) -> Callable[[Body], int]:
    def parse(body: Body) -> int:
        value = integer(body, field, choices[0], 0, 1 << 31)
        if value not in choices:
            raise invalid_form(field, "BASE_TYPE_CHOICES", f"Value must be one of {choices}.")
        return value

    return parse


def _features(body: Body) -> list[str]:
    raw = body.get("features") or []
    if not isinstance(raw, list) or any(f not in MUTABLE_FEATURES for f in raw):
        raise invalid_form("features", "BASE_TYPE_CHOICES", f"Features a bot may set: {MUTABLE_FEATURES}.")
    return sorted(set(raw))


GUILD_FIELDS: dict[str, Callable[[Body], Any]] = {
    "verification_level": lambda b: integer(b, "verification_level", 0, 0, 4),
    "default_message_notifications": lambda b: integer(b, "default_message_notifications", 0, 0, 1),
    "explicit_content_filter": lambda b: integer(b, "explicit_content_filter", 0, 0, 2),
    "afk_timeout": _choice("afk_timeout", AFK_TIMEOUTS),
    "system_channel_flags": lambda b: integer(b, "system_channel_flags", 0, 0, (1 << 8) - 1),
    "preferred_locale": lambda b: text(b, "preferred_locale", 2, 10, required=False) or "en-US",
    "premium_progress_bar_enabled": lambda b: flag(b, "premium_progress_bar_enabled", False),
    "features": _features,
}
GUILD_CHANNELS = {
    "afk_channel_id": VOICE, "system_channel_id": TEXT, "rules_channel_id": TEXT,
    "public_updates_channel_id": TEXT, "safety_alerts_channel_id": TEXT,
}  # fmt: skip
GUILD_IMAGES = ("banner", "splash", "discovery_splash", "home_header")
CHANNEL_FIELDS: dict[str, Callable[[Body], Any]] = {
    "nsfw": lambda b: flag(b, "nsfw", False),
    "rate_limit_per_user": lambda b: integer(b, "rate_limit_per_user", 0, 0, 21_600),
    "bitrate": lambda b: integer(b, "bitrate", 64_000, 8_000, 96_000),
    "user_limit": lambda b: integer(b, "user_limit", 0, 0, 99),
    "rtc_region": lambda b: text(b, "rtc_region", 1, 32, required=False),
    "default_auto_archive_duration": _choice("default_auto_archive_duration", ARCHIVE_MINUTES),
    "default_thread_rate_limit_per_user": lambda b: integer(
        b, "default_thread_rate_limit_per_user", 0, 0, 21_600
    ),
    "video_quality_mode": lambda b: integer(b, "video_quality_mode", 1, 1, 2),
}


async def _stored(ctx: EdgeContext, owner_id: int, name: str) -> Body:
    raw = await ctx.storage.get_setting(owner_id, name)
    return dict(json.loads(raw)) if raw else {}


async def guild_extras(ctx: EdgeContext, guild_id: int) -> Body:
    return await _stored(ctx, guild_id, "guild_extras")


async def patch_guild_extras(
    ctx: EdgeContext, access: GuildAccess, body: Body
) -> tuple[Body, list[audit.Change]]:
    """Validate and keep the extra fields ``body`` sets; (all extras now, their audit changes)."""
    old = await guild_extras(ctx, access.guild.id)
    new = dict(old)
    for field, parse in GUILD_FIELDS.items():
        if field in body:
            new[field] = parse(body)
    channels = {c.id: c for c in await ctx.storage.list_channels(access.guild.id)}
    for field, kinds in GUILD_CHANNELS.items():
        if field in body:
            channel_id = optional_id(body, field)
            if channel_id is not None and (
                channel_id not in channels or channels[channel_id].type not in kinds
            ):
                raise invalid_form(field, "CHANNEL_INVALID", "Not a channel of this guild of the right type.")
            new[field] = str(channel_id) if channel_id is not None else None
    for field in GUILD_IMAGES:
        if field in body:
            new[field] = await _image(ctx, access.guild.id, body, field)
    if new != old:
        await ctx.storage.put_setting(access.guild.id, "guild_extras", json.dumps(new))
    return new, [audit.change(k, old.get(k), v) for k, v in new.items() if old.get(k) != v]


async def _image(ctx: EdgeContext, owner_id: int, body: Body, field: str) -> str | None:
    if body[field] is None:
        return None
    image, animated = image_data_uri(body, field)
    digest = hashlib.sha256(image.encode()).hexdigest()[:32]
    image_hash = f"a_{digest}" if animated else digest
    await ctx.storage.put_setting(owner_id, f"image:{image_hash}", json.dumps(image))
    return image_hash


async def channel_extras(ctx: EdgeContext, channel: Channel) -> Body:
    return await _stored(ctx, channel.guild_id, f"channel_extras:{channel.id}")


async def all_channel_extras(ctx: EdgeContext, guild_id: int) -> dict[int, Body]:
    """Every channel's extras of the guild, in one read."""
    found = await ctx.storage.list_settings(guild_id, "channel_extras:")
    return {int(name.split(":", 1)[1]): dict(json.loads(doc)) for name, doc in found}


async def patch_channel_extras(
    ctx: EdgeContext, channel: Channel, body: Body
) -> tuple[Body, list[audit.Change]]:
    old = await channel_extras(ctx, channel)
    new = dict(old)
    for field, parse in CHANNEL_FIELDS.items():
        if field in body:
            new[field] = parse(body)
    if new != old:  # slowmode among them, maybe: through the guild cache, so every edge reads it again
        writing = ctx.storage.put_setting(channel.guild_id, f"channel_extras:{channel.id}", json.dumps(new))
        await ctx.guild_cache.write(ctx.storage, channel.guild_id, writing)
    return new, [audit.change(k, old.get(k), v) for k, v in new.items() if old.get(k) != v]
