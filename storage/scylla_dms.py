"""DM channels on Cassandra/ScyllaDB: the pair is claimed with a lightweight transaction.

Mixed into ``ScyllaStorage`` (it provides ``_db``). ``dm_pairs`` maps the (low, high) pair to its
channel id and is claimed with ``INSERT ... IF NOT EXISTS``, so two racing opens agree; the
channel row and both users' index rows are written after the claim. An open that finds a claim
whose rows were never written (a crash in between) writes them: the rows are idempotent.
"""

from __future__ import annotations

from rayguild.storage.models import DmChannel
from rayguild.storage.scylla_session import CqlSession

TABLES = (
    """CREATE TABLE IF NOT EXISTS dm_pairs (
        user_low bigint, user_high bigint, channel_id bigint, PRIMARY KEY ((user_low, user_high))
    )""",
    """CREATE TABLE IF NOT EXISTS dm_channels (
        channel_id bigint PRIMARY KEY, user_low bigint, user_high bigint
    )""",
    """CREATE TABLE IF NOT EXISTS dms_by_user (
        user_id bigint, channel_id bigint, user_low bigint, user_high bigint,
        PRIMARY KEY (user_id, channel_id)
    ) WITH CLUSTERING ORDER BY (channel_id ASC)""",
)
STATEMENTS = {
    "dm_claim": "INSERT INTO dm_pairs (user_low, user_high, channel_id) VALUES (?,?,?) IF NOT EXISTS",
    "dm_put": "INSERT INTO dm_channels (channel_id, user_low, user_high) VALUES (?,?,?)",
    "dm_get": "SELECT user_low, user_high FROM dm_channels WHERE channel_id=?",
    "dm_index": "INSERT INTO dms_by_user (user_id, channel_id, user_low, user_high) VALUES (?,?,?,?)",
    "dm_list": "SELECT channel_id, user_low, user_high FROM dms_by_user WHERE user_id=?",
}


class ScyllaDms:
    _db: CqlSession

    async def open_dm(self, new_id: int, user_a: int, user_b: int) -> DmChannel:
        low, high = sorted((user_a, user_b))
        (claim,) = await self._db.execute(STATEMENTS["dm_claim"], low, high, new_id)
        channel_id = new_id if claim["[applied]"] else int(claim["channel_id"])
        if claim["[applied]"] or not await self._db.execute(STATEMENTS["dm_get"], channel_id):
            await self._db.execute(STATEMENTS["dm_index"], low, channel_id, low, high)
            await self._db.execute(STATEMENTS["dm_index"], high, channel_id, low, high)
            await self._db.execute(STATEMENTS["dm_put"], channel_id, low, high)
        return DmChannel(channel_id, (low, high))

    async def get_dm(self, channel_id: int) -> DmChannel | None:
        rows = await self._db.execute(STATEMENTS["dm_get"], channel_id)
        return DmChannel(channel_id, (rows[0]["user_low"], rows[0]["user_high"])) if rows else None

    async def list_dms(self, user_id: int) -> list[DmChannel]:
        rows = await self._db.execute(STATEMENTS["dm_list"], user_id)
        return [DmChannel(r["channel_id"], (r["user_low"], r["user_high"])) for r in rows]
