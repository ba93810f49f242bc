"""Password accounts: a login name's password hash, and the revocable tokens signing in hands out.

``CredentialStore`` is implemented for both backends by the two mixins here, which run on the
backend's own connection (``SqliteStorage`` and ``ScyllaStorage`` inherit them). Guarantees:
- a login name belongs to at most one account: ``claim_login`` is an insert-if-absent (a SQLite
  primary key, a Cassandra lightweight transaction), so two racing registrations cannot both win;
- the store only ever sees a password's hash and a token's hash, never either in clear;
- a deleted session token is never accepted again (sign-out is durable before it returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rayguild.storage.scylla_session import CqlSession
from rayguild.storage.sqlite_file import SqliteFile


@dataclass(frozen=True, slots=True)
class Credential:
    """The password hash (an argon2 PHC string) that signs ``user_id`` in as ``login``."""

    login: str
    user_id: int
    password_hash: str


class CredentialStore(Protocol):
    async def claim_login(self, credential: Credential) -> bool:
        """Store ``credential`` if its login is free; False (nothing written) if it is taken."""
        ...

    async def get_credential(self, login: str) -> Credential | None: ...

    async def set_password_hash(self, login: str, password_hash: str) -> None:
        """Replace the hash of an existing login (a re-hash with stronger parameters)."""
        ...

    async def put_session_token(self, token_hash: str, user_id: int) -> None: ...

    async def user_of_session_token(self, token_hash: str) -> int | None: ...

    async def delete_session_token(self, token_hash: str) -> bool:
        """Revoke one signed-in token (sign-out); False if it was not there."""
        ...


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    login TEXT PRIMARY KEY, user_id INTEGER NOT NULL, password_hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_tokens (
    token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL) WITHOUT ROWID;
"""

CQL_TABLES = (
    "CREATE TABLE IF NOT EXISTS credentials (login text PRIMARY KEY, user_id bigint, password_hash text)",
    "CREATE TABLE IF NOT EXISTS session_tokens (token_hash text PRIMARY KEY, user_id bigint)",
)
CQL_STATEMENTS = {
    "claim": "INSERT INTO credentials (login, user_id, password_hash) VALUES (?,?,?) IF NOT EXISTS",
    "get": "SELECT login, user_id, password_hash FROM credentials WHERE login=?",
    # A lightweight transaction too: mixing LWT and plain writes on one row is not linearizable.
    "rehash": "UPDATE credentials SET password_hash=? WHERE login=? IF EXISTS",
    "token_put": "INSERT INTO session_tokens (token_hash, user_id) VALUES (?,?)",
    "token_get": "SELECT user_id FROM session_tokens WHERE token_hash=?",
    "token_del": "DELETE FROM session_tokens WHERE token_hash=? IF EXISTS",
}


class SqliteCredentials:
    """``CredentialStore`` on the SQLite backend's file (tables in ``SQLITE_SCHEMA``)."""

    _db: SqliteFile

    async def claim_login(self, credential: Credential) -> bool:
        c = credential
        return await self._db.transaction(
            lambda conn: (
                conn.execute(
                    "INSERT OR IGNORE INTO credentials VALUES (?,?,?)", (c.login, c.user_id, c.password_hash)
                ).rowcount
                > 0
            )
        )

    async def get_credential(self, login: str) -> Credential | None:
        rows = await self._db.query(
            "SELECT login, user_id, password_hash FROM credentials WHERE login=?", login
        )
        return Credential(*rows[0]) if rows else None

    async def set_password_hash(self, login: str, password_hash: str) -> None:
        await self._db.execute(
            ("UPDATE credentials SET password_hash=? WHERE login=?", (password_hash, login))
        )

    async def put_session_token(self, token_hash: str, user_id: int) -> None:
        await self._db.execute(("INSERT OR REPLACE INTO session_tokens VALUES (?,?)", (token_hash, user_id)))

    async def user_of_session_token(self, token_hash: str) -> int | None:
        rows = await self._db.query("SELECT user_id FROM session_tokens WHERE token_hash=?", token_hash)
        return int(rows[0][0]) if rows else None

    async def delete_session_token(self, token_hash: str) -> bool:
        return await self._db.transaction(
            lambda conn: (
                conn.execute("DELETE FROM session_tokens WHERE token_hash=?", (token_hash,)).rowcount > 0
            )
        )


class ScyllaCredentials:
    """``CredentialStore`` on the Scylla backend's session (tables in ``CQL_TABLES``)."""

    _db: CqlSession

    async def claim_login(self, credential: Credential) -> bool:
        c = credential
        (row,) = await self._db.execute(CQL_STATEMENTS["claim"], c.login, c.user_id, c.password_hash)
        return bool(row["[applied]"])

    async def get_credential(self, login: str) -> Credential | None:
        rows = await self._db.execute(CQL_STATEMENTS["get"], login)
        return Credential(rows[0]["login"], rows[0]["user_id"], rows[0]["password_hash"]) if rows else None

    async def set_password_hash(self, login: str, password_hash: str) -> None:
        await self._db.execute(CQL_STATEMENTS["rehash"], password_hash, login)

    async def put_session_token(self, token_hash: str, user_id: int) -> None:
        await self._db.execute(CQL_STATEMENTS["token_put"], token_hash, user_id)

    async def user_of_session_token(self, token_hash: str) -> int | None:
        rows = await self._db.execute(CQL_STATEMENTS["token_get"], token_hash)
        return int(rows[0]["user_id"]) if rows else None

    async def delete_session_token(self, token_hash: str) -> bool:
        (row,) = await self._db.execute(CQL_STATEMENTS["token_del"], token_hash)
        return bool(row["[applied]"])
