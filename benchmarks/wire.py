"""The wire for synthetic sessions: each keeps its own compression context and builds its frames.

``WireSink`` is the ``FrameSink`` a synthetic session of ``rayguild bench fanout --wire`` writes
to. It does per frame what the edge's ``SocketSink.flush`` does (http_api/wire.py): compress with
the connection's own context (the SAME classes and sizes as the edge, http_api/compression.py,
so the context's memory is in the shard's RSS) and prefix the RFC 6455 header from the same
``frame_header``. Only the transport write is a counter: frames, bytes before and after
compression. The edge coalesces one loop turn's frames into one write; that saving is a
syscall, which this sink does not make.
"""

from __future__ import annotations

from rayguild.http_api.compression import compressor_for
from rayguild.http_api.wire import _FIN_BINARY, _FIN_TEXT, frame_header

# --wire -> the gateway ``compress`` query; "none" is routing only (a counting sink, no frame)
WIRES = {"none": None, "text": "", "zlib": "zlib-stream", "zstd": "zstd-stream"}


class CountingSink:
    """A synthetic session's socket with ``--wire none``: counts frames and bytes, keeps nothing."""

    __slots__ = ("bytes", "frames")

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0

    def write(self, frame: bytes) -> None:
        self.frames += 1
        self.bytes += len(frame)

    def close(self, code: int, reason: str) -> None:
        pass


class WireCounters:
    """Totals over every ``WireSink`` of a shard (one object: summing per sink would cost a scan)."""

    __slots__ = ("bytes_in", "bytes_out", "frames")

    def __init__(self) -> None:
        self.frames = self.bytes_in = self.bytes_out = 0

    def as_dict(self) -> dict[str, int]:
        return {"wire_frames": self.frames, "wire_bytes_in": self.bytes_in, "wire_bytes_out": self.bytes_out}


class WireSink:
    __slots__ = ("_compress", "_counters", "_first_byte")

    def __init__(self, wire: str, counters: WireCounters) -> None:
        compress = WIRES[wire]
        if compress is None:
            raise ValueError("wire 'none' is routing only: no WireSink")
        compressor = compressor_for(compress)
        self._compress = compressor.compress
        self._first_byte = _FIN_BINARY if compressor.binary else _FIN_TEXT
        self._counters = counters

    def encode(self, frame: bytes) -> bytes:
        """The bytes the edge would write for ``frame``: header + compressed payload (in order)."""
        data = self._compress(frame)
        return frame_header(self._first_byte, len(data)) + data

    def write(self, frame: bytes) -> None:
        counters = self._counters
        counters.frames += 1
        counters.bytes_in += len(frame)
        counters.bytes_out += len(self.encode(frame))

    def close(self, code: int, reason: str) -> None:
        pass
