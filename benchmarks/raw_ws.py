"""A minimal RFC 6455 client side for load generation: the upgrade request, masked client frames,
and a reader that splits server frames without decoding their payloads.

Cheap on purpose (the load generator must cost less than the server it loads): frames are sent
with an all-zero mask key (valid RFC 6455: the payload XORed with zeros is itself), and a
received frame is only sliced out of the buffer; what is inside is the caller's business.
"""

from __future__ import annotations

import struct

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING = 0x1, 0x2, 0x8, 0x9
_MASK_ZERO = b"\x00\x00\x00\x00"


def upgrade_request(host: str, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: cmF5Z3VpbGQtYmVuY2gtMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def client_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One final, masked (zero key) client frame."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + _MASK_ZERO + payload


class FrameReader:
    """Feed bytes, get ``(opcode, payload)`` for every complete server frame (unmasked, unfragmented)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer + data if self._buffer else data
        frames = []
        at, end = 0, len(buffer)
        while end - at >= 2:
            opcode, length = buffer[at] & 0x0F, buffer[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                if end - start < 2:
                    break
                length, start = int.from_bytes(buffer[start : start + 2], "big"), start + 2
            elif length == 127:
                if end - start < 8:
                    break
                length, start = int.from_bytes(buffer[start : start + 8], "big"), start + 8
            if end - start < length:
                break
            frames.append((opcode, buffer[start : start + length]))
            at = start + length
        self._buffer = buffer[at:]
        return frames


def close_code(payload: bytes) -> int:
    """The status code of a close frame's payload (1005 when it carries none)."""
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
