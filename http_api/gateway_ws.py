"""Gateway socket plumbing: accept the websocket, feed frames to the protocol, close it right.

Every frame a connection sends (Hello, ACKs, op 9, dispatches, replays) goes through ONE
``SocketSink`` (wire.py): a bounded queue flushed once per loop turn, never blocking the shard's
delivery path. If more than ``replay_buffer_events + CONTROL_SLACK`` frames are queued the client
is not keeping up: the socket is closed with 4000 and the client can resume (everything it missed
is still in its replay buffer). A client that sends no heartbeat for 1.5 heartbeat intervals is
closed with 4009 (a timer per connection, no task). A quiet connection gives its compression
context back (wire.py, compression.py). A client frame above ``HARD_FRAME_CAP`` is refused by
aiohttp before it is buffered; the close says 4002 as for any oversize frame, not aiohttp's 1009.
Each close writes one structured log line.
"""

from __future__ import annotations

import asyncio
import struct
import time

import orjson
import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.abc import AbstractStreamWriter

from rayguild.actors.session import Session
from rayguild.errors import StorageUnavailable
from rayguild.http_api import gateway_ops
from rayguild.http_api.compression import COMPRESSORS, compressor_for
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
from rayguild.http_api.keys import CTX, METRICS, WIRE
from rayguild.http_api.metrics import EdgeMetrics
from rayguild.http_api.wire import CLOSE_TIMEOUT_S, SocketSink, frame_header

log = structlog.get_logger("rayguild.gateway")

CONTROL_SLACK = 64  # queued frames allowed beyond a full replay (Hello, ACKs, RESUMED)
HARD_FRAME_CAP = 1 << 20  # aiohttp refuses bigger client frames unread; closed with 4002 all the same
ZOMBIE_FACTOR = 1.5
OVERSIZE_REASON = "Decode error: frame too large"
LINGER_POLL_S = 0.05
_FIN_CLOSE = 0x88
HEARTBEAT_ACK = b'{"op":11,"s":null,"t":null,"d":null}'
INVALID_SESSION = b'{"op":9,"s":null,"t":null,"d":false}'


class GatewayConnection:
    """One client socket: Hello, the read loop, heartbeats, and the session it carries."""

    __slots__ = (
        "_watchdog",
        "ctx",
        "last_heartbeat",
        "limit_s",
        "metrics",
        "protocol",
        "session",
        "sink",
        "tasks",
        "ws",
    )

    def __init__(self, ctx: EdgeContext, ws: GatewayWebSocket, sink: SocketSink,
                 metrics: EdgeMetrics) -> None:  # fmt: skip
        self.ctx, self.ws, self.sink, self.metrics = ctx, ws, sink, metrics
        self.protocol = GatewayProtocol(ctx.config.max_frame_bytes)
        self.session: Session | None = None
        self.limit_s = ctx.config.heartbeat_interval_ms / 1000 * ZOMBIE_FACTOR
        self.last_heartbeat = time.monotonic()
        self.tasks: set[asyncio.Task[None]] | None = None  # op 8 requests in flight (made on first use)
        self._watchdog: asyncio.TimerHandle | None = None

    async def serve(self) -> None:
        self._watchdog = asyncio.get_running_loop().call_later(self.limit_s, self._check_heartbeat)
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
                    if self.ws.refused_oversize:
                        self.sink.close(int(CloseCode.DECODE_ERROR), OVERSIZE_REASON)
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
            if self._watchdog is not None:
                self._watchdog.cancel()
            for task in self.tasks or ():
                task.cancel()
            self.protocol.transition(ConnState.CLOSED)
            if not closed_by_server:
                self.sink.close(self.ws.close_code or 1006, "closed by the client")
            code = self.sink.close_code or 1006
            await self.sink.closed()
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
            if self.tasks is None:
                self.tasks = set()
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        # op 4 (voice) and op 31 (soundboard) are accepted and ignored: no voice here.

    def _check_heartbeat(self) -> None:
        late_by = time.monotonic() - self.last_heartbeat
        if late_by >= self.limit_s:
            self.sink.close(int(CloseCode.SESSION_TIMED_OUT), "Session timed out: no heartbeat")
        else:
            self._watchdog = asyncio.get_running_loop().call_later(
                self.limit_s - late_by, self._check_heartbeat
            )


class GatewayWebSocket(web.WebSocketResponse):
    """aiohttp's websocket, but a client frame over ``max_msg_size`` is answered with 4002.

    aiohttp refuses such a frame at its header and would close the socket at once with the rest
    of the frame unread: the kernel answers that with a reset and the client never sees a close
    frame (it reports 1006). Here the close frame says 4002, a FIN follows it, and the unread
    rest is discarded for up to CLOSE_TIMEOUT_S while the client reads the close and hangs up.
    """

    refused_oversize = False
    _request: web.BaseRequest | None = None

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter:
        self._request = request
        return await super().prepare(request)

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        if code != WSCloseCode.MESSAGE_TOO_BIG or self.refused_oversize:
            return await super().close(code=code, message=message, drain=drain)
        self.refused_oversize = True
        transport = self._request.transport if self._request is not None else None
        if transport is not None and not transport.is_closing():
            payload = struct.pack("!H", CloseCode.DECODE_ERROR) + OVERSIZE_REASON.encode()
            transport.write(frame_header(_FIN_CLOSE, len(payload)) + payload)
            transport.write_eof()
            deadline = time.monotonic() + CLOSE_TIMEOUT_S
            # aiohttp offers no public "connection lost" event to await: poll the transport.
            while not transport.is_closing() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(LINGER_POLL_S)
        return await super().close(code=int(CloseCode.DECODE_ERROR), drain=False)


async def gateway_handler(request: web.Request) -> web.StreamResponse:
    """GET / with Upgrade: websocket -> a gateway connection (plain GET: a short JSON notice)."""
    ctx, metrics = request.config_dict[CTX], request.config_dict[METRICS]
    ws = GatewayWebSocket(
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
        metrics.opened.labels(compress=compress or "none").inc()
        bound = ctx.config.replay_buffer_events + CONTROL_SLACK
        wire = request.config_dict[WIRE]
        sink = SocketSink(request, ws, compressor_for(compress), bound, wire)
        wire.opened()
        await GatewayConnection(ctx, ws, sink, metrics).serve()
    finally:
        metrics.sockets.dec()
    return ws
