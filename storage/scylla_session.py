"""A scylla-driver session used from asyncio: queries never block the loop, errors are typed.

``execute`` bridges the driver's ``execute_async`` future into an asyncio future with
``loop.call_soon_threadsafe``. Every driver error that means "the database did not answer"
(no host, timeout, unavailable, connection lost) becomes ``StorageUnavailable``. The cluster
retries a lost node every ``reconnect_interval_s``, so the same session works again once it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cassandra import ConsistencyLevel, DriverException, InvalidRequest, RequestValidationException
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.cluster import Session as DriverSession
from cassandra.connection import ConnectionException
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    TokenAwarePolicy,
)
from cassandra.query import PreparedStatement, dict_factory

from rayguild.errors import StorageUnavailable

Row = dict[str, Any]
_UNAVAILABLE = (NoHostAvailable, ConnectionException, DriverException, OSError)


def _is_unavailable(err: BaseException) -> bool:
    # A request the server rejects as invalid is a bug in rayguild, not an outage.
    return isinstance(err, _UNAVAILABLE) and not isinstance(err, RequestValidationException)


class CqlSession:
    """One driver Cluster and Session for ``keyspace``, with prepared statements cached by text."""

    def __init__(
        self,
        hosts: Sequence[str],
        port: int,
        datacenter: str,
        consistency: str,
        request_timeout_s: float,
        reconnect_interval_s: float = 1.0,
    ) -> None:
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=datacenter)),
            consistency_level=ConsistencyLevel.name_to_value[consistency],
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=request_timeout_s,
            row_factory=dict_factory,
        )
        self._cluster_options: dict[str, Any] = {
            "contact_points": list(hosts),
            "port": port,
            "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
            "reconnection_policy": ConstantReconnectionPolicy(reconnect_interval_s, None),
            "connect_timeout": request_timeout_s,
            "control_connection_timeout": request_timeout_s,
            "idle_heartbeat_interval": 5,
            "idle_heartbeat_timeout": request_timeout_s,
        }
        self._cluster: Cluster | None = None
        self._session: DriverSession | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self.where = f"{','.join(hosts)}:{port}"

    @property
    def protocol_version(self) -> int:
        """The CQL protocol version negotiated: v5 on Cassandra 4+/5, v4 on ScyllaDB."""
        return 0 if self._cluster is None else int(self._cluster.protocol_version)

    async def connect(self, setup: Sequence[str], keyspace: str) -> None:
        """Connect, run the ``setup`` DDL (creating ``keyspace``), then use ``keyspace``."""

        def run() -> None:
            # A Cluster whose first connect failed is shut down by the driver: build a new one.
            cluster = Cluster(**self._cluster_options)
            try:
                session = cluster.connect()
                for cql in setup:
                    session.execute(cql)
                session.set_keyspace(keyspace)
            except BaseException:
                cluster.shutdown()
                raise
            self._cluster, self._session = cluster, session

        await self._blocking(run)

    async def add_columns(self, keyspace: str, table: str, columns: dict[str, str]) -> None:
        """Add to ``table`` those of ``columns`` (name: CQL type) it lacks, so a table created by an
        earlier release gains the columns added since (another node adding one first is fine)."""

        def missing() -> list[str]:
            assert self._session is not None
            rows = self._session.execute(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name=%s AND table_name=%s",
                (keyspace, table),
            )
            have = {row["column_name"] for row in rows}
            return [name for name in columns if name not in have]

        def run() -> None:
            assert self._session is not None
            for name in missing():
                try:
                    self._session.execute(f"ALTER TABLE {keyspace}.{table} ADD {name} {columns[name]}")
                except InvalidRequest:
                    if name in missing():
                        raise

        await self._blocking(run)

    async def prepare(self, *statements: str) -> None:
        """Prepare ``statements`` once (a blocking round trip, so at start-up only)."""

        def run() -> None:
            assert self._session is not None
            for cql in statements:
                self._prepared[cql] = self._session.prepare(cql)

        await self._blocking(run)

    async def execute(self, cql: str, *params: Any) -> list[Row]:
        """The rows of the first page of prepared statement ``cql`` bound to ``params``."""
        if self._session is None:
            raise StorageUnavailable(f"not connected to Cassandra at {self.where}; call start()")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Row]] = loop.create_future()

        def settle(rows: list[Row] | None, err: BaseException | None) -> None:
            if done.done():
                return
            if err is not None:
                done.set_exception(err)
            else:
                done.set_result(rows or [])

        try:
            response = self._session.execute_async(self._prepared[cql], params)
            response.add_callbacks(
                lambda rows: loop.call_soon_threadsafe(settle, rows, None),
                lambda err: loop.call_soon_threadsafe(settle, None, err),
            )
            return await done
        except Exception as err:
            if _is_unavailable(err):
                raise self._unavailable(err) from err
            raise

    async def close(self) -> None:
        if self._cluster is not None:
            await asyncio.to_thread(self._cluster.shutdown)
        self._cluster, self._session = None, None

    async def _blocking(self, fn: Callable[[], None]) -> None:
        try:
            await asyncio.to_thread(fn)
        except Exception as err:
            if _is_unavailable(err):
                raise self._unavailable(err) from err
            raise

    def _unavailable(self, err: Exception) -> StorageUnavailable:
        return StorageUnavailable(
            f"Cassandra/ScyllaDB at {self.where} did not answer ({type(err).__name__}: {err}); retry later"
        )
