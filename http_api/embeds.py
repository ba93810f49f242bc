"""Embeds as Discord validates them: at most 10 per message and 6000 characters in total; per part
title 256, description 4096, 25 fields (name 256, value 1024), footer 2048, author name 256.

``embeds(body)`` returns the embeds in Discord's response shape (``type`` "rich" when absent,
fields with ``inline``, nulls dropped) or raises 400 50035 naming the bad field's path, such as
``embeds.0.fields.3.value``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rayguild.http_api.errors import invalid_form

Json = dict[str, Any]

MAX_EMBEDS = 10
MAX_TOTAL = 6000
MAX_FIELDS = 25
MAX_COLOR = 0xFFFFFF
MAX_URL = 2048
# Title, description, field names and values, footer text and author name count towards 6000.
_TEXT = {"title": 256, "description": 4096}
_MEDIA = ("image", "thumbnail", "video")


def embeds(body: Json) -> tuple[Json, ...]:
    value = body.get("embeds")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid_form("embeds", "BASE_TYPE_LIST", "Must be a list.")
    if len(value) > MAX_EMBEDS:
        raise invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    shown = tuple(_embed(e, f"embeds.{i}") for i, e in enumerate(value))
    if sum(map(_counted, shown)) > MAX_TOTAL:
        raise invalid_form(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_TOTAL}"
        )
    return shown


def _counted(embed: Json) -> int:
    fields = embed.get("fields", ())
    return (
        len(embed.get("title", "")) + len(embed.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    )  # fmt: skip


def _dict(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise invalid_form(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return {k: v for k, v in value.items() if v is not None}


def _str(value: Any, path: str, high: int, low: int = 0) -> str:
    if value is None and low:
        raise invalid_form(path, "BASE_TYPE_REQUIRED", "This field is required")
    if not isinstance(value, str):
        raise invalid_form(path, "BASE_TYPE_STRING", "Could not interpret value as string.")
    if len(value) > high:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    if len(value.strip()) < low:
        raise invalid_form(path, "BASE_TYPE_REQUIRED", "This field is required")
    return value


def _url(value: Any, path: str) -> str:
    url = _str(value, path, MAX_URL, 1)
    if not url.startswith(("http://", "https://", "attachment://")):
        raise invalid_form(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
    return url


def _embed(value: Any, path: str) -> Json:
    raw = _dict(value, path)
    out: Json = {"type": _str(raw.get("type", "rich"), f"{path}.type", 32)}
    for key, high in _TEXT.items():
        if key in raw:
            out[key] = _str(raw[key], f"{path}.{key}", high)
    if "url" in raw:
        out["url"] = _url(raw["url"], f"{path}.url")
    if "color" in raw:
        color = raw["color"]
        if isinstance(color, bool) or not isinstance(color, int) or not 0 <= color <= MAX_COLOR:
            raise invalid_form(
                f"{path}.color", "NUMBER_TYPE_MAX", f"int value should be between 0 and {MAX_COLOR}."
            )
        out["color"] = color
    if "timestamp" in raw:
        out["timestamp"] = _timestamp(raw["timestamp"], f"{path}.timestamp")
    if "footer" in raw:
        footer = _dict(raw["footer"], f"{path}.footer")
        out["footer"] = {"text": _str(footer.get("text"), f"{path}.footer.text", 2048, 1)}
        _icon(footer, out["footer"], f"{path}.footer")
    if "author" in raw:
        author = _dict(raw["author"], f"{path}.author")
        out["author"] = {"name": _str(author.get("name"), f"{path}.author.name", 256, 1)}
        if "url" in author:
            out["author"]["url"] = _url(author["url"], f"{path}.author.url")
        _icon(author, out["author"], f"{path}.author")
    for key in _MEDIA:
        if key in raw:
            media = _dict(raw[key], f"{path}.{key}")
            out[key] = {"url": _url(media.get("url"), f"{path}.{key}.url")}
    if "provider" in raw:
        provider = _dict(raw["provider"], f"{path}.provider")
        out["provider"] = {"name": _str(provider.get("name", ""), f"{path}.provider.name", 256)}
    if raw.get("fields"):
        out["fields"] = _fields(raw["fields"], f"{path}.fields")
    return out


def _icon(raw: Json, out: Json, path: str) -> None:
    if "icon_url" in raw:
        out["icon_url"] = _url(raw["icon_url"], f"{path}.icon_url")


def _timestamp(value: Any, path: str) -> str:
    try:
        stamp = datetime.fromisoformat(_str(value, path, 64))
    except ValueError:
        raise invalid_form(path, "DATE_TYPE_PARSE", f"Could not parse {value}. Should be ISO8601.") from None
    return stamp.isoformat()


def _fields(value: Any, path: str) -> list[Json]:
    if not isinstance(value, list):
        raise invalid_form(path, "BASE_TYPE_LIST", "Must be a list.")
    if len(value) > MAX_FIELDS:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FIELDS} or fewer in length.")
    out = []
    for i, raw in enumerate(value):
        field = _dict(raw, f"{path}.{i}")
        inline = field.get("inline", False)
        if not isinstance(inline, bool):
            raise invalid_form(f"{path}.{i}.inline", "BASE_TYPE_BOOLEAN", "Must be either true or false.")
        out.append({
            "name": _str(field.get("name"), f"{path}.{i}.name", 256, 1),
            "value": _str(field.get("value"), f"{path}.{i}.value", 1024, 1),
            "inline": inline,
        })  # fmt: skip
    return out
