"""Accounts and tokens: a token is 32 random bytes, stored only as its SHA-256 hex digest.

``Authorization: Bot <token>`` authenticates a bot, a bare ``<token>`` a user (as Discord does);
the prefix must match the account kind. ``create_user`` is shared by ``POST /auth/register`` and
the ``rayguild user create`` command.
"""

from __future__ import annotations

import hashlib
import secrets

from aiohttp import web

from rayguild.http_api.errors import REGISTRATION_DISABLED, ApiError, json_response, unauthorized
from rayguild.http_api.forms import flag, read_json, text
from rayguild.http_api.keys import ctx_of
from rayguild.ids import SnowflakeGenerator
from rayguild.shapes import user as user_shape
from rayguild.storage.models import User
from rayguild.storage.protocol import AccountStore

routes = web.RouteTableDef()

_USER_KEY = web.RequestKey("user", User)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(user_id: int) -> str:
    """Discord-like: ``<base64 user id>.<random>``; only its hash is stored."""
    return f"{str(user_id).encode().hex()}.{secrets.token_urlsafe(32)}"


async def create_user(
    storage: AccountStore, snowflakes: SnowflakeGenerator, name: str, bot: bool
) -> tuple[User, str]:
    """Create an account; returns it with its token (shown once, never stored in clear)."""
    account = User(id=snowflakes.next(), username=name, bot=bot)
    token = new_token(account.id)
    await storage.create_user(account, hash_token(token))
    return account, token


def split_authorization(header: str) -> tuple[str, bool]:
    """(token, claims_bot) from an Authorization header value."""
    if header.startswith("Bot "):
        return header[4:].strip(), True
    return header.strip(), False


async def user_for_token(storage: AccountStore, token: str) -> User | None:
    return await storage.user_by_token_hash(hash_token(token)) if token else None


async def authenticate(request: web.Request) -> User:
    """The caller's account, or 401 (cached on the request)."""
    if _USER_KEY in request:
        return request[_USER_KEY]
    token, claims_bot = split_authorization(request.headers.get("Authorization", ""))
    account = await user_for_token(ctx_of(request).storage, token)
    if account is None or account.bot != claims_bot:
        raise unauthorized()
    request[_USER_KEY] = account
    return account


@routes.post("/auth/register")
async def register(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    if not ctx.config.registration_enabled:
        raise ApiError(403, REGISTRATION_DISABLED, "Registration is disabled on this server")
    body = await read_json(request)
    name = text(body, "username", 2, 32)
    assert name is not None
    account, token = await create_user(ctx.storage, ctx.snowflakes, name, flag(body, "bot", False))
    return json_response({"token": token, "user": user_shape(account)}, status=201)
