"""Shared unit-test pieces: a small guild in a real SQLite file, and a sink that keeps frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from rayguild.fanout.permissions import DEFAULT_EVERYONE, VIEW_CHANNEL
from rayguild.storage import Channel, Guild, Member, Overwrite, Role, SqliteStorage, User

GUILD, GENERAL, SECRET, SECRET_ROLE = 10, 11, 12, 13


class ListSink:
    """Keeps every frame, decoded; remembers the close code."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None

    def write(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def close(self, code: int, reason: str) -> None:
        self.closed = code


@pytest.fixture
async def storage(tmp_path: Path) -> SqliteStorage:
    """40 members; odd user ids hold SECRET_ROLE, the only role that may view SECRET."""
    store = SqliteStorage(tmp_path / "relays.sqlite3")
    await store.start()
    await store.put_guild(Guild(GUILD, "big", owner_id=1))
    await store.put_role(Role(GUILD, GUILD, "@everyone", DEFAULT_EVERYONE))
    await store.put_role(Role(SECRET_ROLE, GUILD, "secret", 0))
    await store.put_channel(Channel(GENERAL, GUILD, "general"))
    deny = (Overwrite(GUILD, 0, 0, VIEW_CHANNEL), Overwrite(SECRET_ROLE, 0, VIEW_CHANNEL, 0))
    await store.put_channel(Channel(SECRET, GUILD, "secret", permission_overwrites=deny))
    for user in range(1, 41):
        await store.create_user(User(user, f"u{user}"), f"hash{user}")
        roles = (SECRET_ROLE,) if user % 2 else ()
        await store.put_member(Member(GUILD, user, 1_600_000_000_000, roles))
    return store
