"""Load generator for ``benchmarks/gateway.py``: N real gateway sessions in one process, cheaply.

argv: host, port, token (or ``@file``: one token per line, connection i identifies with line i),
connections, compress ("" / zlib-stream / zstd-stream), source
address (each process binds its own 127.0.0.x so 50,000 sockets do not exhaust one address's
ephemeral ports), sample-every, messages. At most RAMP_CONCURRENCY connections are being set up
(connected, identified, waiting for GUILD_CREATE) at once; one closed or refused before its
GUILD_CREATE (op 9 under load, say), or closed by the server before ``quiet``, connects and
identifies again, as the libraries do, and the report counts those retries.

Each connection is an asyncio Protocol over raw_ws (no aiohttp, no per-frame JSON): Hello ->
Identify -> READY -> GUILD_CREATE are the first three data frames, so a connection counts frames
instead of decoding them. Every ``sample-every``-th connection also decompresses and parses every
frame and checks that the frames are what the counting assumed (READY, GUILD_CREATE, then each
posted message in order); the report says how many checks failed.

Commands on stdin, answers on stdout (one line each):
- (start) -> ``ready <n>`` once every connection has its GUILD_CREATE;
- ``quiet`` -> heartbeat every connection, wait for every ACK, then send no more heartbeats: from
  now on every data frame a connection receives is the next posted message (a connection counts
  the heartbeats it still owes an ACK for). Answers ``quiet``.
- ``collect`` -> wait (up to 120 s) until every connection has ``messages`` frames, then one JSON
  line: arrival times (ns) per message per connection, this process's CPU seconds since
  ``quiet``, sample checks, close codes seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import zstandard

from rayguild.benchmarks.raw_ws import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FrameReader,
    client_frame,
    close_code,
    upgrade_request,
)

RAMP_CONCURRENCY = 200  # connections being set up at once
SET_UP_RETRY_S = 1.0  # a connection closed during set-up connects and identifies again after this
INTENTS = (1 << 0) | (1 << 9) | (1 << 15)  # GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT
HEARTBEAT = client_frame(b'{"op":1,"d":null}')
SETUP_FRAMES = 3  # Hello, READY, GUILD_CREATE
QUIET_TIMEOUT_S = 15.0  # well inside the server's 62 s heartbeat timeout


class Load:
    """Shared state of the process's connections."""

    def __init__(self, count: int, messages: int, identifies: list[bytes]) -> None:
        self.identifies = identifies  # connection i sends identifies[i % len]
        self.arrivals = np.zeros((messages, count), dtype=np.int64)
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.quieting = False
        self.quiet = 0
        self.all_quiet = asyncio.Event()
        self.unexpected = 0
        self.excluded = 0
        self.complete = 0
        self.all_complete = asyncio.Event()
        self.count, self.messages = count, messages
        self.check_failures: list[str] = []
        self.checked_frames = 0
        self.closes: dict[str, int] = {}
        self.sample_frames: list[str] = []
        self.set_up_retries = 0


class Connection(asyncio.Protocol):
    __slots__ = (
        "_decode",
        "_frames",
        "_head",
        "closed",
        "ended",
        "excluded",
        "index",
        "load",
        "owed",
        "received",
        "set_up",
        "since_quiet",
        "transport",
    )

    def __init__(self, load: Load, index: int, compress: str, sampled: bool) -> None:
        self.load, self.index = load, index
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self._frames = FrameReader()
        self._head: bytes | None = b""  # the HTTP upgrade response, until it is complete
        self.received = self.since_quiet = self.owed = 0  # owed: heartbeats not yet ACKed
        self.excluded = self.closed = False
        self._decode = _decoder(compress) if sampled else None
        self.set_up = asyncio.get_running_loop().create_future()  # done at GUILD_CREATE or close
        self.ended = asyncio.get_running_loop().create_future()  # done at close

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            data, self._head = self._head[end + 4 :], None
        load = self.load
        for opcode, payload in self._frames.feed(data):
            if opcode in (OP_TEXT, OP_BINARY):
                self.received += 1
                if self._decode is not None:
                    self._check(self._decode(payload))
                if self.received <= SETUP_FRAMES:
                    if self.received == 1:
                        self.transport.write(load.identifies[self.index % len(load.identifies)])
                    elif self.received == SETUP_FRAMES:
                        load.ready += 1
                        self._set_up()
                        if load.ready == load.count:
                            load.all_ready.set()
                elif self.owed:  # a heartbeat ACK
                    self.owed -= 1
                    if load.quieting and not self.owed:
                        load.quiet += 1
                        if load.quiet == load.count:
                            load.all_quiet.set()
                elif load.quiet == load.count and not self.excluded:  # the next posted message
                    if self.since_quiet < load.messages:
                        load.arrivals[self.since_quiet, self.index] = time.time_ns()
                    self.since_quiet += 1
                    if self.since_quiet == load.messages:
                        load.complete += 1
                        if load.complete == load.count - load.excluded:
                            load.all_complete.set()
                else:
                    load.unexpected += 1
            elif opcode == OP_CLOSE:
                self._end()
                if load.quieting and self.owed and not self.excluded:  # it will never ACK
                    self.excluded = True
                    load.quiet += 1
                    if load.quiet == load.count:
                        load.all_quiet.set()
                code = close_code(payload)
                load.closes[str(code)] = load.closes.get(str(code), 0) + 1
            elif opcode == OP_PING:
                self.transport.write(client_frame(payload, 0xA))

    def connection_lost(self, exc: Exception | None) -> None:
        self._end()

    def _end(self) -> None:
        self.closed = True
        self._set_up()
        if not self.ended.done():
            self.ended.set_result(None)

    def _set_up(self) -> None:
        if not self.set_up.done():
            self.set_up.set_result(None)

    def _check(self, decoded: bytes) -> None:
        load, n, frame = self.load, self.received, orjson.loads(decoded)
        expected = {1: ("op", 10), 2: ("t", "READY"), 3: ("t", "GUILD_CREATE")}.get(n)
        if n > SETUP_FRAMES:
            expected = ("op", 11) if self.owed else ("t", "MESSAGE_CREATE")
        load.checked_frames += 1
        if self.index == 0 and n > SETUP_FRAMES and not self.owed:
            load.sample_frames.append(decoded.decode())  # the baseline compresses these very frames
        if expected is not None and frame.get(expected[0]) != expected[1]:
            load.check_failures.append(f"connection {self.index} frame {n}: {str(frame)[:80]}")


def _decoder(compress: str) -> Any:
    if compress == "zlib-stream":
        return zlib.decompressobj().decompress
    if compress == "zstd-stream":
        return zstandard.ZstdDecompressor().decompressobj().decompress
    return lambda payload: payload


def _identifies(token: str) -> list[bytes]:
    """The Identify frame of ``token``, or of each token in the file ``@path`` names."""
    tokens = Path(token[1:]).read_text().split() if token.startswith("@") else [token]
    return [
        client_frame(
            orjson.dumps({"op": 2, "d": {"token": t, "intents": INTENTS, "properties": {"os": "linux"}}})
        )
        for t in tokens
    ]


def _same(conn: Connection) -> Connection:
    return conn


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def main() -> None:
    host, port, token, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    compress, source, sample_every, messages = sys.argv[5], sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
    loop = asyncio.get_running_loop()
    load = Load(count, messages, _identifies(token))
    path = "/?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    request = upgrade_request(f"{host}:{port}", path)
    gate = asyncio.Semaphore(RAMP_CONCURRENCY)
    connections: dict[int, Connection] = {}  # the current connection of each index

    async def set_up_one(index: int) -> Connection:
        async with gate:  # bounds the identifies in flight, not only the connects
            while True:
                conn = Connection(load, index, compress, index % sample_every == 0)
                sock = socket.socket()
                sock.setblocking(False)
                sock.bind((source, 0))
                try:
                    await loop.sock_connect(sock, (host, port))
                    await loop.create_connection(functools.partial(_same, conn), sock=sock)
                except OSError:  # refused or timed out: tried again
                    sock.close()
                else:
                    conn.transport.write(request)
                    try:
                        await conn.set_up
                    except asyncio.CancelledError:  # quiet began: this one is not measured
                        conn.transport.abort()
                        raise
                    if conn.received >= SETUP_FRAMES:
                        connections[index] = conn
                        return conn
                load.set_up_retries += 1  # closed before GUILD_CREATE (op 9, say): identify again,
                await asyncio.sleep(SET_UP_RETRY_S)  # after a pause, as the libraries do

    async def keep_one(index: int) -> None:
        """Until ``quiet``: a connection the server closes (op 9 or 4000 under load, say) is set up
        again, as the libraries identify again."""
        conn = await set_up_one(index)
        while True:
            await conn.ended
            load.ready -= 1
            load.set_up_retries += 1
            await asyncio.sleep(SET_UP_RETRY_S)
            conn = await set_up_one(index)

    heartbeats = asyncio.create_task(_heartbeat_until_quiet(load, connections))
    keepers = [asyncio.create_task(keep_one(i)) for i in range(count)]
    await asyncio.wait_for(load.all_ready.wait(), timeout=600)
    print(f"ready {count}", flush=True)
    await _command(loop, "quiet")
    heartbeats.cancel()
    for keeper in keepers:
        keeper.cancel()
    load.quieting = True
    for conn in connections.values():
        if conn.closed:  # closed by the server before (op 9 under load, say): left out
            conn.excluded = True
            load.quiet += 1
        else:
            conn.owed += 1
            conn.transport.write(HEARTBEAT)
    if load.quiet == load.count:
        load.all_quiet.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.all_quiet.wait(), timeout=QUIET_TIMEOUT_S)
    for conn in connections.values():  # closed, or still owed an ACK: left out of the measurement (-1)
        conn.excluded = conn.excluded or bool(conn.owed)
        if conn.excluded:
            load.arrivals[:, conn.index] = -1
    load.excluded = sum(conn.excluded for conn in connections.values())
    load.quiet = load.count
    cpu_at_quiet = cpu_seconds()
    print("quiet", flush=True)
    await _command(loop, "collect")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.all_complete.wait(), timeout=120)
    report = {
        "arrivals": load.arrivals.tolist(),
        "cpu_s": cpu_seconds() - cpu_at_quiet,
        "checked_frames": load.checked_frames,
        "check_failures": load.check_failures[:10],
        "closes": load.closes,
        "unexpected_frames": load.unexpected,
        "excluded": load.excluded,
        "sample_frames": load.sample_frames,
        "set_up_retries": load.set_up_retries,
    }
    print(orjson.dumps(report).decode(), flush=True)
    for conn in connections.values():
        if conn.transport is not None:
            conn.transport.abort()


async def _heartbeat_until_quiet(load: Load, connections: dict[int, Connection]) -> None:
    """Before ``quiet``: a heartbeat to every ready connection every 20 s (the server's interval is 41.25 s)."""
    while True:
        await asyncio.sleep(20)
        for conn in connections.values():
            if conn.transport is not None and conn.received >= SETUP_FRAMES and not conn.closed:
                conn.owed += 1
                conn.transport.write(HEARTBEAT)


async def _command(loop: asyncio.AbstractEventLoop, expected: str) -> None:
    line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
    if line != expected:
        raise SystemExit(f"expected {expected!r} on stdin, got {line!r}")


if __name__ == "__main__":
    asyncio.run(main())
