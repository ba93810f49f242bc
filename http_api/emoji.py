"""Emoji as reactions name them: a unicode emoji, or a custom one as ``name:id``, and their shapes.

A path's emoji that is neither is 400 10014 Unknown Emoji. This server keeps no custom emoji
registry, so any well-formed ``name:id`` is accepted (``a:name:id`` too, stored as ``name:id``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rayguild.http_api.errors import ApiError

UNKNOWN_EMOJI = 10014
CUSTOM = re.compile(r"(?:a:)?([A-Za-z0-9_]{2,32}):(\d{1,20})")
KEYCAP = "\u20e3"
# What may follow or join emoji: skin-tone modifiers (Sk), variation selectors (Mn), the keycap
# (Me), zero-width joiners and tags (Cf), and the digits, # and * of keycap sequences.
_PARTS = {"So", "Sk", "Mn", "Me", "Cf"}


def emoji_key(raw: str) -> str:
    """The stored key of the emoji in a path: the unicode emoji itself or ``name:id``."""
    custom = CUSTOM.fullmatch(raw)
    if custom:
        return f"{custom[1]}:{custom[2]}"
    categories = [unicodedata.category(ch) for ch in raw]
    looks_like_emoji = (
        0 < len(raw) <= 32
        and ("So" in categories or KEYCAP in raw)
        and all(c in _PARTS or ch in "0123456789#*" for c, ch in zip(categories, raw, strict=True))
    )
    if not looks_like_emoji:
        raise ApiError(400, UNKNOWN_EMOJI, "Unknown Emoji")
    return raw


def emoji_shape(key: str) -> dict[str, Any]:
    name, _, emoji_id = key.rpartition(":") if CUSTOM.fullmatch(key) else (key, "", "")
    return {"id": emoji_id or None, "name": name}


def reaction_shape(key: str, count: int, me: bool) -> dict[str, Any]:
    return {
        "emoji": emoji_shape(key), "count": count, "count_details": {"burst": 0, "normal": count},
        "burst_colors": [], "me_burst": False, "burst_me": False, "me": me, "burst_count": 0,
    }  # fmt: skip
