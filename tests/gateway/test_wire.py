"""The wire: compressed streams decode with small windows, frames coalesce, a slow reader is bounded."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import zlib
from typing import Any

import orjson
import pytest

from rayguild.benchmarks.raw_ws import OP_CLOSE, FrameReader, client_frame, close_code, upgrade_request
from rayguild.fanout.events import GUILDS
from rayguild.http_api.compression import ZLIB_WINDOW_BITS, compressor_for
from rayguild.http_api.keys import WIRE
from rayguild.http_api.wire import SLOW_READER_CODE, frame_header

from .conftest import until

Edge = Any


async def _post(edge: Edge, headers: dict[str, str], channel: dict[str, Any], content: str) -> None:
    await edge.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": content})


@pytest.mark.parametrize("compress", ["", "zlib-stream", "zstd-stream"])
async def test_every_mode_decodes_with_the_edges_own_window(edge: Edge, compress: str) -> None:
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
    await until(lambda: any(s.sink is not None for s in sessions.sessions.values()))  # opened, then attached
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


def released_stream(text: bytes, count: int, every: int, at: int) -> tuple[list[bytes], list[bytes]]:
    """``count`` dispatches through one zlib-stream compressor whose context is released after
    frame ``at`` of every ``every``: the frames and their compressed messages."""
    compressor = compressor_for("zlib-stream")
    frames = [
        b'{"op":0,"t":"MESSAGE_CREATE","s":%d,"d":{"content":"%s"}}' % (i, text * i) for i in range(count)
    ]
    outputs = []
    for i, frame in enumerate(frames):
        outputs.append(compressor.compress(frame))
        if i % every == at:
            compressor.release()
            assert compressor._context is None  # type: ignore[attr-defined]
    return frames, outputs


@pytest.mark.parametrize("window_bits", [zlib.MAX_WBITS, ZLIB_WINDOW_BITS])
def test_a_released_zlib_context_continues_the_same_stream(window_bits: int) -> None:
    inflater = zlib.decompressobj(window_bits)  # discord.py's: one inflater for the connection
    frames, outputs = released_stream(b"ab", 60, every=7, at=3)
    assert int.from_bytes(outputs[0][:2], "big") % 31 == 0  # the one zlib header, then deflate blocks
    assert [inflater.decompress(out) for out in outputs] == frames


def test_nodes_zlib_reads_a_stream_whose_context_was_released() -> None:
    """node's zlib (discord.js's native inflater in @discordjs/ws 2, and what browsers' pako does)
    inflates the whole stream with its default window, released contexts and all."""
    node = shutil.which("node")
    assert node, "node is part of the test set-up (the discord.js tests need it)"
    frames, outputs = released_stream(b"xy", 40, every=5, at=2)
    script = (
        "const z = require('zlib'); const input = require('fs').readFileSync(0);"
        "process.stdout.write(z.inflateSync(input, {finishFlush: z.constants.Z_SYNC_FLUSH}));"
    )
    result = subprocess.run([node, "-e", script], input=b"".join(outputs), capture_output=True, check=True)
    assert result.stdout == b"".join(frames)


async def test_an_idle_compressed_connection_frees_its_context_and_still_decodes(edge: Edge) -> None:
    wire = edge.client.app[WIRE]
    wire.idle_s = 0.2  # the sweep's period (10 s in service)
    token, headers, _, channel = await edge.guild_with_bot()
    gw = await edge.connect(compress="zlib-stream")
    await gw.identify(token)
    await gw.dispatch("GUILD_CREATE")
    (session,) = edge.ctx.sessions.sessions.values()
    compressor = session.sink._compressor
    assert compressor._context is not None
    await until(lambda: compressor._context is None)  # quiet: one sweep marks it, the next frees it
    assert wire.released == 1
    for i in range(3):
        await _post(edge, headers, channel, f"after idle {i}")
        assert (await gw.dispatch("MESSAGE_CREATE"))["d"]["content"] == f"after idle {i}"
    assert compressor._context is not None  # busy again: a context of its own, same stream


async def test_a_burst_of_new_sockets_trims_the_heap_once_at_the_next_sweep(edge: Edge) -> None:
    wire = edge.client.app[WIRE]
    wire.idle_s, wire.trim_after = 0.2, 3  # 10 s and 64 in service
    gateways = [await edge.connect() for _ in range(3)]
    await until(lambda: wire.trims == 1)
    await asyncio.sleep(4 * wire.idle_s)  # nothing new came: no more trims, the sweep stopped
    assert wire.trims == 1 and wire._sweep_handle is None
    await edge.connect()  # one socket is not a burst
    await asyncio.sleep(4 * wire.idle_s)
    assert wire.trims == 1
    for gateway in gateways:
        await gateway.ws.close()
