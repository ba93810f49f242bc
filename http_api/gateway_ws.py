"""Gateway socket plumbing: accept the websocket, feed frames to the protocol, write frames out.

Every frame a connection sends (Hello, ACKs, op 9, dispatches, replays) goes through ONE
``SocketSink``: a bounded queue drained by one writer task that compresses (the per-connection
compressor must see frames in order) and sends. ``write`` never blocks the shard's delivery
path. If more than ``replay_buffer_events + CONTROL_SLACK`` frames are queued the client is not
keeping up: the queue is dropped and the socket closed with 4000, and the client can resume
(everything it missed is still in its replay buffer). A client that sends no heartbeat for 1.5
heartbeat intervals is closed with 4009. Each close writes one structured log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

import orjson
import structlog
from aiohttp import WSMsgType, web

from rayguild.actors.session import Session
from rayguild.errors import StorageUnavailable
from rayguild.http_api import gateway_ops
from rayguild.http_api.compression import COMPRESSORS, Compressor, compressor_for
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import json_response
from rayguild.http_api.gateway_protocol import (
    CloseCode,
    ConnState,
    GatewayClose,
    GatewayProtocol,
    Inbound,
    Op,
    check_query,
    parse_identify,
    parse_resume,
)
from rayguild.http_api.identify_limits import IdentifyThrottled
from rayguild.http_api.keys import CTX, METRICS
from rayguild.http_api.metrics import EdgeMetrics

log = structlog.get_logger("rayguild.gateway")

CONTROL_SLACK = 64  # queued frames allowed beyond a full replay (Hello, ACKs, RESUMED)
HARD_FRAME_CAP = 1 << 20  # aiohttp itself closes with 1009 above this; 4002 is sent below it
CLOSE_TIMEOUT_S = 2.0
ZOMBIE_FACTOR = 1.5
HEARTBEAT_ACK = b'{"op":11,"s":null,"t":null,"d":null}'
INVALID_SESSION = b'{"op":9,"s":null,"t":null,"d":false}'


class SocketSink:
    """``FrameSink`` over one websocket; see the module docstring for its bound."""

    def __init__(self, ws: web.WebSocketResponse, compressor: Compressor, max_frames: int,
                 metrics: EdgeMetrics) -> None:  # fmt: skip
        self._ws, self._compressor, self._max_frames = ws, compressor, max_frames
        self._metrics = metrics
        self._queue: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    def write(self, frame: bytes) -> None:
        if self.close_code is not None:
            return
        if len(self._queue) >= self._max_frames:
            self._queue.clear()
            self.close(int(CloseCode.UNKNOWN_ERROR), "Too slow: outgoing queue full, resume")
            return
        self._queue.append(frame)
        self._wakeup.set()

    def backlog(self) -> int:
        """Frames queued and not yet sent (the presence lag bound reads it)."""
        return len(self._queue)

    def close(self, code: int, reason: str) -> None:
        """Send what is queued, then close with ``code`` (the first close wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._wakeup.set()

    async def run(self) -> None:
        """The writer task: drain, compress, send; finally close the socket."""
        ws, queue = self._ws, self._queue
        kind = WSMsgType.BINARY if self._compressor.binary else WSMsgType.TEXT
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while queue and not ws.closed:
                    data = self._compressor.compress(queue.popleft())
                    await ws.send_frame(data, kind)
                    self._metrics.frames_out.inc()
                    self._metrics.bytes_out.inc(len(data))
                if self.close_code is not None or ws.closed:
                    break
        except (ConnectionError, RuntimeError) as exc:
            self.close(1006, f"send failed: {exc}")
        finally:
            if not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
                    await ws.close(code=self.close_code or 1000, message=self.close_reason.encode())


class GatewayConnection:
    """One client socket: Hello, the read loop, heartbeats, and the session it carries."""

    def __init__(self, ctx: EdgeContext, ws: web.WebSocketResponse, sink: SocketSink,
                 metrics: EdgeMetrics) -> None:  # fmt: skip
        self.ctx, self.ws, self.sink, self.metrics = ctx, ws, sink, metrics
        self.protocol = GatewayProtocol(ctx.config.max_frame_bytes)
        self.session: Session | None = None
        self.interval_s = ctx.config.heartbeat_interval_ms / 1000
        self.last_heartbeat = time.monotonic()
        self.tasks: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        writer = asyncio.create_task(self.sink.run())
        watchdog = asyncio.create_task(self._watch_heartbeats())
        hello = {
            "op": 10,
            "s": None,
            "t": None,
            "d": {"heartbeat_interval": self.ctx.config.heartbeat_interval_ms},
        }
        self.sink.write(orjson.dumps(hello))
        try:
            async for msg in self.ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    await self._handle(self.protocol.receive(msg.data))
                except GatewayClose as exc:
                    self.sink.close(int(exc.code), exc.reason)
                    break
                except StorageUnavailable as exc:
                    log.warning("gateway.storage_unavailable", error=str(exc))
                    self.sink.close(int(CloseCode.UNKNOWN_ERROR), "Storage unavailable, reconnect later")
                    break
                except Exception:
                    log.exception("gateway.unhandled")
                    self.sink.close(int(CloseCode.UNKNOWN_ERROR), "Unknown error")
                    break
                if self.sink.close_code is not None:
                    break
        finally:
            closed_by_server = self.sink.close_code is not None
            watchdog.cancel()
            for task in self.tasks:
                task.cancel()
            self.protocol.transition(ConnState.CLOSED)
            if not closed_by_server:
                self.sink.close(self.ws.close_code or 1006, "closed by the client")
            code = self.sink.close_code or 1006
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer, CLOSE_TIMEOUT_S + 1)
            if self.session is not None:
                await gateway_ops.end_session(self.ctx, self.session, self.sink, code)
            self.metrics.closes.labels(code=str(code)).inc()
            log.info(
                "gateway.closed", code=code, reason=self.sink.close_reason,
                by="server" if closed_by_server else "client",
                session_id=self.session.session_id if self.session else None,
                user_id=self.session.user_id if self.session else None,
            )  # fmt: skip

    async def _handle(self, inbound: Inbound) -> None:
        op, d = inbound.op, inbound.d
        if op is Op.HEARTBEAT:
            self.last_heartbeat = time.monotonic()
            self.sink.write(HEARTBEAT_ACK)
        elif op is Op.IDENTIFY:
            ident = parse_identify(d, self.ctx.allowed_intents, self.ctx.config.large_threshold_default)
            try:
                self.session = await gateway_ops.identify(self.ctx, ident, self.sink)
            except IdentifyThrottled:  # Discord's answer to an identify beyond max_concurrency
                self.sink.write(INVALID_SESSION)
                return
            self.protocol.transition(ConnState.READY)
        elif op is Op.RESUME:
            session = await gateway_ops.resume(self.ctx, parse_resume(d), self.sink)
            self.metrics.resumes.labels(outcome="ok" if session else "invalid").inc()
            if session is None:
                self.sink.write(INVALID_SESSION)
            else:
                self.protocol.transition(ConnState.READY)
                self.session = session
        elif self.session is not None:
            await self._session_op(self.session, op, d)

    async def _session_op(self, session: Session, op: Op, d: object) -> None:
        if op is Op.PRESENCE_UPDATE:
            await gateway_ops.update_presence(self.ctx, session, d)
        elif op in (Op.GUILD_SUBSCRIBE, Op.GUILD_SUBSCRIPTIONS_BULK):
            await gateway_ops.subscribe(self.ctx, session, op, d)
        elif op is Op.REQUEST_GUILD_MEMBERS:
            task = asyncio.create_task(gateway_ops.request_members(self.ctx, session, d))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        # op 4 (voice) and op 31 (soundboard) are accepted and ignored: no voice here.

    async def _watch_heartbeats(self) -> None:
        limit_s = self.interval_s * ZOMBIE_FACTOR
        while True:
            late_by = time.monotonic() - self.last_heartbeat
            if late_by >= limit_s:
                self.sink.close(int(CloseCode.SESSION_TIMED_OUT), "Session timed out: no heartbeat")
                return
            await asyncio.sleep(limit_s - late_by)


async def gateway_handler(request: web.Request) -> web.StreamResponse:
    """GET / with Upgrade: websocket -> a gateway connection (plain GET: a short JSON notice)."""
    ctx, metrics = request.config_dict[CTX], request.config_dict[METRICS]
    ws = web.WebSocketResponse(
        max_msg_size=max(HARD_FRAME_CAP, 2 * ctx.config.max_frame_bytes),
        timeout=CLOSE_TIMEOUT_S, compress=False, autoping=True,
    )  # fmt: skip
    if not ws.can_prepare(request).ok:
        return json_response({"message": "rayguild gateway: connect with a websocket", "code": 0})
    await ws.prepare(request)
    metrics.sockets.inc()
    try:
        query = request.query
        compress = query.get("compress", "")
        try:
            check_query(query.get("v"), query.get("encoding"), compress, frozenset(COMPRESSORS))
        except GatewayClose as exc:
            log.info("gateway.closed", code=int(exc.code), reason=exc.reason, query=dict(query))
            metrics.closes.labels(code=str(int(exc.code))).inc()
            await ws.close(code=int(exc.code), message=exc.reason.encode())
            return ws
        bound = ctx.config.replay_buffer_events + CONTROL_SLACK
        sink = SocketSink(ws, compressor_for(compress), bound, metrics)
        await GatewayConnection(ctx, ws, sink, metrics).serve()
    finally:
        metrics.sockets.dec()
    return ws
