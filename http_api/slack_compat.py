"""A Slack-compatible webhook payload as the Discord message it becomes, as Discord's
``/webhooks/{id}/{token}/slack`` reads it: ``text`` is the content, ``username`` and ``icon_url``
override the webhook's name and avatar, and each of ``attachments`` is an embed (title and link,
text, ``#rrggbb`` color, ``ts`` timestamp, author, footer, image, thumbnail, fields with ``short``
as inline). What Discord's own validation then refuses (an embed too long...) is its 400 50035.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rayguild.http_api.errors import invalid_form

Json = dict[str, Any]


def _color(raw: Any, index: int) -> int | None:
    if raw is None:
        return None
    text = str(raw).lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return int(text, 16) if len(text) == 6 else int("x")
    except ValueError:
        raise invalid_form(f"attachments.{index}.color", "COLOR_INVALID", "Must be #rrggbb.") from None


def _embed(raw: Any, index: int) -> Json:
    if not isinstance(raw, dict):
        raise invalid_form(
            f"attachments.{index}", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
        )
    embed: Json = {"type": "rich"}
    for slack, discord in (("title", "title"), ("title_link", "url"), ("text", "description")):
        if raw.get(slack) is not None:
            embed[discord] = raw[slack]
    if (color := _color(raw.get("color"), index)) is not None:
        embed["color"] = color
    if isinstance(raw.get("ts"), int) and not isinstance(raw["ts"], bool):
        embed["timestamp"] = datetime.fromtimestamp(raw["ts"], tz=UTC).isoformat()
    if raw.get("author_name") is not None:
        embed["author"] = {
            "name": raw["author_name"],
            "url": raw.get("author_link"),
            "icon_url": raw.get("author_icon"),
        }
    if raw.get("footer") is not None:
        embed["footer"] = {"text": raw["footer"], "icon_url": raw.get("footer_icon")}
    for slack, discord in (("image_url", "image"), ("thumb_url", "thumbnail")):
        if raw.get(slack) is not None:
            embed[discord] = {"url": raw[slack]}
    fields = raw.get("fields") or []
    if isinstance(fields, list) and fields:
        embed["fields"] = [{"name": f.get("title") or "\u200b", "value": f.get("value") or "\u200b",
                            "inline": bool(f.get("short"))} for f in fields if isinstance(f, dict)]  # fmt: skip
    return {
        k: ({i: j for i, j in v.items() if j is not None} if isinstance(v, dict) else v)
        for k, v in embed.items()
    }


def as_discord(body: Json) -> Json:
    """The Discord execute-webhook body ``body`` (a Slack payload) stands for."""
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise invalid_form("attachments", "BASE_TYPE_ARRAY", "Must be an array.")
    out: Json = {"content": body.get("text"), "embeds": [_embed(a, i) for i, a in enumerate(attachments)]}
    if body.get("username"):
        out["username"] = body["username"]
    if body.get("icon_url"):
        out["avatar_url"] = body["icon_url"]
    return out
