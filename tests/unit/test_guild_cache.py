"""The edge's guild cache: values kept while the guild's stamp is unchanged, read again after
``write`` (from any cache on the same storage, whatever order plain writes would land in) or once ``ttl_s`` old (a change whose stamp
write failed), and its bounds, taken from Config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rayguild.config import Config
from rayguild.errors import StorageUnavailable
from rayguild.http_api.guild_cache import STAMP, GuildCache
from rayguild.http_api.local import LocalCluster
from rayguild.storage.sqlite import SqliteStorage


class StampWritesFail:
    """A storage object whose writes of the guild cache's stamp raise StorageUnavailable (the
    database went away between a writer's data write and its stamp write)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in ("put_setting", "swap_setting"):
            return attr

        async def write(owner_id: int, setting: str, *args: Any) -> Any:
            if setting == STAMP:
                raise StorageUnavailable("the database went away")
            return await attr(owner_id, setting, *args)

        return write


async def test_values_are_kept_until_any_edge_changes_the_guild(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "cache.sqlite3")
    await storage.start()
    mine, other = GuildCache(), GuildCache()  # two edges
    loads: list[int] = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    assert await mine.reader(storage, 7).get("k", load) == 1
    assert await mine.reader(storage, 7).get("k", load) == 1  # kept
    assert await mine.reader(storage, 8).get("k", load) == 2  # guilds apart
    await other.write(storage, 7, storage.put_setting(7, "rule", "1"))
    assert await mine.reader(storage, 7).get("k", load) == 3  # the other edge's change is seen
    assert await mine.reader(storage, 8).get("k", load) == 2
    await storage.close()


class PlainStampWritesLose:
    """A storage object on which a plain write of the stamp is shadowed by the one stored, as a
    Cassandra INSERT is when the writing edge's clock is behind the previous writer's
    (last-write-wins on client timestamps); compare-and-set is ordered by the database."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put_setting(self, owner_id: int, name: str, document: str) -> None:
        if name != STAMP or await self.inner.get_setting(owner_id, name) is None:
            await self.inner.put_setting(owner_id, name, document)


async def test_every_write_changes_the_stamp_whatever_the_writers_clocks(tmp_path: Path) -> None:
    inner = SqliteStorage(tmp_path / "cache.sqlite3")
    await inner.start()
    storage: Any = PlainStampWritesLose(inner)
    reader, ahead, behind = GuildCache(), GuildCache(), GuildCache()

    async def load() -> str | None:
        return await storage.get_setting(7, "rule")

    await ahead.write(storage, 7, storage.put_setting(7, "rule", '"first"'))
    assert await reader.reader(storage, 7).get("rule", load) == '"first"'
    await behind.write(storage, 7, storage.put_setting(7, "rule", '"second"'))
    assert await reader.reader(storage, 7).get("rule", load) == '"second"'
    await inner.close()


async def test_the_cache_is_bounded(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "cache.sqlite3")
    await storage.start()
    cache = GuildCache(max_guilds=2, max_values=2)
    loads: list[object] = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    for guild in (1, 2, 1, 3):  # guild 1 read again after 2: guild 2 is the least recently used
        await cache.reader(storage, guild).get("k", load)
    assert len(loads) == 3
    await cache.reader(storage, 1).get("k", load)  # kept: it was used more recently than guild 2
    assert len(loads) == 3
    await cache.reader(storage, 2).get("k", load)  # dropped when guild 3 came
    assert len(loads) == 4
    reader = cache.reader(storage, 1)
    for key in ("a", "b", "c"):  # a third value clears the guild's two
        await reader.get(key, load)
    await reader.get("k", load)
    assert len(loads) == 8
    await storage.close()


async def test_a_change_whose_stamp_write_failed_is_seen_within_the_ttl(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "cache.sqlite3")
    await storage.start()
    now = [0.0]
    mine, other = GuildCache(ttl_s=30.0, clock=lambda: now[0]), GuildCache()
    await storage.put_setting(7, "rule", '"old"')

    async def load() -> str | None:
        return await storage.get_setting(7, "rule")

    assert await mine.reader(storage, 7).get("rule", load) == '"old"'
    failing: Any = StampWritesFail(storage)
    with pytest.raises(StorageUnavailable):  # the other edge's data write succeeded, its stamp's not
        await other.write(failing, 7, storage.put_setting(7, "rule", '"new"'))
    now[0] = 29.9
    assert await mine.reader(storage, 7).get("rule", load) == '"old"'  # kept, as the stamp says
    now[0] = 30.0
    assert await mine.reader(storage, 7).get("rule", load) == '"new"'  # the TTL bounds the gap
    await storage.close()


async def test_the_bounds_and_ttl_come_from_config(tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite3"
    config = Config(sqlite_path=str(db), guild_cache_ttl_s=5.0, guild_cache_guilds=3, guild_cache_values=4)
    cluster = LocalCluster(config, lambda: SqliteStorage(db))
    cache = (await cluster.edge(0)).guild_cache
    assert (cache.ttl_s, cache.max_guilds, cache.max_values) == (5.0, 3, 4)
    await cluster.close()
