"""Per-connection transport compression for gateway frames, as Discord's ``compress`` query asks.

- none: each frame is a websocket TEXT message.
- ``zlib-stream``: ONE deflate context for the whole connection; every frame is compressed and
  sync-flushed, so each binary message ends with ``00 00 ff ff`` and decompresses on its own
  given the ones before it.
- ``zstd-stream``: ONE zstd frame for the whole connection; every gateway frame is one flushed
  block (``COMPRESSOBJ_FLUSH_BLOCK``), so a client's single decompressor sees one endless frame
  (discord.py keeps one decompressor; a second zstd frame would break it).

A compressor is stateful and must see frames in the order they are sent (the socket's sink is
the only caller). Every connection holds one, so contexts are sized for memory, not ratio: a
default zlib context reserves 256 KiB (window 32 KiB, memLevel 8) and a default zstd one about
1 MiB; a 1 KiB window keeps about one previous dispatch as history, which is where a gateway
stream's redundancy is (consecutive dispatches share their keys and ids).
- zlib: windowBits 10, memLevel 2, level 1: about 12 KiB a connection. The stream header names
  the window, and an inflater opened with the default windowBits 15 (discord.py's
  ``zlib.decompressobj()``, discord.js's zlib-sync / node:zlib, browsers' pako and
  DecompressionStream) accepts any smaller one.
- zstd: window_log 10 (zstd's minimum), small hash tables, the fast strategy: about 30 KiB. The
  frame header carries the window size; decoders allocate what it names.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import zstandard

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
ZLIB_LEVEL = 1
ZLIB_WINDOW_BITS = 10
ZLIB_MEM_LEVEL = 2
ZSTD_PARAMETERS = zstandard.ZstdCompressionParameters(
    window_log=10, hash_log=8, chain_log=6, search_log=1, min_match=5, target_length=0,
    strategy=zstandard.STRATEGY_FAST,
)  # fmt: skip


class Compressor(Protocol):
    binary: bool

    def compress(self, frame: bytes) -> bytes: ...


class Identity:
    __slots__ = ()
    binary = False

    def compress(self, frame: bytes) -> bytes:
        return frame


class ZlibStream:
    __slots__ = ("_compress", "_flush")
    binary = True

    def __init__(self) -> None:
        context = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL)
        self._compress, self._flush = context.compress, context.flush

    def compress(self, frame: bytes) -> bytes:
        return self._compress(frame) + self._flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    __slots__ = ("_compress", "_flush")
    binary = True

    def __init__(self) -> None:
        context = zstandard.ZstdCompressor(compression_params=ZSTD_PARAMETERS).compressobj()
        self._compress, self._flush = context.compress, context.flush

    def compress(self, frame: bytes) -> bytes:
        return self._compress(frame) + self._flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


COMPRESSORS: dict[str, type[Identity] | type[ZlibStream] | type[ZstdStream]] = {
    "": Identity,
    "zlib-stream": ZlibStream,
    "zstd-stream": ZstdStream,
}


def compressor_for(name: str) -> Compressor:
    """The compressor for a ``compress`` query value; KeyError for one we do not speak."""
    return COMPRESSORS[name]()
