"""What GUILD_CREATE carries from the guild's settings documents (kept by the REST layer, read here
by their names): the guild settings fields beyond its record, each channel's extra fields
(slowmode, nsfw...), the custom emojis and stickers, and the scheduled events, in the gateway's
shapes (without the creators' user objects, as Discord's GUILD_CREATE).

One prefix read per kind; a document that cannot be read is left out, never fails the join.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rayguild import shapes
from rayguild.storage.protocol import Storage

Json = dict[str, Any]
GUILD_EXTRAS = "guild_extras"  # http_api/extra_fields.py
CHANNEL_EXTRAS = "channel_extras:"
EMOJI = "emoji:"  # http_api/rest_emojis.py
STICKER = "sticker:"  # http_api/rest_stickers.py
SCHEDULED_EVENT = "sched-event:"  # http_api/rest_scheduled_events.py
EXTERNAL = 3


@dataclass(frozen=True, slots=True)
class GuildDocuments:
    guild_fields: Json = field(default_factory=dict)
    channel_fields: dict[int, Json] = field(default_factory=dict)
    emojis: list[Json] = field(default_factory=list)
    stickers: list[Json] = field(default_factory=list)
    scheduled_events: list[Json] = field(default_factory=list)


async def _docs(storage: Storage, guild_id: int, prefix: str) -> list[tuple[str, Json]]:
    return [(name, json.loads(doc)) for name, doc in await storage.list_settings(guild_id, prefix)]


def event_fields(stored: Json) -> Json:
    """A stored scheduled event in Discord's shape (no creator, no user count)."""
    out = {k: v for k, v in stored.items() if k not in ("start_ms", "end_ms", "location")}
    out.update(
        scheduled_start_time=shapes.iso(stored["start_ms"]),
        scheduled_end_time=shapes.iso(stored["end_ms"]) if stored["end_ms"] is not None else None,
        entity_metadata={"location": stored["location"]} if stored["entity_type"] == EXTERNAL else None,
        recurrence_rule=None,
        guild_scheduled_event_exceptions=[],
    )
    return out


async def guild_documents(storage: Storage, guild_id: int) -> GuildDocuments:
    raw = await storage.get_setting(guild_id, GUILD_EXTRAS)
    channels = {
        int(name.split(":", 1)[1]): doc for name, doc in await _docs(storage, guild_id, CHANNEL_EXTRAS)
    }
    emojis = [{**{k: e[k] for k in ("id", "name", "roles", "animated")}, "require_colons": True,
               "managed": False, "available": True} for _, e in await _docs(storage, guild_id, EMOJI)]  # fmt: skip
    stickers = [{**{k: s[k] for k in ("id", "name", "tags", "description", "format_type", "guild_id")},
                 "type": 2, "available": True} for _, s in await _docs(storage, guild_id, STICKER)]  # fmt: skip
    events = [event_fields(e) for _, e in await _docs(storage, guild_id, SCHEDULED_EVENT)]
    return GuildDocuments(json.loads(raw) if raw else {}, channels, emojis, stickers, events)
