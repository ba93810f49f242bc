"""Discord API v10 object shapes built from storage records: one place, used by REST and gateway.

Snowflakes go out as strings; timestamps as ISO 8601 with an explicit +00:00 offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rayguild.ids import snowflake_time_ms
from rayguild.storage.models import Channel, Guild, Invite, Member, Message, Role, User

Json = dict[str, Any]

REPLY = 19  # the message type of a reply


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def user(u: User) -> Json:
    return {
        "id": str(u.id),
        "username": u.username,
        "discriminator": u.discriminator,
        "global_name": u.global_name,
        "avatar": u.avatar,
        "bot": u.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "mfa_enabled": False,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }


def member(m: Member, u: User | None = None) -> Json:
    out: Json = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": iso(m.joined_at_ms),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if u is not None:
        out["user"] = user(u)
    return out


def role_colors(r: Role) -> Json:
    """A role's ``colors`` object (discord.py 2.6+ reads its colour from here, not ``color``)."""
    return {"primary_color": r.color, "secondary_color": None, "tertiary_color": None}


def role(r: Role) -> Json:
    return {
        "id": str(r.id),
        "name": r.name,
        "color": r.color,
        "colors": role_colors(r),
        "hoist": r.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": False,
        "mentionable": r.mentionable,
        "flags": 0,
    }


def channel(c: Channel, last_message_id: int | None = None) -> Json:
    out: Json = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "parent_id": str(c.parent_id) if c.parent_id else None,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.permission_overwrites
        ],
        "flags": 0,
        "nsfw": False,
    }
    if c.type in (0, 5):
        out.update(topic=c.topic, rate_limit_per_user=0, last_message_id=_sid(last_message_id))
    if c.type == 2:
        out.update(bitrate=64000, user_limit=0, rtc_region=None)
    return out


def guild(g: Guild, roles: Iterable[Role], member_count: int | None = None) -> Json:
    out: Json = {
        "id": str(g.id),
        "name": g.name,
        "icon": g.icon,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": g.description,
        "owner_id": str(g.owner_id),
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in roles],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "nsfw": False,
        "premium_progress_bar_enabled": False,
        "max_members": 1_000_000,
        "max_presences": None,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "home_header": None,
        "widget_enabled": False,
        "widget_channel_id": None,
        "incidents_data": None,
    }
    if member_count is not None:
        out["approximate_member_count"] = member_count
    return out


SUPPRESS_EMBEDS = 1 << 2


def message(
    m: Message,
    author: User,
    guild_member: Member | None = None,
    *,
    mentioned: Sequence[User] = (),
    referenced: Json | None = None,
    reactions: Sequence[Json] = (),
) -> Json:
    """Discord's message object. ``mentioned`` are the accounts of ``m.mention_ids`` (unknown ones
    left out), ``referenced`` the shown message a reply points at (None: deleted), ``reactions``
    the viewer's reaction counts."""
    shown_author = user(author)
    if m.author_override is not None:  # a webhook posts under the name and avatar it was given
        shown_author.update(id=str(m.webhook_id), bot=True, **m.author_override)
    out: Json = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "type": m.type,
        "content": m.content,
        "author": shown_author,
        "timestamp": iso(snowflake_time_ms(m.id)),
        "edited_timestamp": iso(m.edited_at_ms) if m.edited_at_ms else None,
        "tts": False,
        "mention_everyone": m.mention_everyone,
        "mentions": [user(u) for u in mentioned],
        "mention_roles": [str(r) for r in m.mention_role_ids],
        "attachments": list(m.attachments),
        "embeds": [] if m.flags & SUPPRESS_EMBEDS else list(m.embeds),
        "components": list(m.components),
        "pinned": m.pinned,
        "flags": m.flags,
    }
    if reactions:
        out["reactions"] = list(reactions)
    if m.nonce is not None:
        out["nonce"] = m.nonce
    for key in ("application_id", "webhook_id"):
        if (value := getattr(m, key)) is not None:
            out[key] = str(value)
    if m.interaction_metadata is not None:
        out["interaction_metadata"] = meta = m.interaction_metadata
        # The deprecated ``interaction`` object, for clients that still read it.
        out["interaction"] = {"id": meta["id"], "type": meta["type"], "name": meta.get("name", "")}
        if "user" in meta:
            out["interaction"]["user"] = meta["user"]
    if m.reference is not None:
        ref = m.reference
        out["message_reference"] = {
            "type": 0, "message_id": str(ref.message_id), "channel_id": str(ref.channel_id),
        }  # fmt: skip
        if ref.guild_id is not None:
            out["message_reference"]["guild_id"] = str(ref.guild_id)
        if m.type == REPLY:
            out["referenced_message"] = referenced
    if m.guild_id is not None:
        out["guild_id"] = str(m.guild_id)
        if guild_member is not None and m.webhook_id is None:
            out["member"] = member(guild_member)
    return out


def invite(i: Invite, g: Guild, c: Channel, inviter: User | None) -> Json:
    return {
        "type": 0,
        "code": i.code,
        "guild_id": str(g.id),
        "guild": {
            "id": str(g.id),
            "name": g.name,
            "icon": g.icon,
            "splash": None,
            "banner": None,
            "description": g.description,
            "features": [],
            "verification_level": 0,
            "vanity_url_code": None,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_subscription_count": 0,
        },
        "channel": {"id": str(c.id), "name": c.name, "type": c.type},
        "inviter": user(inviter) if inviter else None,
        "uses": i.uses,
        "max_uses": i.max_uses,
        "max_age": i.max_age_s,
        "temporary": False,
        "created_at": iso(i.created_at_ms),
        "expires_at": iso(i.created_at_ms + i.max_age_s * 1000) if i.max_age_s else None,
    }


def _sid(value: int | None) -> str | None:
    return str(value) if value else None
