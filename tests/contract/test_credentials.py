"""Password logins and signed-in session tokens: the same behaviour on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rayguild.storage import Credential, Storage

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]


async def test_a_login_is_claimed_once_and_read_back(storage: Storage, new_id: NewId) -> None:
    login = f"ada{new_id()}"
    first = Credential(login, new_id(), "$argon2id$first")
    assert await storage.get_credential(login) is None
    assert await storage.claim_login(first)
    assert not await storage.claim_login(Credential(login, new_id(), "$argon2id$second"))
    assert await storage.get_credential(login) == first


async def test_racing_claims_of_one_login_have_one_winner(storage: Storage, new_id: NewId) -> None:
    login = f"race{new_id()}"
    claims = [Credential(login, new_id(), f"$argon2id${i}") for i in range(4)]
    won = await asyncio.gather(*(storage.claim_login(c) for c in claims))
    assert sorted(won) == [False, False, False, True]
    assert await storage.get_credential(login) == claims[won.index(True)]


async def test_a_password_hash_is_replaced(storage: Storage, new_id: NewId) -> None:
    credential = Credential(f"grace{new_id()}", new_id(), "$argon2id$old")
    await storage.claim_login(credential)
    await storage.set_password_hash(credential.login, "$argon2id$new")
    stored = await storage.get_credential(credential.login)
    assert stored == Credential(credential.login, credential.user_id, "$argon2id$new")


async def test_session_tokens_resolve_until_revoked(storage: Storage, new_id: NewId) -> None:
    user_id = new_id()
    laptop, phone = f"laptop{user_id}", f"phone{user_id}"
    await storage.put_session_token(laptop, user_id)
    await storage.put_session_token(phone, user_id)
    assert await storage.user_of_session_token(laptop) == user_id
    assert await storage.delete_session_token(laptop)
    assert not await storage.delete_session_token(laptop)
    assert await storage.user_of_session_token(laptop) is None
    assert await storage.user_of_session_token(phone) == user_id
    assert await storage.user_of_session_token("never-issued") is None
