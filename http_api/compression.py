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
1 MiB. The window must still reach the previous dispatch, which is where a gateway stream's
redundancy is (consecutive dispatches share their keys, ids and author): a MESSAGE_CREATE is
about 0.9 KiB, and with a 1 KiB window (this module's first choice) the previous one was out of
reach, so every frame was mostly literals, about 10x bigger and 2.5x slower to compress
(measured on the gateway benchmark's frames over 2,000 contexts: 426 B and 14.7 us per frame
with windowBits 10; 42 B and 5.8 us with 12; a default context: 39 B and 23.6 us).
- zlib: windowBits 12, memLevel 2, level 1: about 19 KiB resident while a connection is busy. The stream
  header names the window, and an inflater opened with the default windowBits 15 (discord.py's
  ``zlib.decompressobj()``, discord.js's zlib-sync / node:zlib, browsers' pako and
  DecompressionStream) accepts any smaller one. An idle connection gives its context back
  (``release``, called by the wire's idle sweep): after a sync flush the stream stands at a deflate block boundary, so the next
  frame starts a fresh RAW deflate context (no second header) whose blocks continue the same
  stream; it only loses the history (that frame compresses a little worse). The client's
  inflater sees one unbroken stream.
- zstd: window_log 11, small hash tables, the fast strategy, a 4 KiB output buffer: about 44 KiB
  resident, held for the connection's life (32 B and 4.0 us per benchmark frame; window_log 10:
  304 B and 5.9 us). zstd's context has a floor of about 30 KiB whatever the window. The frame
  header carries the window size; decoders allocate what it names.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from typing import Protocol

import zstandard

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
ZLIB_LEVEL = 1
ZLIB_WINDOW_BITS = 12
ZLIB_MEM_LEVEL = 2
ZSTD_CHUNK = 4096  # the zstd compressor's output buffer (a bigger frame comes out in several chunks)
ZSTD_PARAMETERS = zstandard.ZstdCompressionParameters(
    window_log=11, hash_log=8, chain_log=6, search_log=1, min_match=5, target_length=0,
    strategy=zstandard.STRATEGY_FAST,
)  # fmt: skip


class Compressor(Protocol):
    binary: bool
    releasable: bool  # ``release`` frees something (the wire's idle sweep lists only these)

    def compress(self, frame: bytes) -> bytes: ...

    def release(self) -> None:
        """Free what can be rebuilt while the connection is idle (the stream stays decodable)."""
        ...


class Identity:
    __slots__ = ()
    binary = False
    releasable = False

    def compress(self, frame: bytes) -> bytes:
        return frame

    def release(self) -> None:
        pass


class ZlibStream:
    __slots__ = ("_context", "_started")
    binary = True
    releasable = True

    def __init__(self) -> None:
        self._context: zlib._Compress | None = None
        self._started = False

    def compress(self, frame: bytes) -> bytes:
        context = self._context
        if context is None:  # the first context writes the zlib header; later ones continue raw
            bits = -ZLIB_WINDOW_BITS if self._started else ZLIB_WINDOW_BITS
            context = self._context = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, bits, ZLIB_MEM_LEVEL)
            self._started = True
        return context.compress(frame) + context.flush(zlib.Z_SYNC_FLUSH)

    def release(self) -> None:
        self._context = None


class ZstdStream:
    __slots__ = ("_compress", "_flush")
    binary = True
    releasable = False

    def __init__(self) -> None:
        # A chunker, not compressobj(): compressobj holds a ZSTD_CStreamOutSize() (128 KiB) output
        # buffer per connection, about 33 KiB of it resident; the chunker's is ZSTD_CHUNK bytes.
        # Both flush a block per frame (ZSTD_e_flush): one unbroken zstd frame, decoded alike.
        context = zstandard.ZstdCompressor(compression_params=ZSTD_PARAMETERS).chunker(chunk_size=ZSTD_CHUNK)
        # zstandard's stub leaves these untyped; they yield bytes chunks.
        self._compress: Callable[[bytes], Iterable[bytes]] = context.compress
        self._flush: Callable[[], Iterable[bytes]] = context.flush

    def compress(self, frame: bytes) -> bytes:
        return b"".join(self._compress(frame)) + b"".join(self._flush())

    def release(self) -> None:
        """Kept: a new context would start a second zstd frame, which discord.py cannot read."""


COMPRESSORS: dict[str, type[Identity] | type[ZlibStream] | type[ZstdStream]] = {
    "": Identity,
    "zlib-stream": ZlibStream,
    "zstd-stream": ZstdStream,
}


def compressor_for(name: str) -> Compressor:
    """The compressor for a ``compress`` query value; KeyError for one we do not speak."""
    return COMPRESSORS[name]()
