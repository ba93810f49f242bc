"""A message's rich parts as one JSON text column, the same encoding on every backend.

Nothing is queried by these parts (embeds, components, attachments, mention roles, flags,
stickers, reply reference, application/webhook ids, webhook author, interaction metadata), so
they travel together as one value; a message without any of them stores no value at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from rayguild.storage.models import Message, MessageReference


def rich_of(m: Message) -> str | None:
    """The encoded rich parts of ``m``; None when it has none."""
    parts: dict[str, Any] = {}
    for key in ("embeds", "components", "attachments"):
        if value := getattr(m, key):
            parts[key] = list(value)
    if m.mention_role_ids:
        parts["mention_roles"] = list(m.mention_role_ids)
    if m.sticker_ids:
        parts["stickers"] = list(m.sticker_ids)
    if m.flags:
        parts["flags"] = m.flags
    if m.reference is not None:
        r = m.reference
        parts["reference"] = [r.message_id, r.channel_id, r.guild_id]
    for key in ("application_id", "webhook_id", "author_override", "interaction_metadata"):
        if (value := getattr(m, key)) is not None:
            parts[key] = value
    return orjson.dumps(parts).decode() if parts else None


def with_rich(m: Message, encoded: str | None) -> Message:
    """``m`` with the rich parts ``encoded`` by ``rich_of``."""
    if not encoded:
        return m
    parts = orjson.loads(encoded)
    reference = parts.get("reference")
    return replace(
        m,
        embeds=tuple(parts.get("embeds", ())),
        components=tuple(parts.get("components", ())),
        attachments=tuple(parts.get("attachments", ())),
        mention_role_ids=tuple(parts.get("mention_roles", ())),
        sticker_ids=tuple(parts.get("stickers", ())),
        flags=parts.get("flags", 0),
        reference=MessageReference(*reference) if reference else None,
        application_id=parts.get("application_id"),
        webhook_id=parts.get("webhook_id"),
        author_override=parts.get("author_override"),
        interaction_metadata=parts.get("interaction_metadata"),
    )
