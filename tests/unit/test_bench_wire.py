"""The fan-out bench's wire: sessions writing to a ``WireSink`` compress and frame every delivery."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import zstandard

from rayguild.actors.session import SessionShardCore
from rayguild.benchmarks.wire import WireCounters, WireSink
from rayguild.fanout.events import MESSAGE_CONTENT, Dispatch


def payloads(stream: bytes) -> list[bytes]:
    """Split unmasked server frames (RFC 6455) into their payloads."""
    out, i = [], 0
    while i < len(stream):
        length, i = stream[i + 1] & 0x7F, i + 2
        if length == 126:
            (length,), i = struct.unpack("!H", stream[i : i + 2]), i + 2
        elif length == 127:
            (length,), i = struct.unpack("!Q", stream[i : i + 8]), i + 8
        out.append(stream[i : i + length])
        i += length
    return out


@pytest.mark.parametrize("wire", ["zlib", "zstd"])
def test_synthetic_sessions_compress_and_count_every_delivery(wire: str) -> None:
    core = SessionShardCore(0, replay_events=16)
    counters = WireCounters()
    sinks = [WireSink(wire, counters) for _ in range(20)]
    slots = np.asarray([core.open_session(u, MESSAGE_CONTENT, False, s).slot for u, s in enumerate(sinks, 1)])
    delivered = 0
    for i in range(50):
        d = {"id": str(i), "channel_id": "5", "content": f"benchmark message {i}", "author": {"id": "1"}}
        delivered += core.deliver([(Dispatch.of(1, "MESSAGE_CREATE", d, channel_id=5), slots)])
    assert delivered == 50 * 20
    assert counters.frames == delivered
    assert 0 < counters.bytes_out < counters.bytes_in  # the stream's redundancy is taken


def test_wire_frames_decode_to_the_session_frames() -> None:
    sink = WireSink("zlib", WireCounters())
    frames = [b'{"op":0,"t":"MESSAGE_CREATE","s":%d,"d":{"id":"%d"}}' % (i, i) for i in range(1, 6)]
    stream = b"".join(sink.encode(frame) for frame in frames)
    assert stream[0] == 0x82  # binary, final
    inflate = zlib.decompressobj()  # a client's default inflater reads the small window
    assert [inflate.decompress(p) for p in payloads(stream)] == frames


def test_zstd_wire_is_one_endless_frame() -> None:
    sink = WireSink("zstd", WireCounters())
    frames = [b'{"op":0,"s":%d}' % i for i in range(3)]
    stream = b"".join(sink.encode(frame) for frame in frames)
    reader = zstandard.ZstdDecompressor().decompressobj()
    assert [reader.decompress(p) for p in payloads(stream)] == frames


def test_text_wire_frames_without_compressing_and_none_is_routing_only() -> None:
    counters = WireCounters()
    sink = WireSink("text", counters)
    sink.write(b"x" * 200)
    assert sink.encode(b"x" * 200)[:4] == bytes([0x81, 126, 0, 200])
    assert (counters.frames, counters.bytes_in, counters.bytes_out) == (1, 200, 204)
    with pytest.raises(ValueError):
        WireSink("none", WireCounters())
