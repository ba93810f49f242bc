"""A socket with nothing to say for a while costs its client nothing: it resumes, never op 9.

The failure proofs' library-like client (``rayguild.benchmarks.library_client``) gives up on a
socket after ``receive_timeout_s`` of silence, as discord.py does after its heartbeat_timeout.
It used to leave that socket with aiohttp's default close code 1000, which ends the session on
the server (as on Discord), so its resume was answered with op 9 and it identified again: every
session of a test that went quiet for 10 s (its timeout then) was told op 9. The close must say
4000 and the session must survive it.
"""

from __future__ import annotations

import asyncio
import random

import aiohttp

from rayguild.benchmarks.library_client import LibraryClient

from .conftest import API, EdgeFactory, until

QUIET_TIMEOUT_S = 0.5  # the client's receive timeout here: the quiet gateway outlasts it at once
WAIT_S = 30.0  # how long the test waits for the resume and the message (never met when it works)


async def test_a_client_that_times_out_a_quiet_socket_resumes_its_session(make_edge: EdgeFactory) -> None:
    edge = await make_edge(heartbeat_interval_ms=600_000)  # no heartbeat ACK breaks the silence
    gateway = f"ws://{edge.client.host}:{edge.client.port}"
    edge.ctx.resume_gateway_url = gateway
    token, headers, _, channel = await edge.guild_with_bot()
    api = str(edge.client.make_url(API))
    async with aiohttp.ClientSession() as http:
        client = LibraryClient(http, api, gateway, token, random.Random(1), (0.2, 0.5), QUIET_TIMEOUT_S)
        runner = asyncio.create_task(client.run())
        try:
            await asyncio.wait_for(client.ready.wait(), WAIT_S)
            await until(lambda: client.counters.resumes >= 2, WAIT_S)  # two resumes after quiet sockets
            posted = await edge.rest(
                "POST", f"/channels/{channel['id']}/messages", headers, json={"content": "hi"}
            )
            await until(lambda: int(posted["id"]) in client.delivered, WAIT_S)  # posted after the resumes
        finally:
            await client.stop()
            await asyncio.gather(runner, return_exceptions=True)
    c = client.counters
    assert (c.identifies, c.invalid_sessions, c.seq_gaps, c.duplicates) == (1, 0, 0, 0), client.log
    assert c.disconnects >= 2 and len(client.incarnations) == 1
