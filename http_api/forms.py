"""Reading request input the way Discord validates it: JSON bodies, form fields, snowflakes.

Malformed JSON is 400 50109; a wrong field is 400 50035 with Discord's nested ``errors`` naming
the field. A body larger than the app's ``client_max_size`` is refused by aiohttp with 413.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from rayguild.http_api.errors import INVALID_JSON, ApiError, invalid_form

MAX_SNOWFLAKE = (1 << 63) - 1


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object ({} when empty)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, INVALID_JSON, "The request body contains invalid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return body


def snowflake(value: Any, field: str) -> int:
    """A snowflake (int or decimal string) in ``field``; 400 50035 otherwise."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or not 0 <= number <= MAX_SNOWFLAKE:
        raise invalid_form(field, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
    return number


def path_id(request: web.Request, name: str) -> int:
    """A snowflake from the URL path."""
    return snowflake(request.match_info[name], name)


def query_id(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    return None if value is None else snowflake(value, name)


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_form(name, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.') from None
    if not low <= value <= high:
        raise invalid_form(
            name, "NUMBER_TYPE_MAX" if value > high else "NUMBER_TYPE_MIN",
            f"int value should be between {low} and {high}.",
        )  # fmt: skip
    return value


def text(body: dict[str, Any], field: str, low: int, high: int, *, required: bool = True) -> str | None:
    """A string field of ``low``-``high`` characters; None when absent and not required."""
    value = body.get(field)
    if value is None:
        if required:
            raise invalid_form(field, "BASE_TYPE_REQUIRED", "This field is required")
        return None
    if not isinstance(value, str):
        raise invalid_form(field, "BASE_TYPE_STRING", "Could not interpret value as string.")
    if not low <= len(value) <= high:
        raise invalid_form(field, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
    return value


def integer(body: dict[str, Any], field: str, default: int, low: int, high: int) -> int:
    value = body.get(field, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid_form(field, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    try:
        number = int(value)
    except ValueError:
        raise invalid_form(field, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.') from None
    if not low <= number <= high:
        raise invalid_form(field, "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}.")
    return number


def role_color(body: dict[str, Any], default: int) -> int:
    """A role's colour as Discord takes it: ``colors.primary_color`` (what discord.py 2.6+ sends)
    before the older ``color``; ``default`` when neither is given."""
    colors = body.get("colors")
    if isinstance(colors, dict) and "primary_color" in colors:
        return integer(colors, "primary_color", default, 0, 0xFFFFFF)
    return integer(body, "color", default, 0, 0xFFFFFF)


def flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_form(field, "BASE_TYPE_BOOLEAN", "Must be either true or false.")
    return value


def optional_id(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    return None if value is None else snowflake(value, field)


def permission_bits(body: dict[str, Any], field: str, default: int) -> int:
    """Discord sends permission bit sets as decimal strings (integers accepted too)."""
    value = body.get(field)
    if value is None:
        return default
    try:
        bits = int(value)
    except (TypeError, ValueError):
        bits = -1
    if isinstance(value, bool) or bits < 0 or bits >= 1 << 64:
        raise invalid_form(field, "NUMBER_TYPE_COERCE", f'Value "{value}" is not a permission set.')
    return bits


def timestamp_ms(body: dict[str, Any], field: str) -> int | None:
    """An ISO 8601 timestamp with a UTC offset in ``field`` as epoch milliseconds; None when
    absent or null; 400 50035 DATE_TIME_TYPE_PARSE otherwise."""
    raw = body.get(field)
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise invalid_form(field, "DATE_TIME_TYPE_PARSE", f"Could not parse {raw}. Should be ISO8601.")
    return int(at.timestamp() * 1000)
