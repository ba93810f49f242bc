"""One started backend per kind for the whole session; every contract test runs against each.

The scylla backend uses the Cassandra node named by ``RAYGUILD_TEST_CASSANDRA`` (host:port, set by
scripts/test.sh) with a fresh keyspace; if that node cannot be reached the tests fail, never skip.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from rayguild.ids import SnowflakeGenerator
from rayguild.storage import ScyllaStorage, SqliteStorage, Storage

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("scylla", id="scylla", marks=pytest.mark.cassandra),
]
TEST_KEYSPACE = f"rayguild_test_{int(time.time())}_{os.getpid()}"


def cassandra_address() -> tuple[str, int]:
    """The test node's host and port; fails the test when scripts/test.sh did not provide it."""
    address = os.environ.get("RAYGUILD_TEST_CASSANDRA")
    if not address:
        pytest.fail("RAYGUILD_TEST_CASSANDRA is not set; run the tests with scripts/test.sh")
    host, _, port = address.rpartition(":")
    return host, int(port)


def make_scylla(keyspace: str = TEST_KEYSPACE, request_timeout_s: float = 10.0) -> ScyllaStorage:
    host, port = cassandra_address()
    return ScyllaStorage(
        hosts=(host,), port=port, keyspace=keyspace, datacenter="datacenter1",
        replication_factor=1, consistency="LOCAL_QUORUM", request_timeout_s=request_timeout_s,
    )  # fmt: skip


@pytest.fixture
def scylla_factory() -> Callable[..., ScyllaStorage]:
    """``make_scylla`` for tests that need a storage object of their own."""
    return make_scylla


@pytest.fixture(scope="session")
async def sqlite_storage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Storage]:
    storage = SqliteStorage(Path(tmp_path_factory.mktemp("sqlite")) / "contract.sqlite3")
    await storage.start()
    yield storage
    await storage.close()


@pytest.fixture(scope="session")
async def scylla_storage() -> AsyncIterator[Storage]:
    storage = make_scylla()
    await storage.start()
    yield storage
    await storage.close()


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Storage:
    started: Storage = request.getfixturevalue(f"{request.param}_storage")
    return started


_ids = SnowflakeGenerator(worker_id=31, process_id=31)
_codes = itertools.count()


@pytest.fixture
def new_id() -> Callable[[], int]:
    """A fresh snowflake (made now) per call, unique across the session."""
    return _ids.next


@pytest.fixture
def new_code() -> Callable[[], str]:
    """A fresh invite code per call."""
    return lambda: f"c{os.getpid()}x{next(_codes)}x{time.time_ns()}"
