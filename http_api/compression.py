"""Per-connection transport compression for gateway frames, as Discord's ``compress`` query asks.

- none: each frame is a websocket TEXT message.
- ``zlib-stream``: ONE deflate context for the whole connection; every frame is compressed and
  sync-flushed, so each binary message ends with ``00 00 ff ff`` and decompresses on its own
  given the ones before it.
- ``zstd-stream``: ONE zstd frame for the whole connection; every gateway frame is one flushed
  block (``COMPRESSOBJ_FLUSH_BLOCK``), so a client's single decompressor sees one endless frame
  (discord.py keeps one decompressor; a second zstd frame would break it).

A compressor is stateful and must see frames in the order they are sent (the writer task is the
only caller). Memory per connection: about 256 KiB for zlib (window 15), about 1.3 MiB for zstd
at level 3 with the default window; the level is kept low because every socket has its own.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import zstandard

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
ZSTD_LEVEL = 3


class Compressor(Protocol):
    binary: bool

    def compress(self, frame: bytes) -> bytes: ...


class Identity:
    binary = False

    def compress(self, frame: bytes) -> bytes:
        return frame


class ZlibStream:
    binary = True

    def __init__(self) -> None:
        self._context = zlib.compressobj()

    def compress(self, frame: bytes) -> bytes:
        return self._context.compress(frame) + self._context.flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    binary = True

    def __init__(self) -> None:
        self._context = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()

    def compress(self, frame: bytes) -> bytes:
        return self._context.compress(frame) + self._context.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


COMPRESSORS: dict[str, type[Identity] | type[ZlibStream] | type[ZstdStream]] = {
    "": Identity,
    "zlib-stream": ZlibStream,
    "zstd-stream": ZstdStream,
}


def compressor_for(name: str) -> Compressor:
    """The compressor for a ``compress`` query value; KeyError for one we do not speak."""
    return COMPRESSORS[name]()
