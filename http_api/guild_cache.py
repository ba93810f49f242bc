"""What the message path derives from a guild's settings (its auto-moderation rules, a channel's
slowmode), kept per edge while the guild's stamp in storage is unchanged.

Guarantee: a message checked after a change was acknowledged, through ANY edge, sees the change.
Every writer of such a setting goes through ``GuildCache.write``, the one owner of the stamp: it
writes the data, then renews the stamp (the guild's ``edge-cache-stamp`` settings document). A
reader reads the stamp first, then what its cache lacks, and keeps what it read under the stamp it
read. A write after that read is followed by a different stamp, so the next reader drops the entry.
Cost: one point read of a few bytes per message, whatever the number of rules.

The stamp is renewed by compare-and-set (``swap_setting``) from the value read after the data
write, never by a plain write: on Cassandra a plain INSERT is last-write-wins on the writer's clock,
so a later stamp from an edge whose clock is behind would lose to an earlier one and leave readers
on the old stamp. A swap that wins stores a new value; one that loses found the stamp already
changed by another writer after our read (so after our data write): either way it differs from
every stamp read before our data was stored.

Why a stamp and not the gateway events: AUTO_MODERATION_RULE_* reach only the sessions of
members who may MANAGE_GUILD and CHANNEL_UPDATE only the edges holding a session in the guild,
both after the REST answer; an edge without such a session would never hear of the change.

The one gap: the data write succeeded and the stamp write then failed (its client got a 503, but
the change is stored). So an entry is also read again once it is ``ttl_s`` old (Config
``guild_cache_ttl_s``, 30 s by default): no change stays unseen longer than that. Bounds (Config
``guild_cache_guilds``, ``guild_cache_values``): ``max_guilds`` entries (least recently used
dropped), ``max_values`` each.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from rayguild.storage.protocol import Storage

STAMP = "edge-cache-stamp"
T = TypeVar("T")


class _Entry:
    __slots__ = ("expires", "stamp", "values")

    def __init__(self, stamp: str | None, expires: float) -> None:
        self.stamp, self.expires, self.values = stamp, expires, dict[Hashable, Any]()


class GuildCache:
    """One edge's cache, shared by its requests."""

    def __init__(
        self,
        ttl_s: float = 30.0,
        max_guilds: int = 10_000,
        max_values: int = 1_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.max_guilds, self.max_values, self._clock = ttl_s, max_guilds, max_values, clock
        self._guilds: OrderedDict[int, _Entry] = OrderedDict()

    def reader(self, storage: Storage, guild_id: int) -> GuildReader:
        """A view for one request: the stamp is read once, on the view's first use."""
        return GuildReader(self, storage, guild_id)

    async def write(self, storage: Storage, guild_id: int, change: Awaitable[T]) -> T:
        """The one way to change a setting readers derive values from: ``change`` (the data write)
        is awaited, then the guild's stamp renewed, so every edge reads it again; its result."""
        done = await change
        self._guilds.pop(guild_id, None)
        stamp = await storage.get_setting(guild_id, STAMP)
        # Lost: another writer changed the stamp after this read, which followed our data write.
        await storage.swap_setting(guild_id, STAMP, stamp, json.dumps(secrets.token_hex(8)))
        return done

    async def current(self, storage: Storage, guild_id: int) -> _Entry:
        """The guild's entry under its stamp now in storage (one read; a new entry if it changed
        or the entry is ``ttl_s`` old)."""
        stamp, now = await storage.get_setting(guild_id, STAMP), self._clock()
        entry = self._guilds.get(guild_id)
        if entry is None or entry.stamp != stamp or now >= entry.expires:
            entry = self._guilds[guild_id] = _Entry(stamp, now + self.ttl_s)
            if len(self._guilds) > self.max_guilds:
                self._guilds.popitem(last=False)
        self._guilds.move_to_end(guild_id)
        return entry


class GuildReader:
    """One request's view of a guild's cached values."""

    __slots__ = ("_cache", "_entry", "_guild_id", "_storage")

    def __init__(self, cache: GuildCache, storage: Storage, guild_id: int) -> None:
        self._cache, self._storage, self._guild_id = cache, storage, guild_id
        self._entry: _Entry | None = None

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The value under ``key``, from ``load`` (reading storage) unless kept since the stamp."""
        if self._entry is None:
            self._entry = await self._cache.current(self._storage, self._guild_id)
        values = self._entry.values
        if key not in values:
            value = await load()
            if len(values) >= self._cache.max_values:
                values.clear()
            values[key] = value
        found: T = values[key]
        return found
