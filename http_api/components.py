"""Message and modal components as Discord validates them, returned in its response shape.

A message holds up to 5 action rows (type 1); a row holds 1-5 buttons (type 2) or exactly one
select (string 3 with 1-25 options; user 5, role 6, mentionable 7, channel 8). Buttons of styles
1-4 need a ``custom_id`` and no ``url``, link buttons (5) a ``url`` and no ``custom_id``, premium
buttons (6) a ``sku_id`` only. A modal's rows hold text inputs (type 4) instead. Custom ids are
unique within the message. Each component gets Discord's numeric ``id`` (1, 2, ... in order) when
it came without one. A bad component is 400 50035 naming its path (``components.0.components.1.url``).
"""

from __future__ import annotations

from itertools import count
from typing import Any

from rayguild.http_api.errors import invalid_form

Json = dict[str, Any]

ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT = 1, 2, 3, 4
AUTO_SELECTS = (5, 6, 7, 8)  # user, role, mentionable, channel
LINK, PREMIUM = 5, 6
MAX_ROWS = 5
MAX_BUTTONS = 5
MAX_OPTIONS = 25
MAX_CUSTOM_ID = 100


def components(body: Json, *, modal: bool = False) -> tuple[Json, ...]:
    """The validated ``components`` of a message (or of a modal when ``modal``)."""
    value = body.get("components")
    if value is None:
        return ()
    rows = _list(value, "components", MAX_ROWS)
    check = _Checker(modal)
    return tuple(check.row(row, f"components.{i}") for i, row in enumerate(rows))


def _list(value: Any, path: str, high: int, low: int = 0) -> list[Any]:
    if not isinstance(value, list):
        raise invalid_form(path, "BASE_TYPE_LIST", "Must be a list.")
    if len(value) > high:
        raise invalid_form(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    if len(value) < low:
        raise invalid_form(path, "BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length.")
    return value


def _dict(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise invalid_form(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return {k: v for k, v in value.items() if v is not None}


def _str(raw: Json, key: str, path: str, high: int, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise invalid_form(f"{path}.{key}", "BASE_TYPE_REQUIRED", "This field is required")
        return None
    if not isinstance(value, str):
        raise invalid_form(f"{path}.{key}", "BASE_TYPE_STRING", "Could not interpret value as string.")
    if len(value) > high or (required and not value):
        raise invalid_form(
            f"{path}.{key}", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {high} in length."
        )
    return value


def _int(raw: Json, key: str, path: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid_form(
            f"{path}.{key}", "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}."
        )
    return value


def _bool(raw: Json, key: str, path: str) -> None:
    if key in raw and not isinstance(raw[key], bool):
        raise invalid_form(f"{path}.{key}", "BASE_TYPE_BOOLEAN", "Must be either true or false.")


def _emoji(raw: Json, path: str) -> None:
    if "emoji" in raw:
        emoji = _dict(raw["emoji"], f"{path}.emoji")
        if "id" not in emoji and "name" not in emoji:
            raise invalid_form(f"{path}.emoji", "BASE_TYPE_REQUIRED", "This field is required")
        raw["emoji"] = {"id": str(emoji["id"]) if "id" in emoji else None,
                        "name": emoji.get("name"), "animated": bool(emoji.get("animated", False))}  # fmt: skip


class _Checker:
    """One message's components: numbers them and remembers their custom ids."""

    def __init__(self, modal: bool) -> None:
        self._modal = modal
        self._ids = count(1)
        self._custom_ids: set[str] = set()

    def _numbered(self, raw: Json, path: str) -> Json:
        raw["id"] = _int(raw, "id", path, next(self._ids), 0, 2**31 - 1)
        return raw

    def _custom_id(self, raw: Json, path: str) -> None:
        custom_id = _str(raw, "custom_id", path, MAX_CUSTOM_ID, required=True)
        assert custom_id is not None
        if custom_id in self._custom_ids:
            raise invalid_form(
                f"{path}.custom_id",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        self._custom_ids.add(custom_id)

    def row(self, value: Any, path: str) -> Json:
        raw = self._numbered(_dict(value, path), path)
        if raw.get("type") != ACTION_ROW:
            raise invalid_form(
                f"{path}.type",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "Top-level components must be action rows (type 1).",
            )
        children = _list(raw.get("components"), f"{path}.components", MAX_BUTTONS, 1)
        parsed = [self.child(c, f"{path}.components.{i}") for i, c in enumerate(children)]
        kinds = {c["type"] for c in parsed}
        if len(parsed) > 1 and kinds != {BUTTON}:
            raise invalid_form(
                f"{path}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        raw["components"] = parsed
        return raw

    def child(self, value: Any, path: str) -> Json:
        raw = self._numbered(_dict(value, path), path)
        kind = raw.get("type")
        allowed = (TEXT_INPUT,) if self._modal else (BUTTON, STRING_SELECT, *AUTO_SELECTS)
        if kind not in allowed:
            raise invalid_form(f"{path}.type", "BASE_TYPE_CHOICES", f"Value must be one of {allowed}.")
        if kind == BUTTON:
            self._button(raw, path)
        elif kind == TEXT_INPUT:
            self._text_input(raw, path)
        else:
            self._select(raw, path)
        return raw

    def _button(self, raw: Json, path: str) -> None:
        style = _int(raw, "style", path, 0, 1, 6)
        _str(raw, "label", path, 80)
        _bool(raw, "disabled", path)
        _emoji(raw, path)
        if style == LINK:
            url = _str(raw, "url", path, 512, required=True)
            if "custom_id" in raw or not str(url).startswith(("http://", "https://", "discord://")):
                raise invalid_form(
                    f"{path}.url",
                    "BUTTON_COMPONENT_INVALID_URL",
                    "A link button needs a valid url and no custom_id.",
                )
        elif style == PREMIUM:
            if "sku_id" not in raw or {"custom_id", "url", "label", "emoji"} & raw.keys():
                raise invalid_form(
                    f"{path}.sku_id",
                    "BUTTON_COMPONENT_SKU_ID_REQUIRED",
                    "A premium button needs a sku_id only.",
                )
        else:
            if "url" in raw:
                raise invalid_form(
                    f"{path}.url", "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only link buttons have a url."
                )
            self._custom_id(raw, path)
        if style not in (PREMIUM,) and "label" not in raw and "emoji" not in raw:
            raise invalid_form(
                f"{path}.label",
                "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                "A button needs a label or an emoji.",
            )

    def _select(self, raw: Json, path: str) -> None:
        self._custom_id(raw, path)
        _str(raw, "placeholder", path, 150)
        _bool(raw, "disabled", path)
        low = _int(raw, "min_values", path, 1, 0, MAX_OPTIONS)
        high = _int(raw, "max_values", path, 1, 1, MAX_OPTIONS)
        if low > high:
            raise invalid_form(
                f"{path}.min_values", "NUMBER_TYPE_MAX", "min_values must not exceed max_values."
            )
        raw.update(min_values=low, max_values=high)
        if raw["type"] != STRING_SELECT:
            if "options" in raw:
                raise invalid_form(
                    f"{path}.options", "BASE_TYPE_BAD_TYPE", "Only string selects have options."
                )
            return
        options = _list(raw.get("options"), f"{path}.options", MAX_OPTIONS, 1)
        values: set[str] = set()
        for i, value in enumerate(options):
            where = f"{path}.options.{i}"
            option = options[i] = _dict(value, where)
            _str(option, "label", where, 100, required=True)
            picked = _str(option, "value", where, 100, required=True)
            _str(option, "description", where, 100)
            _bool(option, "default", where)
            _emoji(option, where)
            if picked in values:
                raise invalid_form(
                    f"{where}.value",
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Option values must be unique.",
                )
            values.add(str(picked))
        if high > len(options):
            raise invalid_form(
                f"{path}.max_values", "NUMBER_TYPE_MAX", f"int value should be between 1 and {len(options)}."
            )

    def _text_input(self, raw: Json, path: str) -> None:
        self._custom_id(raw, path)
        _int(raw, "style", path, 0, 1, 2)
        _str(raw, "label", path, 45, required=True)
        low = _int(raw, "min_length", path, 0, 0, 4000)
        high = _int(raw, "max_length", path, 4000, 1, 4000)
        raw.update(min_length=low, max_length=high)
        _bool(raw, "required", path)
        _str(raw, "value", path, 4000)
        _str(raw, "placeholder", path, 100)
