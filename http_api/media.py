"""What an uploaded file is: its media type and, for images, width and height, read from its header.

Discord decides an attachment's ``content_type`` itself (discord.py uploads every file as
``application/octet-stream``), so the type comes from the bytes for PNG, JPEG, GIF and WebP,
else from the file name, else ``application/octet-stream``. Only the first ``HEAD_BYTES`` of a
file are looked at: a JPEG whose frame header lies beyond them (a huge embedded profile) gets
no width/height, as a file Discord cannot measure does.
"""

from __future__ import annotations

import mimetypes
import struct
from dataclasses import dataclass

HEAD_BYTES = 256 * 1024
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    content_type: str
    width: int | None = None
    height: int | None = None


def _png(head: bytes) -> tuple[int, int] | None:
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR" or len(head) < 24:
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _gif(head: bytes) -> tuple[int, int] | None:
    if head[:6] not in (b"GIF87a", b"GIF89a") or len(head) < 10:
        return None
    width, height = struct.unpack("<HH", head[6:10])
    return int(width), int(height)


def _webp(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    kind = head[12:16]
    if kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a" and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if kind == b"VP8L" and head[20:21] == b"\x2f" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    if head[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 <= len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", head[at + 2 : at + 4])
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + int(length)
    return None


_IMAGES = (("image/png", _png), ("image/gif", _gif), ("image/webp", _webp), ("image/jpeg", _jpeg))


def describe(filename: str, head: bytes) -> MediaInfo:
    """The media type (and image size) of a file named ``filename`` starting with ``head``."""
    for content_type, measure in _IMAGES:
        size = measure(head)
        if size is not None and size[0] > 0 and size[1] > 0:
            return MediaInfo(content_type, *size)
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed is None:
        return MediaInfo("application/octet-stream")
    return MediaInfo(f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed)
