"""The push shards' webhook provider connection over aiohttp (actors never import aiohttp).

One ``ClientSession`` per push shard is its provider connection: its connector allows
``push_max_in_flight`` connections, the same bound the shard's pusher keeps on its demand.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from rayguild.config import Config


class AiohttpTransport:
    """``rayguild.actors.push.PushTransport`` over one aiohttp client session."""

    def __init__(self, config: Config) -> None:
        self._limit = config.push_max_in_flight
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._limit))
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._session.post(url, data=body, headers=dict(headers), timeout=timeout) as response:
                await response.read()
                return response.status
        except aiohttp.ClientError as err:
            raise OSError(str(err)) from err

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
