"""The edge's guild cache: values kept while the guild's stamp is unchanged, read again after
``changed`` (from any cache on the same storage), and its bounds."""

from __future__ import annotations

from pathlib import Path

from rayguild.http_api.guild_cache import GuildCache
from rayguild.storage.sqlite import SqliteStorage


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
    await other.changed(storage, 7)
    assert await mine.reader(storage, 7).get("k", load) == 3  # the other edge's change is seen
    assert await mine.reader(storage, 8).get("k", load) == 2
    await storage.close()


async def test_the_cache_is_bounded(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "cache.sqlite3")
    await storage.start()
    cache = GuildCache(max_guilds=2, max_values=2)
    loads: list[object] = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    for guild in (1, 2, 3):  # guild 1 is the least recently used: dropped
        await cache.reader(storage, guild).get("k", load)
    await cache.reader(storage, 1).get("k", load)
    assert len(loads) == 4
    reader = cache.reader(storage, 1)
    for key in ("a", "b", "c"):  # a third value clears the guild's two
        await reader.get(key, load)
    await reader.get("k", load)
    assert len(loads) == 8
    await storage.close()
