"""Channel permission overwrites as a request sends them: ``[{id, type, allow, deny}]``."""

from __future__ import annotations

from typing import Any

from rayguild.http_api.errors import invalid_form
from rayguild.http_api.forms import optional_id, permission_bits
from rayguild.storage.models import Overwrite

MAX_OVERWRITES = 100


def parse_overwrites(body: dict[str, Any]) -> tuple[Overwrite, ...]:
    raw = body.get("permission_overwrites") or []
    if not isinstance(raw, list) or len(raw) > MAX_OVERWRITES:
        raise invalid_form(
            "permission_overwrites", "BASE_TYPE_MAX_LENGTH",
            f"Must be a list of {MAX_OVERWRITES} or fewer overwrites.",
        )  # fmt: skip
    out = []
    for index, item in enumerate(raw):
        field = f"permission_overwrites.{index}"
        if not isinstance(item, dict):
            raise invalid_form(field, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        target = optional_id(item, "id")
        kind = item.get("type", 0)
        if target is None or kind not in (0, 1, "0", "1", "role", "member"):
            raise invalid_form(field, "BASE_TYPE_REQUIRED", "An overwrite needs an id and a type 0 or 1.")
        out.append(Overwrite(
            id=target, type=1 if kind in (1, "1", "member") else 0,
            allow=permission_bits(item, "allow", 0), deny=permission_bits(item, "deny", 0),
        ))  # fmt: skip
    return tuple(out)
