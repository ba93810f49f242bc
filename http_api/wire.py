"""The wire: a gateway socket's outgoing frames, coalesced per event-loop turn into one write.

``SocketSink.write`` (the session shard calls it for every dispatch; the connection for Hello,
ACKs, op 9) only queues: it never blocks and never touches the socket. The edge's one
``WireFlusher`` runs once per loop turn in which any sink was written: per written sink it
compresses the queued frames in order (the connection's compressor must see them in order),
frames each as one websocket message (server frames are unmasked: a 2-10 byte header built
here, no aiohttp writer call per frame) and hands them to the transport in ONE write. The edge's
frame and byte counters are incremented once per turn, never per frame.

Idle memory: a sink whose compressor holds a releasable context (zlib-stream) is listed with the
flusher once; every ``idle_s`` the flusher sweeps that list, and a sink that wrote nothing since
the previous sweep frees its context (so after ``idle_s`` to ``2 * idle_s`` of silence) and leaves
the list. The sweep costs one check per connection that was busy lately, none for the idle rest.
Once ``trim_after`` sockets were set up or contexts freed, a sweep trims the C heap, so the pages
their garbage freed leave the RSS (at most one trim per ``idle_s``, none while nothing changes).

Bound (backpressure): when the transport holds more than its high-water mark unsent (asyncio's
64 KiB: the client reads slower than we write), the sink stops writing and waits for it to drain;
frames queue meanwhile, and once more than ``max_frames`` are queued the queue is dropped and the
socket closed with 4000 (the client can resume: what it missed is in its replay buffer). A slow
client therefore costs at most the high-water mark plus one turn's frames in the transport, and
``max_frames`` frame references in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import struct
from collections.abc import Callable

from aiohttp import web

from rayguild.http_api.compression import Compressor
from rayguild.http_api.metrics import EdgeMetrics

CLOSE_TIMEOUT_S = 2.0  # a closing socket gets this long to drain what is queued and say goodbye
SLOW_READER_CODE = 4000
SLOW_READER_REASON = "Too slow: outgoing queue full, resume"
_SHORT, _MEDIUM, _LONG = struct.Struct("!BB"), struct.Struct("!BBH"), struct.Struct("!BBQ")
_FIN_TEXT, _FIN_BINARY = 0x81, 0x82
IDLE_RELEASE_S = 10.0  # a zlib-stream connection silent this long (up to twice it) frees its context
TRIM_AFTER = 64  # sockets opened or contexts freed before a sweep trims the C heap (glibc's malloc_trim)


def _heap_trimmer() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``: gives free heap pages back to the kernel (None elsewhere)."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return trim if callable(trim) else None


_TRIM = _heap_trimmer()


def frame_header(first_byte: int, length: int) -> bytes:
    """RFC 6455 header of an unmasked, final frame of ``length`` payload bytes."""
    if length < 126:
        return _SHORT.pack(first_byte, length)
    if length < 1 << 16:
        return _MEDIUM.pack(first_byte, 126, length)
    return _LONG.pack(first_byte, 127, length)


class WireFlusher:
    """One per edge: flushes every sink written during a loop turn, then counts the turn."""

    __slots__ = (
        "_bytes", "_churn", "_dirty", "_frames", "_holding", "_metrics", "_sweep_handle", "idle_s",
        "released", "trim_after", "trims",
    )  # fmt: skip

    def __init__(self, metrics: EdgeMetrics, idle_s: float = IDLE_RELEASE_S) -> None:
        self._metrics = metrics
        self._dirty: list[SocketSink] = []
        self._frames = self._bytes = 0
        self._holding: list[SocketSink] = []  # sinks whose compressor holds a releasable context
        self._churn = 0  # sockets opened and contexts freed since the heap was last trimmed
        self._sweep_handle: asyncio.TimerHandle | None = None
        self.idle_s = idle_s
        self.trim_after = TRIM_AFTER
        self.released = 0  # contexts freed by sweeps, ever
        self.trims = 0  # heap trims, ever

    def hold(self, sink: SocketSink) -> None:
        """``sink``'s compressor now holds a context: free it once the sink goes quiet."""
        self._holding.append(sink)
        self._schedule()

    def opened(self) -> None:
        """A socket was set up: the garbage its set-up left (parsing, READY, GUILD_CREATE...) is
        handed back to the kernel by a heap trim at a sweep, once enough sockets came."""
        self._churn += 1
        self._schedule()

    def _schedule(self) -> None:
        if self._sweep_handle is None:
            self._sweep_handle = asyncio.get_running_loop().call_later(self.idle_s, self._sweep)

    def _sweep(self) -> None:
        holding, self._holding = self._holding, []
        released = 0
        for sink in holding:
            if sink.release_if_quiet():
                released += 1
            else:
                self._holding.append(sink)
        self.released += released
        self._churn += released
        if self._churn >= self.trim_after and _TRIM is not None:
            _TRIM(0)
            self.trims += 1
            self._churn = 0
        self._sweep_handle = None
        if self._holding:  # (a socket opened later schedules the next sweep itself)
            self._schedule()

    def mark(self, sink: SocketSink) -> None:
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty.append(sink)

    def count(self, frames: int, nbytes: int) -> None:
        self._frames += frames
        self._bytes += nbytes

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for sink in dirty:
            sink.flush()
        if self._frames:
            self._metrics.frames_out.inc(self._frames)
            self._metrics.bytes_out.inc(self._bytes)
            self._frames = self._bytes = 0


class SocketSink:
    """``FrameSink`` over one websocket; see the module docstring for its bound."""

    __slots__ = (
        "_busy", "_closer", "_compressor", "_drainer", "_first_byte", "_held", "_max_frames",
        "_protocol", "_queue", "_request", "_wire", "_ws", "close_code", "close_reason", "marked",
    )  # fmt: skip

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, compressor: Compressor,
                 max_frames: int, wire: WireFlusher) -> None:  # fmt: skip
        self._request, self._ws, self._wire, self._max_frames = request, ws, wire, max_frames
        self._protocol = request.protocol
        self._compressor = compressor
        self._held = False  # listed with the flusher as holding a releasable context
        self._busy = False  # flushed since the flusher's last sweep
        self._first_byte = _FIN_BINARY if compressor.binary else _FIN_TEXT
        self._queue: list[bytes] = []  # a list: an idle socket's empty deque would cost 600 bytes
        self._drainer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.marked = False
        self.close_code: int | None = None
        self.close_reason = ""

    def write(self, frame: bytes) -> None:
        if self.close_code is not None:
            return
        queue = self._queue
        if len(queue) >= self._max_frames:
            queue.clear()
            self.close(SLOW_READER_CODE, SLOW_READER_REASON)
            return
        queue.append(frame)
        if not self.marked and self._drainer is None:
            self.marked = True
            self._wire.mark(self)

    def backlog(self) -> int:
        """Frames queued and not yet written (the presence lag bound reads it)."""
        return len(self._queue)

    def release_if_quiet(self) -> bool:
        """The flusher's sweep: True (and the context freed) if nothing was sent since the last
        one, or the socket is closing; False to be asked again at the next sweep."""
        if self.close_code is None and (self._busy or self._queue or self._drainer is not None):
            self._busy = False
            return False
        self._compressor.release()
        self._held = False
        return True

    def flush(self) -> None:
        """Compress, frame and write everything queued in one transport write (the flusher calls it)."""
        self.marked = False
        queue, transport = self._queue, self._request.transport
        if not queue or self._drainer is not None:
            return
        if transport is None or transport.is_closing():
            queue.clear()
            return
        compress, first = self._compressor.compress, self._first_byte
        frames = len(queue)
        if frames == 1:  # the common turn: one frame, no list to build and join
            data = compress(queue[0])
            payload = frame_header(first, len(data)) + data
        else:
            parts = []
            for frame in queue:
                data = compress(frame)
                parts.append(frame_header(first, len(data)))
                parts.append(data)
            payload = b"".join(parts)
        queue.clear()
        if self._compressor.releasable:
            self._busy = True
            if not self._held:
                self._held = True
                self._wire.hold(self)
        transport.write(payload)
        self._wire.count(frames, len(payload))
        if self._protocol.writing_paused:
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            await self._request.writer.drain()
        except (ConnectionError, RuntimeError):
            self._queue.clear()
        finally:
            self._drainer = None
        self.flush()

    def close(self, code: int, reason: str) -> None:
        """Write what is queued, then close with ``code`` (the first close wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._closer = asyncio.create_task(self._close())

    async def _close(self) -> None:
        ws = self._ws
        if self._drainer is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drainer), CLOSE_TIMEOUT_S)
        self.flush()
        if not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
                await ws.close(code=self.close_code or 1000, message=self.close_reason.encode())

    async def closed(self) -> None:
        """Wait (bounded) until the close frame is out, if this sink was closed."""
        if self._closer is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._closer), CLOSE_TIMEOUT_S + 1)
