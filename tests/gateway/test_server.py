"""Two edges share the public port and each names its own port in READY's resume_gateway_url."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson

from rayguild.config import Config
from rayguild.fanout.events import GUILDS
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.server import RunningEdge, free_listen_ports, start_edge
from rayguild.ids import SnowflakeGenerator
from rayguild.storage.sqlite import SqliteStorage


async def test_two_edges_share_a_port_and_resume_on_their_own(tmp_path: Path) -> None:
    db = tmp_path / "rayguild.sqlite3"
    config = Config(sqlite_path=str(db), port=free_listen_ports(1), tick_ms=1.0, identify_interval_s=0.0)
    cluster = LocalCluster(config, lambda: SqliteStorage(db))
    edges: list[RunningEdge] = []
    storages = []
    try:
        for index in range(2):
            storage = SqliteStorage(db)
            await storage.start()
            storages.append(storage)
            core = cluster.session_shard(index).core
            edges.append(await start_edge(
                index=index, config=config, storage=storage, sessions=core, guilds=cluster.guilds,
                presence=cluster.presence, users=cluster.users, snowflakes=SnowflakeGenerator(1, index),
            ))  # fmt: skip
        assert {e.public_port for e in edges} == {config.port}
        assert len({e.port for e in edges}) == 2
        async with aiohttp.ClientSession() as http:
            public = f"http://127.0.0.1:{config.port}"
            registered = await (
                await http.post(f"{public}/api/v10/auth/register", json={"username": "robot", "bot": True})
            ).json()
            for edge in edges:
                async with http.ws_connect(f"ws://127.0.0.1:{edge.port}/?v=10&encoding=json") as ws:
                    assert orjson.loads((await ws.receive(timeout=5)).data)["op"] == 10
                    identify = {
                        "op": 2,
                        "d": {"token": registered["token"], "intents": GUILDS, "properties": {}},
                    }
                    await ws.send_bytes(orjson.dumps(identify))
                    ready = orjson.loads((await ws.receive(timeout=5)).data)
                    assert ready["t"] == "READY"
                    assert ready["d"]["resume_gateway_url"] == f"ws://127.0.0.1:{edge.port}"
                    assert int(ready["d"]["session_id"][:4], 16) == edge.ctx.sessions.index
    finally:
        for edge in edges:
            await edge.stop()
        for storage in storages:
            await storage.close()
        await cluster.close()
