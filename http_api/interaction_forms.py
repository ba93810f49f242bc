"""What a user's client sends in an interaction, checked against what the bot declared.

A command's options are validated against the stored command (names, types, required options,
choices, min/max values and lengths, one subcommand per level); an autocomplete request has exactly
one ``focused`` option, which must be declared with ``autocomplete`` and may be partial. A
component interaction must name a component the message really carries (its ``custom_id`` and
type; a select's values within its bounds and options); a modal submit must match the modal the
app opened (custom_id, declared text inputs, required ones, lengths). A bad field is 400 50035
naming its path under ``data``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rayguild.http_api import command_forms as cf
from rayguild.http_api.errors import ApiError, invalid_form

Json = dict[str, Any]
BUTTON, TEXT_INPUT = 2, 4
ID_TYPES = {cf.USER_OPTION: "users", cf.CHANNEL: "channels", cf.ROLE: "roles", cf.MENTIONABLE: "mentionables"}


def _bad(path: str, message: str, code: str = "INTERACTION_APPLICATION_COMMAND_INVALID") -> ApiError:
    return invalid_form(path, code, message)


def _value(declared: Json, given: Json, path: str, partial: bool) -> Any:
    value, kind = given.get("value"), declared["type"]
    if partial:  # the focused option of an autocomplete: whatever the user has typed so far
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _bad(f"{path}.value", "Invalid value")
        return value
    if kind == cf.STRING:
        if not isinstance(value, str):
            raise _bad(f"{path}.value", "Must be a string", "BASE_TYPE_STRING")
        if (
            not declared.get("min_length", 0)
            <= len(value)
            <= declared.get("max_length", cf.MAX_STRING_LENGTH)
        ):
            raise _bad(f"{path}.value", "Length out of bounds", "BASE_TYPE_BAD_LENGTH")
    elif kind in (cf.INTEGER, cf.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"{path}.value", "Must be a number", "NUMBER_TYPE_COERCE")
        if kind == cf.INTEGER and isinstance(value, float) and not value.is_integer():
            raise _bad(f"{path}.value", "Must be an integer", "NUMBER_TYPE_COERCE")
        if (
            not declared.get("min_value", -cf.MAX_INTEGER)
            <= value
            <= declared.get("max_value", cf.MAX_INTEGER)
        ):
            raise _bad(f"{path}.value", "Value out of bounds", "NUMBER_TYPE_MAX")
    elif kind == cf.BOOLEAN:
        if not isinstance(value, bool):
            raise _bad(f"{path}.value", "Must be either true or false.", "BASE_TYPE_BOOLEAN")
    elif not isinstance(value, str) or not value.isdigit():
        raise _bad(f"{path}.value", f'Value "{value}" is not snowflake.', "NUMBER_TYPE_COERCE")
    choices = declared.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise _bad(f"{path}.value", "Value is not one of the choices", "BASE_TYPE_CHOICES")
    return value


def options(declared: list[Json], given: Any, path: str, autocomplete: bool) -> list[Json]:
    """The given options, normalised, after checking them against ``declared``."""
    if given is None:
        given = []
    if not isinstance(given, list):
        raise _bad(path, "Could not interpret value as array.", "BASE_TYPE_ARRAY")
    by_name = {d["name"]: d for d in declared}
    out: list[Json] = []
    for i, item in enumerate(given):
        where = f"{path}.{i}"
        decl = by_name.get(item.get("name")) if isinstance(item, dict) else None
        if decl is None:
            raise _bad(f"{where}.name", "Unknown option")
        if item.get("type", decl["type"]) != decl["type"]:
            raise _bad(f"{where}.type", "Option type does not match the command")
        if decl["type"] in (cf.SUB_COMMAND, cf.SUB_COMMAND_GROUP):
            if len(given) != 1:
                raise _bad(path, "Exactly one subcommand must be given")
            children = options(decl.get("options", []), item.get("options"), f"{where}.options", autocomplete)
            out.append({"type": decl["type"], "name": decl["name"], "options": children})
            continue
        focused = autocomplete and item.get("focused") is True
        if focused and not decl.get("autocomplete"):
            raise _bad(f"{where}.focused", "This option does not autocomplete")
        shown: Json = {
            "type": decl["type"],
            "name": decl["name"],
            "value": _value(decl, item, where, focused),
        }
        if focused:
            shown["focused"] = True
        out.append(shown)
    names = [o["name"] for o in out]
    if len(set(names)) != len(names):
        raise _bad(path, "An option was given twice")
    if declared and declared[0]["type"] in (cf.SUB_COMMAND, cf.SUB_COMMAND_GROUP) and not out:
        raise _bad(path, "A subcommand is required")
    if not autocomplete:
        for decl in declared:
            if decl.get("required") and decl["name"] not in names:
                raise _bad(path, f"Option {decl['name']} is required", "BASE_TYPE_REQUIRED")
    return out


def count_focused(given: list[Json]) -> int:
    return sum(o.get("focused") is True for o in _flat(given))


def referenced_ids(given: list[Json]) -> Iterator[tuple[str, int]]:
    """(kind, id) of every user, channel, role or mentionable option value."""
    for option in _flat(given):
        kind = ID_TYPES.get(option["type"])
        if kind is not None and "value" in option and not option.get("focused"):
            yield kind, int(option["value"])


def _flat(given: list[Json]) -> Iterator[Json]:
    for option in given:
        yield option
        yield from _flat(option.get("options", []))


def component(components: list[Json], data: Any) -> Json:
    """The ``data`` of a component interaction on a message carrying ``components``."""
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
        raise _bad("data.custom_id", "This field is required", "BASE_TYPE_REQUIRED")
    custom_id = data["custom_id"]
    target = next(
        (c for row in components for c in row.get("components", []) if c.get("custom_id") == custom_id), None
    )
    if target is None or target.get("disabled"):
        raise _bad("data.custom_id", "Unknown component", "COMPONENT_INVALID")
    if data.get("component_type", target["type"]) != target["type"]:
        raise _bad("data.component_type", "Component type does not match", "COMPONENT_INVALID")
    out: Json = {"custom_id": custom_id, "component_type": target["type"]}
    if target["type"] != BUTTON:  # a select: its values
        values = data.get("values")
        low, high = target.get("min_values", 1), target.get("max_values", 1)
        if not isinstance(values, list) or not low <= len(values) <= high:
            raise _bad("data.values", f"Must be between {low} and {high} in length.", "BASE_TYPE_BAD_LENGTH")
        allowed = [o.get("value") for o in target.get("options", [])]
        if target["type"] == 3 and any(v not in allowed for v in values):
            raise _bad("data.values", "Value is not one of the options", "BASE_TYPE_CHOICES")
        out["values"] = [str(v) for v in values]
    return out


def declared_inputs(modal: Json) -> dict[str, Json]:
    """The text inputs a modal declared, by custom_id (in action rows or label components)."""
    out: dict[str, Json] = {}
    for row in modal.get("components", []):
        if not isinstance(row, dict):
            continue
        children = [row["component"]] if isinstance(row.get("component"), dict) else row.get("components", [])
        for item in children if isinstance(children, list) else []:
            if (
                isinstance(item, dict)
                and item.get("type") == TEXT_INPUT
                and isinstance(item.get("custom_id"), str)
            ):
                out[item["custom_id"]] = item
    return out


def _input_value(declared: Json, value: Any, path: str) -> str:
    low, high = declared.get("min_length", 0), declared.get("max_length", 4000)
    if not isinstance(value, str) or len(value) > high:
        raise _bad(path, f"Must be {high} or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if value and len(value) < low:
        raise _bad(path, f"Must be {low} or more in length.", "BASE_TYPE_MIN_LENGTH")
    return value


def modal(data: Any, opened: Json) -> Json:
    """The ``data`` of a modal submit: its custom_id and the text inputs' values in their rows,
    checked against the modal the app ``opened`` (its custom_id; only its inputs, each once; the
    required ones filled; lengths within bounds)."""
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str) or not data["custom_id"]:
        raise _bad("data.custom_id", "This field is required", "BASE_TYPE_REQUIRED")
    if data["custom_id"] != opened.get("custom_id"):
        raise _bad("data.custom_id", "The modal was not opened with this custom_id", "MODAL_INVALID")
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= 5:
        raise _bad("data.components", "Must be between 1 and 5 in length.", "BASE_TYPE_BAD_LENGTH")
    declared = declared_inputs(opened)
    out_rows, seen, filled = [], set(), set()
    for i, row in enumerate(rows):
        items = row.get("components") if isinstance(row, dict) else None
        if not isinstance(items, list) or not items:
            raise _bad(f"data.components.{i}.components", "This field is required", "BASE_TYPE_REQUIRED")
        inputs = []
        for j, item in enumerate(items):
            path = f"data.components.{i}.components.{j}"
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str):
                raise _bad(f"{path}.custom_id", "This field is required", "BASE_TYPE_REQUIRED")
            if custom_id not in declared or custom_id in seen:
                raise _bad(f"{path}.custom_id", "The modal declared no such text input", "MODAL_INVALID")
            seen.add(custom_id)
            value = _input_value(declared[custom_id], item.get("value", ""), f"{path}.value")
            if value:
                filled.add(custom_id)
            inputs.append({"type": TEXT_INPUT, "custom_id": custom_id, "value": value})
        out_rows.append({"type": 1, "components": inputs})
    for custom_id, item in declared.items():
        if item.get("required", True) and custom_id not in filled:
            raise _bad("data.components", f"Text input {custom_id} is required", "BASE_TYPE_REQUIRED")
    return {"custom_id": data["custom_id"], "components": out_rows}
