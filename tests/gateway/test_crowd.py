"""The connections benchmark's seeding (benchmarks/crowd.py): every seeded token identifies as its
own bot, each session gets its own READY and the one guild with every member counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rayguild.benchmarks.crowd import seed
from rayguild.config import Config

from .conftest import EdgeFactory


async def test_each_seeded_bot_identifies_into_the_one_guild(make_edge: EdgeFactory, tmp_path: Path) -> None:
    crowd = await seed(Config(sqlite_path=str(tmp_path / "rayguild.sqlite3")), 12, progress_every=0)
    assert len(set(crowd.tokens)) == 12
    edge = await make_edge()  # the same SQLite file, default identify limits
    sockets = [await edge.connect() for _ in crowd.tokens]
    readies = await asyncio.gather(
        *(gw.identify(token) for gw, token in zip(sockets, crowd.tokens, strict=True))
    )
    assert len({ready["d"]["user"]["id"] for ready in readies}) == 12
    assert all(ready["d"]["user"]["bot"] for ready in readies)
    created = await asyncio.gather(*(gw.dispatch("GUILD_CREATE") for gw in sockets))
    assert {int(c["d"]["id"]) for c in created} == {crowd.guild_id}
    assert all(c["d"]["member_count"] == 13 for c in created)  # 12 bots and the owner
    assert {ch["id"] for ch in created[0]["d"]["channels"]} == {str(crowd.channel_id)}
