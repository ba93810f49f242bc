"""A database made by the release before rich messages (messages without the ``rich``,
``pinned`` and ``reacted`` columns) is upgraded when a backend starts on it: its messages read
back as before and new ones carry their rich parts. Real SQLite file; real Cassandra keyspace."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cassandra.cluster import Cluster

from rayguild.storage import Message, ScyllaStorage, SqliteStorage, Storage
from tests.contract.conftest import cassandra_address

pytestmark = pytest.mark.asyncio

OLD_SQLITE = """
CREATE TABLE messages (
    channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL, author_id INTEGER NOT NULL,
    content TEXT NOT NULL, guild_id INTEGER, type INTEGER NOT NULL, nonce TEXT,
    edited_at_ms INTEGER, mention_ids TEXT, mention_everyone INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id)) WITHOUT ROWID;
INSERT INTO messages VALUES (5, 100, 7, 'from before', 3, 0, NULL, NULL, '[8]', 0);
"""
OLD_CQL = """CREATE TABLE {ks}.messages (
    channel_id bigint, bucket int, message_id bigint, author_id bigint, content text,
    guild_id bigint, type int, nonce text, edited_at_ms bigint, mention_ids list<bigint>,
    mention_everyone boolean, PRIMARY KEY ((channel_id, bucket), message_id)
) WITH CLUSTERING ORDER BY (message_id DESC)"""
BEFORE = Message(id=100, channel_id=5, author_id=7, content="from before", guild_id=3, mention_ids=(8,))
RICH = Message(
    id=101, channel_id=5, author_id=7, content="", embeds=({"type": "rich", "title": "t"},), flags=4
)


async def check_upgraded(storage: Storage) -> None:
    assert await storage.get_message(5, 100) == BEFORE
    assert await storage.create_message(RICH) == RICH
    assert await storage.get_message(5, 101) == RICH
    assert await storage.pin_message(5, 100, 1)
    assert (await storage.get_message(5, 100)).pinned  # type: ignore[union-attr]


async def test_sqlite_file_from_before_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SQLITE)
    for attempt in range(2):  # a second start finds nothing to add
        storage = SqliteStorage(path)
        await storage.start()
        try:
            if attempt == 0:
                await check_upgraded(storage)
        finally:
            await storage.close()


@pytest.mark.cassandra
async def test_cassandra_keyspace_from_before_is_upgraded(
    scylla_factory: Callable[..., ScyllaStorage],
) -> None:
    keyspace = f"rayguild_upgrade_{os.getpid()}_{time.time_ns()}"
    host, port = cassandra_address()

    def create_old() -> None:
        cluster = Cluster([host], port=port, connect_timeout=30)
        session = cluster.connect()
        session.default_timeout = 60  # DDL waits for schema agreement, slow on a loaded machine
        session.execute(
            f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )
        session.execute(OLD_CQL.format(ks=keyspace))
        session.execute(
            f"INSERT INTO {keyspace}.messages (channel_id, bucket, message_id, author_id, content, guild_id, "
            "type, mention_ids) VALUES (5, 0, 100, 7, 'from before', 3, 0, [8])"
        )
        cluster.shutdown()

    await asyncio.to_thread(create_old)
    for attempt in range(2):  # a second start finds nothing to add
        storage = scylla_factory(keyspace=keyspace, request_timeout_s=30)
        await storage.start()
        try:
            if attempt == 0:
                await check_upgraded(storage)
        finally:
            await storage.close()
