"""Accounts and tokens: a token is 32 random bytes, stored only as its SHA-256 hex digest.

``Authorization: Bot <token>`` authenticates a bot, a bare ``<token>`` a user (as Discord does);
the prefix must match the account kind. ``create_user`` is shared by ``POST /auth/register`` and
the ``rayguild user create`` command.

Password accounts (the web client's, named as Discord's web client names them):
``POST /auth/register`` with a ``password`` creates one (the username, lower-cased, is its login
and unique), ``POST /auth/login {login, password}`` signs in, ``POST /auth/logout`` revokes the
token it is called with. Each answers a new session token, revocable on its own; passwords are
stored only as argon2id hashes (argon2-cffi's RFC 9106 parameters, computed off the event loop).
Sign-in is limited per client address (``ratelimit.ROUTES``) and per login name
(``LOGIN_ATTEMPTS`` per ``LOGIN_WINDOW_S``, counted before the hash is checked, so guessing costs
the server no CPU past the limit); a wrong name and a wrong password get the same answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rayguild.http_api.errors import (
    INVALID_FORM_BODY,
    REGISTRATION_DISABLED,
    ApiError,
    invalid_form,
    json_response,
    unauthorized,
)
from rayguild.http_api.forms import flag, read_json, text
from rayguild.http_api.keys import LIMITER, ctx_of
from rayguild.http_api.ratelimit import Limit, too_many
from rayguild.ids import SnowflakeGenerator
from rayguild.shapes import user as user_shape
from rayguild.storage.credentials import Credential
from rayguild.storage.models import User
from rayguild.storage.protocol import AccountStore, Storage

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


async def user_for_token(storage: Storage, token: str) -> User | None:
    """The account of an account token, else of a signed-in (password) session token."""
    if not token:
        return None
    digest = hash_token(token)
    account = await storage.user_by_token_hash(digest)
    if account is None:
        user_id = await storage.user_of_session_token(digest)
        account = None if user_id is None else await storage.get_user(user_id)
    return account


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
    if body.get("password") is not None:
        return await _register_with_password(request, name, body)
    account, token = await create_user(ctx.storage, ctx.snowflakes, name, flag(body, "bot", False))
    return json_response({"token": token, "user": user_shape(account)}, status=201)


PASSWORDS = PasswordHasher()  # argon2id, RFC 9106 "low memory": 64 MiB, 3 passes, 4 lanes
PASSWORD_MIN, PASSWORD_MAX = 8, 128
LOGIN_ATTEMPTS, LOGIN_WINDOW_S = 10, 300.0
INVALID_LOGIN = "Login or password is invalid."


def login_of(name: str) -> str:
    return name.strip().lower()


async def _register_with_password(request: web.Request, name: str, body: dict[str, object]) -> web.Response:
    ctx = ctx_of(request)
    password = text(body, "password", PASSWORD_MIN, PASSWORD_MAX)
    assert password is not None
    login = login_of(name)
    if await ctx.storage.get_credential(login) is not None:
        raise _username_taken()
    password_hash = await asyncio.to_thread(PASSWORDS.hash, password)
    # The account first: a lost race below leaves an account nobody can reach, never a login
    # name that points at no account.
    account, _ = await create_user(ctx.storage, ctx.snowflakes, name.strip(), bot=False)
    if not await ctx.storage.claim_login(Credential(login, account.id, password_hash)):
        raise _username_taken()
    token = await _sign_in(ctx.storage, account.id)
    return json_response(
        {"token": token, "user_id": str(account.id), "user": user_shape(account)}, status=201
    )


def _username_taken() -> ApiError:
    return invalid_form(
        "username", "USERNAME_ALREADY_TAKEN",
        "Username is unavailable. Try adding numbers, letters, underscores _ , or periods.",
    )  # fmt: skip


async def _sign_in(storage: Storage, user_id: int) -> str:
    token = new_token(user_id)
    await storage.put_session_token(hash_token(token), user_id)
    return token


@routes.post("/auth/login")
async def login(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    body = await read_json(request)
    name = text(body, "login", 1, 64)
    password = text(body, "password", 1, PASSWORD_MAX)
    assert name is not None and password is not None
    login = login_of(name)
    verdict = request.config_dict[LIMITER].take(f"login:{login}", "", Limit(LOGIN_ATTEMPTS, LOGIN_WINDOW_S))
    if not verdict.allowed:
        limited = too_many(verdict, "login", False)
        seconds = int(verdict.retry_after_s) + 1
        message = f"Too many sign-in attempts for this account; try again in {seconds} seconds."
        raise ApiError(429, 0, message, headers=limited.headers, extra=limited.extra)
    credential = await ctx.storage.get_credential(login)
    if credential is None or not await asyncio.to_thread(_verify, credential.password_hash, password):
        raise ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors={
            "login": {"_errors": [{"code": "INVALID_LOGIN", "message": INVALID_LOGIN}]},
            "password": {"_errors": [{"code": "INVALID_LOGIN", "message": INVALID_LOGIN}]},
        })  # fmt: skip
    if PASSWORDS.check_needs_rehash(credential.password_hash):
        await ctx.storage.set_password_hash(login, await asyncio.to_thread(PASSWORDS.hash, password))
    token = await _sign_in(ctx.storage, credential.user_id)
    return json_response(
        {
            "token": token,
            "user_id": str(credential.user_id),
            "user_settings": {"locale": "en-US", "theme": "dark"},
        }
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@routes.post("/auth/logout")
async def logout(request: web.Request) -> web.Response:
    """Revoke the signed-in token this request carries (204, as Discord answers)."""
    await authenticate(request)
    token, _ = split_authorization(request.headers.get("Authorization", ""))
    await ctx_of(request).storage.delete_session_token(hash_token(token))
    return web.Response(status=204)
