"""Every failure leaves the edge in Discord's error shape ``{code, message, errors?}``.

``error_middleware`` turns ``ApiError``, aiohttp's HTTP exceptions, ``StorageUnavailable`` and any
unexpected exception into a JSON body with Discord's status and code, so no request ever gets a
text error page. ``json_response`` is the one way a JSON body leaves: orjson-encoded, with
``Content-Type: application/json`` exactly (discord.py compares the whole header).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from rayguild.errors import StorageUnavailable

log = structlog.get_logger("rayguild.http")

JSON = "application/json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Discord's JSON error codes used here.
GENERAL = 0
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_INVITE = 10006
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
REGISTRATION_DISABLED = 20001
REQUEST_TOO_LARGE = 40005
MISSING_ACCESS = 50001
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
INVALID_GUILD = 50055
INVALID_JSON = 50109

_UNKNOWN = {
    "channel": UNKNOWN_CHANNEL,
    "guild": UNKNOWN_GUILD,
    "invite": UNKNOWN_INVITE,
    "member": UNKNOWN_MEMBER,
    "message": UNKNOWN_MESSAGE,
    "role": UNKNOWN_ROLE,
    "user": UNKNOWN_USER,
}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    response = web.Response(body=orjson.dumps(data), status=status, headers=headers)
    response.content_type = JSON  # no charset: discord.py compares the whole header
    return response


class ApiError(Exception):
    """A request that cannot be served; carries Discord's status, code and message."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers, self.extra = errors, headers, extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            out["errors"] = self.errors
        if self.extra:
            out.update(self.extra)
        return out

    def response(self) -> web.Response:
        return json_response(self.body(), self.status, self.headers)


def unknown(entity: str) -> ApiError:
    """404 for an entity that does not exist (or that the caller may not know exists)."""
    return ApiError(404, _UNKNOWN[entity], f"Unknown {entity.capitalize()}")


def unauthorized() -> ApiError:
    return ApiError(401, GENERAL, "401: Unauthorized")


def missing_access() -> ApiError:
    return ApiError(403, MISSING_ACCESS, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")


def invalid_form(field: str, code: str, message: str) -> ApiError:
    """400 50035 with Discord's nested ``errors`` naming the field (dots nest: "a.b")."""
    tree: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field.split(".")):
        tree = {part: tree}
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors=tree)


def _from_http(exc: web.HTTPException) -> ApiError:
    if exc.status == 413:
        return ApiError(413, REQUEST_TOO_LARGE, "Request entity too large")
    return ApiError(exc.status, GENERAL, f"{exc.status}: {exc.reason}")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http(exc).response()
    except HttpProcessingError as exc:  # aiohttp could not parse the body (e.g. a multipart part header)
        detail = {"_errors": [{"code": "BODY_INVALID", "message": f"Unreadable request body: {exc.message}"}]}
        return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors=detail).response()
    except StorageUnavailable as exc:
        log.warning("storage.unavailable", path=request.path, error=str(exc))
        return ApiError(503, GENERAL, f"Storage unavailable, retry later: {exc}").response()
    except Exception:
        log.exception("http.unhandled", method=request.method, path=request.path)
        return ApiError(500, GENERAL, "500: Internal Server Error").response()
