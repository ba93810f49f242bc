"""Application command bodies validated as Discord validates them, and normalised for storage.

A bad field is 400 50035 naming its path (``options.0.choices.3.name``; bulk overwrite prefixes
the command's index). Limits are Discord's: names 1-32 characters (chat-input names lowercase
letters, digits, ``-`` and ``_``), descriptions 1-100, 25 options and 25 choices per level,
string lengths 0-6000, subcommand groups hold only subcommands, subcommands hold no subcommands,
required options come before optional ones, ``autocomplete`` excludes ``choices``.
"""

from __future__ import annotations

from typing import Any

from rayguild.http_api.errors import ApiError, invalid_form

Json = dict[str, Any]

CHAT_INPUT, USER, MESSAGE = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER_OPTION, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_STRING_LENGTH = 6000
MAX_INTEGER = 2**53
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
CONTEXTS = frozenset({0, 1, 2})  # guild, bot DM, private channel
INTEGRATION_TYPES = frozenset({0, 1})  # guild install, user install


def _err(path: str, code: str, message: str) -> ApiError:
    return invalid_form(path, code, message)


def _str(value: Any, path: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise _err(path, "BASE_TYPE_STRING", "Could not interpret value as string.")
    if not low <= len(value) <= high:
        raise _err(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
    return value


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _err(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    if not low <= value <= high:
        raise _err(path, "NUMBER_TYPE_MAX" if value > high else "NUMBER_TYPE_MIN",
                   f"int value should be between {low} and {high}.")  # fmt: skip
    return value


def _number(value: Any, path: str, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not a number.')
    if integer and (isinstance(value, float) and not value.is_integer()):
        raise _err(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    if abs(value) > MAX_INTEGER:
        raise _err(path, "NUMBER_TYPE_MAX", f"Value should be between {-MAX_INTEGER} and {MAX_INTEGER}.")
    return int(value) if integer else value


def _bits(value: Any, path: str) -> int:
    """A permission bit set: a decimal string (as Discord sends it) or an integer."""
    try:
        bits = int(value)
    except (TypeError, ValueError):
        bits = -1
    if isinstance(value, bool) or not 0 <= bits < 1 << 64:
        raise _err(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not a permission set.')
    return bits


def _name(value: Any, path: str, chat_input: bool) -> str:
    name = _str(value, path, 1, 32)
    if chat_input and not all((c.isalnum() and c == c.lower()) or c in "-_" for c in name):
        raise _err(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    return name


def _localizations(value: Any, path: str, high: int, chat_input: bool) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _err(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    out: dict[str, str] = {}
    for locale, text in value.items():
        if locale not in LOCALES:
            raise _err(f"{path}.{locale}", "LOCALE_INVALID", "Invalid locale")
        out[locale] = (
            _name(text, f"{path}.{locale}", chat_input)
            if high == 32
            else _str(text, f"{path}.{locale}", 1, high)
        )
    return out


def _list(value: Any, path: str, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise _err(path, "BASE_TYPE_ARRAY", "Could not interpret value as array.")
    if len(value) > high:
        raise _err(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    return value


def _enum_list(value: Any, path: str, allowed: frozenset[int]) -> list[int] | None:
    if value is None:
        return None
    items = _list(value, path, len(allowed))
    for i, item in enumerate(items):
        if isinstance(item, bool) or item not in allowed:
            raise _err(f"{path}.{i}", "ENUM_TYPE_COERCE", f'Value "{item}" is not a valid enum value.')
    return sorted(set(items))


def _choices(value: Any, path: str, kind: int) -> list[Json]:
    out = []
    for i, raw in enumerate(_list(value, path, MAX_CHOICES)):
        where = f"{path}.{i}"
        if not isinstance(raw, dict):
            raise _err(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        choice: Json = {"name": _str(raw.get("name"), f"{where}.name", 1, 100)}
        locs = _localizations(raw.get("name_localizations"), f"{where}.name_localizations", 100, False)
        if locs is not None:
            choice["name_localizations"] = locs
        if kind == STRING:
            choice["value"] = _str(raw.get("value"), f"{where}.value", 1, 100)
        else:
            choice["value"] = _number(raw.get("value"), f"{where}.value", kind == INTEGER)
        out.append(choice)
    return out


def _option(raw: Any, path: str, depth: int) -> Json:
    if not isinstance(raw, dict):
        raise _err(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    kind = raw.get("type")
    if isinstance(kind, bool) or kind not in range(1, 12):
        raise _err(f"{path}.type", "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
    option: Json = {
        "type": kind,
        "name": _name(raw.get("name"), f"{path}.name", True),
        "description": _str(raw.get("description"), f"{path}.description", 1, 100),
    }
    for field, high in (("name_localizations", 32), ("description_localizations", 100)):
        locs = _localizations(raw.get(field), f"{path}.{field}", high, True)
        if locs is not None:
            option[field] = locs
    if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
        if depth >= (1 if kind == SUB_COMMAND_GROUP else 2):
            raise _err(f"{path}.type", "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                       "Subcommands and groups cannot be nested this deep")  # fmt: skip
        # A group's children are at depth 1 (subcommands only); a subcommand's may not nest at all.
        children = options(
            raw.get("options") or [], f"{path}.options", depth + 1 if kind == SUB_COMMAND_GROUP else 2
        )
        if kind == SUB_COMMAND_GROUP and any(c["type"] != SUB_COMMAND for c in children):
            raise _err(f"{path}.options", "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                       "A subcommand group may only contain subcommands")  # fmt: skip
        option["options"] = children
        return option
    if _bool(raw.get("required"), f"{path}.required", False):
        option["required"] = True
    autocomplete = _bool(raw.get("autocomplete"), f"{path}.autocomplete", False)
    choices = raw.get("choices")
    if choices:
        if kind not in (STRING, INTEGER, NUMBER):
            raise _err(f"{path}.choices", "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                       "Only string, integer and number options may have choices")  # fmt: skip
        if autocomplete:
            raise _err(f"{path}.autocomplete", "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                       "Autocomplete cannot be set with choices")  # fmt: skip
        option["choices"] = _choices(choices, f"{path}.choices", kind)
    if autocomplete:
        if kind not in (STRING, INTEGER, NUMBER):
            raise _err(f"{path}.autocomplete", "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                       "Only string, integer and number options may autocomplete")  # fmt: skip
        option["autocomplete"] = True
    if kind in (INTEGER, NUMBER):
        for field in ("min_value", "max_value"):
            if raw.get(field) is not None:
                option[field] = _number(raw[field], f"{path}.{field}", kind == INTEGER)
        if option.get("min_value", -MAX_INTEGER) > option.get("max_value", MAX_INTEGER):
            raise _err(f"{path}.max_value", "NUMBER_TYPE_MIN", "max_value must not be below min_value")
    if kind == STRING:
        for field, low in (("min_length", 0), ("max_length", 1)):
            if raw.get(field) is not None:
                option[field] = _int(raw[field], f"{path}.{field}", low, MAX_STRING_LENGTH)
        if option.get("min_length", 0) > option.get("max_length", MAX_STRING_LENGTH):
            raise _err(f"{path}.max_length", "NUMBER_TYPE_MIN", "max_length must not be below min_length")
    if kind == CHANNEL and raw.get("channel_types") is not None:
        types = _list(raw["channel_types"], f"{path}.channel_types", 20)
        option["channel_types"] = [_int(t, f"{path}.channel_types.{i}", 0, 16) for i, t in enumerate(types)]
    return option


def options(raw: Any, path: str, depth: int = 0) -> list[Json]:
    """A level of options: each validated, names unique, required ones first."""
    out = [_option(o, f"{path}.{i}", depth) for i, o in enumerate(_list(raw, path, MAX_OPTIONS))]
    names = [o["name"] for o in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise _err(f"{path}.{i}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                       "Option names must be unique")  # fmt: skip
    subcommands = [o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in out]
    if any(subcommands) and not all(subcommands):
        raise _err(path, "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                   "Subcommands cannot be mixed with other options")  # fmt: skip
    required = [o.get("required", False) for o in out]
    for i in range(1, len(required)):
        if required[i] and not required[i - 1]:
            raise _err(f"{path}.{i}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                       "Required options must be placed before non-required options")  # fmt: skip
    return out


def command(raw: Any, prefix: str = "", old: Json | None = None, global_scope: bool = True) -> Json:
    """The normalised command body (without ids and version) of a create or bulk item; with
    ``old`` (an edit) absent fields keep their old values."""
    p = f"{prefix}." if prefix else ""
    if not isinstance(raw, dict):
        raise _err(prefix or "_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    merged = {**(old or {}), **{k: v for k, v in raw.items() if k != "type" or old is None}}
    kind = merged.get("type", CHAT_INPUT)
    if isinstance(kind, bool) or kind not in (CHAT_INPUT, USER, MESSAGE, 4):
        raise _err(f"{p}type", "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
    chat = kind == CHAT_INPUT
    body: Json = {"type": kind, "name": _name(merged.get("name"), f"{p}name", chat)}
    description = merged.get("description")
    if chat:
        body["description"] = _str(description, f"{p}description", 1, 100)
    elif description:
        raise _err(f"{p}description", "APPLICATION_COMMAND_DESCRIPTION_INVALID",
                   "Only chat input commands may have a description")  # fmt: skip
    else:
        body["description"] = ""
    body["name_localizations"] = _localizations(
        merged.get("name_localizations"), f"{p}name_localizations", 32, chat
    )
    body["description_localizations"] = _localizations(
        merged.get("description_localizations"), f"{p}description_localizations", 100, chat
    )
    raw_options = merged.get("options") or []
    if raw_options and not chat:
        raise _err(
            f"{p}options", "APPLICATION_COMMAND_OPTIONS_INVALID", "Only chat input commands may have options"
        )
    body["options"] = options(raw_options, f"{p}options")
    bits = merged.get("default_member_permissions")
    body["default_member_permissions"] = (
        None if bits is None else str(_bits(bits, f"{p}default_member_permissions"))
    )
    if global_scope:
        body["dm_permission"] = _bool(merged.get("dm_permission"), f"{p}dm_permission", True)
    body["contexts"] = _enum_list(merged.get("contexts"), f"{p}contexts", CONTEXTS)
    body["integration_types"] = _enum_list(merged.get("integration_types"), f"{p}integration_types",
                                           INTEGRATION_TYPES) or [0]  # fmt: skip
    body["nsfw"] = _bool(merged.get("nsfw"), f"{p}nsfw", False)
    return body
