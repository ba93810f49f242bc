"""Auto-moderation rules: reading a rule from a request as Discord validates it, and enforcing
the guild's rules on a message about to be created.

Enforced as Discord does on MESSAGE_SEND (a message created, or its content edited): KEYWORD rules (``keyword_filter`` with ``*`` wildcards,
``regex_patterns``, ``allow_list``; case-insensitive) and MENTION_SPAM (more unique user and role
mentions than ``mention_total_limit``). A matching rule's BLOCK_MESSAGE action refuses the message
with 400 200000, its TIMEOUT action times the author out; each execution is announced as
AUTO_MODERATION_ACTION_EXECUTION to the members who may MANAGE_GUILD. Members who may MANAGE_GUILD
(administrators, the owner) and exempt roles and channels are never checked. SPAM and
KEYWORD_PRESET rules are kept but never match: rayguild has no spam model and no preset word lists.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from rayguild.fanout.permissions import MANAGE_GUILD
from rayguild.http_api import audit
from rayguild.http_api.access import ChannelAccess, GuildAccess
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError, invalid_form
from rayguild.http_api.forms import snowflake, text
from rayguild.http_api.guild_cache import GuildReader
from rayguild.http_api.moderation import member_with_state, now_ms
from rayguild.http_api.rest_member_edit import publish_update
from rayguild.storage.moderation import MemberState

KEYWORD, SPAM, KEYWORD_PRESET, MENTION_SPAM, MEMBER_PROFILE = 1, 3, 4, 5, 6
MESSAGE_SEND, MEMBER_UPDATE = 1, 2
BLOCK_MESSAGE, SEND_ALERT_MESSAGE, TIMEOUT, BLOCK_MEMBER_INTERACTION = 1, 2, 3, 4
MAX_OF_TYPE = {KEYWORD: 6, SPAM: 1, KEYWORD_PRESET: 1, MENTION_SPAM: 1, MEMBER_PROFILE: 1}
MAX_TIMEOUT_S = 2419200
BLOCKED = 200000
AUTO_MODERATION_EXECUTION = 1 << 21  # the gateway intent of AUTO_MODERATION_ACTION_EXECUTION
PREFIX = "automod-rule:"
_MENTION = re.compile(r"<@[!&]?(\d+)>")


async def rules_of(ctx: EdgeContext, guild_id: int) -> list[dict[str, Any]]:
    return [json.loads(doc) for _, doc in await ctx.storage.list_settings(guild_id, PREFIX)]


def _strings(meta: dict[str, Any], field: str, most: int, longest: int) -> list[str]:
    raw = meta.get(field) or []
    if not isinstance(raw, list) or len(raw) > most:
        raise invalid_form(field, "BASE_TYPE_MAX_LENGTH", f"Must be a list of at most {most} strings.")
    if any(not isinstance(s, str) or not 0 < len(s) <= longest for s in raw):
        raise invalid_form(field, "BASE_TYPE_BAD_LENGTH", f"Each must be 1 to {longest} characters.")
    return list(dict.fromkeys(raw))


def trigger_metadata(kind: int, raw: Any) -> dict[str, Any]:
    """The trigger metadata of a rule of ``kind``, validated as Discord does."""
    meta = raw if isinstance(raw, dict) else {}
    if kind == KEYWORD:
        patterns = _strings(meta, "regex_patterns", 10, 260)
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error:
                raise invalid_form(
                    "regex_patterns", "AUTO_MODERATION_INVALID_REGEX", "Invalid regex."
                ) from None
        return {"keyword_filter": _strings(meta, "keyword_filter", 1000, 60), "regex_patterns": patterns,
                "allow_list": _strings(meta, "allow_list", 100, 60)}  # fmt: skip
    if kind == KEYWORD_PRESET:
        presets = meta.get("presets") or []
        if not isinstance(presets, list) or any(p not in (1, 2, 3) for p in presets):
            raise invalid_form("presets", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3).")
        return {"presets": list(dict.fromkeys(presets)), "allow_list": _strings(meta, "allow_list", 1000, 60)}
    if kind == MENTION_SPAM:
        limit = meta.get("mention_total_limit", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 50:
            raise invalid_form(
                "mention_total_limit", "NUMBER_TYPE_MAX", "int value should be between 0 and 50."
            )
        raid = meta.get("mention_raid_protection_enabled", False)
        return {"mention_total_limit": limit, "mention_raid_protection_enabled": raid is True}
    return {}


async def actions(ctx: EdgeContext, access: GuildAccess, kind: int, raw: Any) -> list[dict[str, Any]]:
    """The rule's actions (1 to 5), each validated for the rule's ``kind``."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 5:
        raise invalid_form("actions", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    out = []
    for action in raw:
        kind_of = action.get("type") if isinstance(action, dict) else None
        meta = action.get("metadata") if isinstance(action, dict) else None
        if meta is not None and not isinstance(meta, dict):
            raise invalid_form("metadata", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        meta = meta or {}
        if kind_of == BLOCK_MESSAGE:
            custom = text(meta, "custom_message", 1, 150, required=False)
            out.append({"type": kind_of, "metadata": {"custom_message": custom} if custom else {}})
        elif kind_of == SEND_ALERT_MESSAGE:
            channel = await ctx.storage.get_channel(snowflake(meta.get("channel_id"), "channel_id"))
            if channel is None or channel.guild_id != access.guild.id:
                raise invalid_form(
                    "channel_id", "CHANNEL_TYPE_INVALID", "A channel of this guild is required."
                )
            out.append({"type": kind_of, "metadata": {"channel_id": str(channel.id)}})
        elif kind_of == TIMEOUT and kind in (KEYWORD, MENTION_SPAM):
            seconds = meta.get("duration_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_TIMEOUT_S:
                raise invalid_form("duration_seconds", "NUMBER_TYPE_MAX", f"Must be 0 to {MAX_TIMEOUT_S}.")
            out.append({"type": kind_of, "metadata": {"duration_seconds": seconds}})
        else:
            raise invalid_form("actions", "AUTO_MODERATION_INVALID_ACTION", "Invalid action for this rule.")
    return out


def exemptions(
    access: GuildAccess, body: dict[str, Any], field: str, known: set[int], most: int
) -> list[str]:
    raw = body.get(field) or []
    if not isinstance(raw, list) or len(raw) > most:
        raise invalid_form(field, "BASE_TYPE_MAX_LENGTH", f"Must be at most {most} in length.")
    ids = [snowflake(v, field) for v in raw]
    if any(i not in known for i in ids):
        raise invalid_form(field, "UNKNOWN_ID", "Must name entities of this guild.")
    return [str(i) for i in dict.fromkeys(ids)]


def _keyword_hit(content: str, keyword: str) -> str | None:
    word = re.escape(keyword.strip("*").lower())
    left = "" if keyword.startswith("*") else r"(?<!\w)"
    right = "" if keyword.endswith("*") else r"(?!\w)"
    match = re.search(left + word + (r"\w*" if keyword.endswith("*") else "") + right, content)
    return match.group(0) if match else None


def matched(rule: dict[str, Any], content: str) -> tuple[str | None, str] | None:
    """(the rule's keyword or pattern that matched, the part of ``content`` it matched) if
    ``content`` triggers ``rule``, else None; a mention-spam match names no keyword."""
    meta, lowered = rule["trigger_metadata"], content.lower()
    if rule["trigger_type"] == MENTION_SPAM:
        limit = meta["mention_total_limit"]
        return (None, content) if limit and len(set(_MENTION.findall(content))) > limit else None
    if rule["trigger_type"] != KEYWORD:
        return None
    allowed = {a.lower() for a in meta["allow_list"]}
    for keyword in meta["keyword_filter"]:
        hit = _keyword_hit(lowered, keyword)
        if hit is not None and hit not in allowed:
            start = lowered.index(hit)
            return keyword, content[start : start + len(hit)]
    for pattern in meta["regex_patterns"]:
        found = re.search(pattern, content, re.IGNORECASE)
        if found is not None and found.group(0).lower() not in allowed:
            return pattern, found.group(0)
    return None


async def enforce(
    ctx: EdgeContext, found: ChannelAccess, author_id: int, content: str, guild: GuildReader
) -> None:
    """Check a message about to be created in ``found``'s channel against the guild's rules (kept
    by the edge's ``guild_cache``, read through ``guild``); a TIMEOUT action is applied (durably,
    with GUILD_MEMBER_UPDATE); 400 200000 if a rule blocks it."""
    access = found.access
    if access is None or not content or access.permissions & MANAGE_GUILD:
        return
    channel = found.channel
    places = {str(channel.id), str(channel.parent_id)}
    member_roles = {str(r) for r in access.member.roles}
    timeout_s, blocked = None, None
    rules = await guild.get("automod", lambda: rules_of(ctx, access.guild.id))
    for rule in rules:
        if not rule["enabled"] or rule["event_type"] != MESSAGE_SEND:
            continue
        if places & set(rule["exempt_channels"]) or member_roles & set(rule["exempt_roles"]):
            continue
        hit = matched(rule, content)
        if hit is None:
            continue
        for action in rule["actions"]:
            await _announce(ctx, rule, action, found, author_id, content, hit)
            if action["type"] == BLOCK_MESSAGE and blocked is None:
                blocked = (
                    action["metadata"].get("custom_message") or "Message was blocked by automatic moderation"
                )
            if action["type"] == TIMEOUT:
                timeout_s = max(timeout_s or 0, action["metadata"]["duration_seconds"])
    if timeout_s:
        await _time_out(ctx, access, timeout_s)
    if blocked is not None:
        raise ApiError(400, BLOCKED, blocked)


async def _time_out(ctx: EdgeContext, access: GuildAccess, seconds: int) -> None:
    member = access.member
    state = await ctx.storage.get_member_state(member.guild_id, member.user_id)
    state = replace(
        state or MemberState(member.guild_id, member.user_id), timeout_until_ms=now_ms() + seconds * 1000
    )
    await ctx.storage.put_member_state(state)
    user = await ctx.storage.get_user(member.user_id)
    await publish_update(ctx, member, member_with_state(member, user, state))


async def _announce(ctx: EdgeContext, rule: dict[str, Any], action: dict[str, Any], found: ChannelAccess,
                    author_id: int, content: str, hit: tuple[str | None, str]) -> None:  # fmt: skip
    d = {"guild_id": rule["guild_id"], "action": action, "rule_id": rule["id"],
         "rule_trigger_type": rule["trigger_type"], "user_id": str(author_id),
         "channel_id": str(found.channel.id), "content": content, "matched_keyword": hit[0],
         "matched_content": hit[1]}  # fmt: skip
    gid = int(rule["guild_id"])
    await audit.deliver_to_holders(ctx, gid, MANAGE_GUILD, "AUTO_MODERATION_ACTION_EXECUTION", d,
                                   AUTO_MODERATION_EXECUTION)  # fmt: skip
