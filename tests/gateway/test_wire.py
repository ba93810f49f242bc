"""The wire: compressed streams decode with small windows, frames coalesce, a slow reader is bounded."""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from rayguild.benchmarks.raw_ws import OP_CLOSE, FrameReader, client_frame, close_code, upgrade_request
from rayguild.fanout.events import GUILDS
from rayguild.http_api.compression import ZLIB_WINDOW_BITS, compressor_for
from rayguild.http_api.wire import SLOW_READER_CODE, frame_header

Edge = Any


async def until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110  (a condition on another component's state)
            await asyncio.sleep(0.01)


async def _post(edge: Edge, headers: dict[str, str], channel: dict[str, Any], content: str) -> None:
    await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": content})


@pytest.mark.parametrize("compress", ["", "zlib-stream", "zstd-stream"])
async def test_every_mode_decodes_with_a_1_kib_window(edge: Edge, compress: str) -> None:
    token, headers, _, channel = await edge.guild_with_bot()
    gw = await edge.connect(compress=compress, window_bits=ZLIB_WINDOW_BITS)
    await gw.identify(token)
    await gw.dispatch("GUILD_CREATE")
    for i in range(20):
        await _post(edge, headers, channel, f"m{i} " + "padding " * i)
        assert (await gw.dispatch("MESSAGE_CREATE"))["d"]["content"] == f"m{i} " + "padding " * i
    assert gw.seq >= 22  # READY, GUILD_CREATE, twenty messages: all decoded in order


@pytest.mark.parametrize("compress", ["zlib-stream", "zstd-stream"])
def test_a_stream_of_frames_decodes_in_a_small_window_as_libraries_decode_it(compress: str) -> None:
    """discord.py and discord.js open zlib with the default window (15) and zstd with default limits."""
    import zstandard

    compressor = compressor_for(compress)
    frames = [
        b'{"op":0,"t":"MESSAGE_CREATE","s":%d,"d":{"content":"%s"}}' % (i, b"x" * (i * 37))
        for i in range(200)
    ]
    default = (
        zlib.decompressobj() if compress == "zlib-stream" else zstandard.ZstdDecompressor().decompressobj()
    )
    small = (
        zlib.decompressobj(ZLIB_WINDOW_BITS)
        if compress == "zlib-stream"
        else zstandard.ZstdDecompressor(max_window_size=1 << ZLIB_WINDOW_BITS).decompressobj()
    )
    for frame in frames:
        data = compressor.compress(frame)
        if compress == "zlib-stream":
            assert data.endswith(b"\x00\x00\xff\xff")
        assert default.decompress(data) == frame and small.decompress(data) == frame


def test_frame_headers_follow_rfc_6455() -> None:
    assert frame_header(0x81, 5) == b"\x81\x05"
    assert frame_header(0x82, 126) == b"\x82\x7e\x00\x7e"
    assert frame_header(0x82, 70_000) == b"\x82\x7f" + (70_000).to_bytes(8, "big")


async def test_a_slow_reader_is_closed_with_4000_and_never_holds_more_than_its_bound(make_edge: Any) -> None:
    edge = await make_edge(replay_buffer_events=64)
    token, _, _ = await edge.register("robot")
    url = edge.client.make_url("/")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, and it never reads
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (url.host, url.port))
    reader, writer = await asyncio.open_connection(sock=raw)
    writer.write(upgrade_request(f"{url.host}:{url.port}", "/?v=10&encoding=json"))
    identify = {"op": 2, "d": {"token": token, "intents": GUILDS, "properties": {}}}
    writer.write(client_frame(orjson.dumps(identify)))
    sessions = edge.ctx.sessions
    await until(lambda: bool(sessions.sessions))
    (session,) = sessions.sessions.values()
    sink = session.sink
    server_transport = sink._request.transport
    bound_frames = 64 + 64  # replay buffer + control slack
    most_buffered = most_queued = sent = 0
    while sink.close_code is None and sent < 20_000:
        sessions.send(session, "TEST_EVENT", {"i": sent, "pad": "x" * 1000})
        sent += 1
        most_queued = max(most_queued, sink.backlog())
        await asyncio.sleep(0)  # a loop turn: the flusher writes what the socket takes
        most_buffered = max(most_buffered, server_transport.get_write_buffer_size())
    assert sink.close_code == SLOW_READER_CODE
    assert sent > bound_frames  # the socket, not one burst, filled the queue
    assert most_queued <= bound_frames
    assert most_buffered <= 64 * 1024 + 1100  # asyncio's high-water mark plus one turn's frame
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    frames = FrameReader()
    codes: list[int] = []
    while not codes:  # the client reads on, and finds why it was closed after its backlog
        data = await asyncio.wait_for(reader.read(1 << 16), 5)
        assert data, "the server hung up without a close frame"
        codes = [close_code(p) for op, p in frames.feed(data) if op == OP_CLOSE]
    assert codes == [SLOW_READER_CODE]
    writer.close()
