"""The push shards' webhook provider connection over aiohttp (actors never import aiohttp).

One ``ClientSession`` per push shard is its provider connection: its connector allows
``push_max_in_flight`` connections, the same bound the shard's pusher keeps on its demand. Its
resolver checks every address against the egress policy (``rayguild.egress``) and the connector
connects only to those, so a device URL that re-resolves to a refused address is refused at
delivery (``EgressRefused``); redirects are not followed and no proxy is used.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from rayguild.config import Config
from rayguild.egress import EgressPolicy, EgressRefused


class CheckedResolver(AbstractResolver):
    """aiohttp's default resolver, refusing a name if any address it resolves to is refused."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self._policy.check(result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


class AiohttpTransport:
    """``rayguild.actors.push.PushTransport`` over one aiohttp client session."""

    def __init__(self, config: Config) -> None:
        self._limit = config.push_max_in_flight
        self._policy = EgressPolicy.of(config.push_allowed_networks)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        self._policy.check_literal(URL(url).host or "")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, resolver=CheckedResolver(self._policy))
            self._session = aiohttp.ClientSession(connector=connector)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False
            ) as response:
                await response.read()
                return response.status
        except aiohttp.ClientConnectorError as err:
            if isinstance(err.os_error, EgressRefused):
                raise err.os_error from err
            raise OSError(str(err)) from err
        except aiohttp.ClientError as err:
            raise OSError(str(err)) from err

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
