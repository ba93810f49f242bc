"""Load generator for ``benchmarks/gateway.py``: N real websocket sessions in one process.

argv: gateway URL, bot token, connections. Each connection does Hello -> Identify -> READY ->
GUILD_CREATE and heartbeats; then every MESSAGE_CREATE's arrival time is recorded. Prints
``ready <n>`` once every session has its GUILD_CREATE, and on ``stop`` (stdin) one JSON line:
message content -> arrival times (ns) across this process's sessions.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import defaultdict

import aiohttp
import orjson

RAMP_CONCURRENCY = 100  # connections being set up at once


async def session(
    http: aiohttp.ClientSession, url: str, token: str, seen: dict[str, list[int]], ready: asyncio.Event
) -> None:
    async with http.ws_connect(f"{url}/?v=10&encoding=json", max_msg_size=0, heartbeat=None) as ws:
        hello = orjson.loads((await ws.receive()).data)
        interval_s = hello["d"]["heartbeat_interval"] / 1000
        identify = {"token": token, "intents": (1 << 0) | (1 << 9) | (1 << 15), "properties": {"os": "linux"}}
        await ws.send_bytes(orjson.dumps({"op": 2, "d": identify}))
        beat = asyncio.create_task(heartbeat(ws, interval_s))
        try:
            async for msg in ws:
                frame = orjson.loads(msg.data)
                if frame.get("t") == "MESSAGE_CREATE":
                    seen[frame["d"]["content"]].append(time.time_ns())
                elif frame.get("t") == "GUILD_CREATE":
                    ready.set()
        finally:
            beat.cancel()


async def heartbeat(ws: aiohttp.ClientWebSocketResponse, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await ws.send_bytes(b'{"op":1,"d":null}')


async def main() -> None:
    url, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seen: dict[str, list[int]] = defaultdict(list)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        gate = asyncio.Semaphore(RAMP_CONCURRENCY)
        tasks = []

        async def open_one() -> None:
            ready = asyncio.Event()
            async with gate:
                tasks.append(asyncio.create_task(session(http, url, token, seen, ready)))
                await asyncio.wait_for(ready.wait(), timeout=120)

        await asyncio.gather(*(open_one() for _ in range(count)))
        print(f"ready {count}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        print(orjson.dumps(seen).decode(), flush=True)
        for task in tasks:
            task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
