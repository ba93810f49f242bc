"""A rolling restart of every edge under load, on real Ray.

Library-like clients (``rayguild.benchmarks.library_client``) on both edges of a node, a poster
posting all along; each edge in turn is drained (op 7: its clients resume on the other edge,
which adopted its port), killed and restarted by Ray (``chaos.restart_edge``). Every run must
show work done (acknowledged messages, some of them posted while an edge was away) and, for
every client: every acknowledged message delivered live (no gap, no need for history), no
duplicate, no seq gap, at least one resume per drain it lived through, and never an op 9 or a
second identify.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import aiohttp
import pytest

from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.chaos import restart_edge
from rayguild.benchmarks.chaos_ledger import silent_gaps
from rayguild.config import Config
from rayguild.http_api.server import free_listen_ports, start_edge

from .test_failure_proofs import SETTLE_S, Run, settle

pytestmark = pytest.mark.ray

CLIENTS = 6
POST_INTERVAL_S = 0.3  # 4 channels: under the 5 messages per 5 s per channel limit
MIN_ACKED = 20


@pytest.fixture
def node(runtime: Runtime, ray_config: Config) -> Iterator[Runtime]:
    """Two edges and one guild shard in a namespace of their own (restarted edges stay here)."""
    config = replace(
        ray_config, namespace="rayguild-test-rolling", port=free_listen_ports(1), edge_port_base=free_listen_ports(2),
        guild_shards=1, session_shards=2,
    )  # fmt: skip
    rt = Runtime(config, edge_factory=start_edge)
    rt.start()
    yield rt


async def test_a_rolling_restart_of_every_edge_loses_nothing_and_leaves_no_gap(node: Runtime) -> None:
    async with aiohttp.ClientSession() as http:
        run = Run(node, http)
        owner = await run.bot("rolling-owner")
        guild_id, channels, poster, code = await run.guild(owner, "rolling")
        await run.clients(code, guild_id, CLIENTS, bystander=False)
        runners = [asyncio.create_task(m.client.run()) for m in run.members]
        await asyncio.wait_for(asyncio.gather(*(m.client.ready.wait() for m in run.members)), SETTLE_S)
        watcher = asyncio.create_task(node.watch(0.5))
        rolling = True

        async def post_all_along() -> None:
            n = 0
            while rolling or n < MIN_ACKED:
                await run.post(poster, guild_id, channels[n % len(channels)], n)
                n += 1
                await asyncio.sleep(POST_INTERVAL_S)

        posting = asyncio.create_task(post_all_along())
        await asyncio.sleep(2.0)
        away: list[tuple[float, float]] = []  # while each edge was drained and restarted
        for index in range(node.config.session_shards):
            started = time.monotonic()
            await restart_edge(node, index, timeout_s=SETTLE_S * 2)
            away.append((started, time.monotonic()))
        rolling = False
        await posting
        acked = run.acked()
        await settle(lambda: all(acked <= set(m.client.delivered) for m in run.members))
        await run.stop(runners)
        watcher.cancel()
        stored = await run.stored(owner, channels)
    during = [p for p in run.posts if p.message_id in acked and any(a <= p.started <= b for a, b in away)]
    assert len(acked) >= MIN_ACKED and during, "too little work to prove anything"
    assert acked <= stored, "an acknowledged message is missing from storage"
    acked_posts = [p for p in run.posts if p.message_id in acked]
    for m in run.members:
        c = m.client
        assert not silent_gaps(m, acked_posts), f"silent gap ({c.counters})"
        assert acked <= set(c.delivered), (
            f"missed live: {len(acked - set(c.delivered))} ({c.counters}, {c.log})"
        )
        assert (c.counters.duplicates, c.counters.seq_gaps, c.counters.fatal_close) == (0, 0, None)
        assert (c.counters.identifies, c.counters.invalid_sessions) == (1, 0), f"re-identified: {c.log}"
        assert c.counters.resumes >= 1, f"never resumed: {c.log}"
