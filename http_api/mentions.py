"""Who a message mentions: users, roles and @everyone/@here read from its content, as Discord does.

``allowed_mentions`` decides which of them count (``parse`` of "users", "roles", "everyone", or
explicit ``users`` / ``roles`` lists, up to 100 each; absent means all). @everyone and @here count
only for an author with MENTION_EVERYONE; a role only if it is mentionable or the author has
MENTION_EVERYONE. A reply mentions the replied-to author unless ``allowed_mentions`` is given
without ``replied_user: true``. Only users that exist are listed, and only roles of the guild.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rayguild.http_api.errors import invalid_form
from rayguild.http_api.forms import snowflake
from rayguild.storage.models import Role

USER = re.compile(r"<@!?(\d{1,20})>")
ROLE = re.compile(r"<@&(\d{1,20})>")
EVERYONE = re.compile(r"@(everyone|here)\b")
MAX_LISTED = 100
_PARSE = ("users", "roles", "everyone")


@dataclass(frozen=True, slots=True)
class AllowedMentions:
    """A validated ``allowed_mentions``; ``None`` lists mean "as ``parse`` says"."""

    parse: frozenset[str] = frozenset(_PARSE)
    users: frozenset[int] | None = None
    roles: frozenset[int] | None = None
    replied_user: bool = True


@dataclass(frozen=True, slots=True)
class Mentions:
    user_ids: tuple[int, ...] = ()
    role_ids: tuple[int, ...] = ()
    everyone: bool = False


def allowed_mentions(body: dict[str, Any]) -> AllowedMentions:
    raw = body.get("allowed_mentions")
    if raw is None:
        return AllowedMentions()
    if not isinstance(raw, dict):
        raise invalid_form(
            "allowed_mentions", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
        )
    parse = raw.get("parse") or []
    if not isinstance(parse, list) or any(p not in _PARSE for p in parse):
        raise invalid_form("allowed_mentions.parse", "BASE_TYPE_CHOICES", f"Values must be one of {_PARSE}.")
    lists: dict[str, frozenset[int] | None] = {}
    for key in ("users", "roles"):
        value = raw.get(key)
        if value is None:
            lists[key] = None
            continue
        if not isinstance(value, list) or len(value) > MAX_LISTED:
            raise invalid_form(
                f"allowed_mentions.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_LISTED} or fewer in length."
            )
        if key in parse and value:
            raise invalid_form(
                f"allowed_mentions.{key}", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )  # fmt: skip
        lists[key] = frozenset(snowflake(v, f"allowed_mentions.{key}.{i}") for i, v in enumerate(value))
    replied = raw.get("replied_user", False)
    if not isinstance(replied, bool):
        raise invalid_form(
            "allowed_mentions.replied_user", "BASE_TYPE_BOOLEAN", "Must be either true or false."
        )
    return AllowedMentions(frozenset(parse), lists["users"], lists["roles"], replied)


def _pick(found: list[int], parsed: bool, listed: frozenset[int] | None) -> list[int]:
    if parsed:
        return found
    return [i for i in found if listed is not None and i in listed]


def mentions(
    content: str,
    allowed: AllowedMentions,
    *,
    roles: list[Role],
    can_mention_everyone: bool,
    replied_author_id: int | None = None,
) -> Mentions:
    """The users (not yet checked to exist), roles and @everyone that ``content`` mentions."""
    users = list(dict.fromkeys(int(u) for u in USER.findall(content)))
    users = _pick(users, "users" in allowed.parse, allowed.users)
    if replied_author_id is not None and allowed.replied_user and replied_author_id not in users:
        users.append(replied_author_id)
    known = {r.id: r for r in roles}
    wanted = [int(r) for r in dict.fromkeys(ROLE.findall(content)) if int(r) in known]
    wanted = [r for r in wanted if known[r].mentionable or can_mention_everyone]
    picked_roles = _pick(wanted, "roles" in allowed.parse, allowed.roles)
    everyone = bool(EVERYONE.search(content)) and "everyone" in allowed.parse and can_mention_everyone
    return Mentions(tuple(users), tuple(picked_roles), everyone)
