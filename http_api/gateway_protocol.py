"""The gateway protocol state machine: what a client may send when, and which close code ends it.

Pure (no sockets, no asyncio). A connection moves AWAIT_IDENTIFY -> READY (after Identify or a
successful Resume) -> CLOSED; any other transition raises ``IllegalTransition``. ``receive``
decodes one client frame and either returns it as an ``Inbound`` the edge must act on or raises
``GatewayClose`` with Discord's close code:

- 4002 a frame that is not a JSON object with an integer ``op``, or larger than max_frame_bytes;
- 4008 more than ``events_per_window`` (120) frames within ``window_s`` (60 s), heartbeats included;
- 4001 an opcode clients may not send; 4003 anything but heartbeat/Identify/Resume before
  Identify; 4005 Identify or Resume once ready;
- from the payload parsers: 4004 (by the caller, after the token lookup), 4007, 4010, 4013, 4014.
"""

from __future__ import annotations

import bisect
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from rayguild.fanout.events import ALL_INTENTS


class Op(enum.IntEnum):
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11
    GUILD_SUBSCRIBE = 14  # the official client's lazy guild request
    REQUEST_SOUNDBOARD_SOUNDS = 31
    GUILD_SUBSCRIPTIONS_BULK = 37


CLIENT_OPS = frozenset({
    Op.HEARTBEAT, Op.IDENTIFY, Op.PRESENCE_UPDATE, Op.VOICE_STATE_UPDATE, Op.RESUME,
    Op.REQUEST_GUILD_MEMBERS, Op.GUILD_SUBSCRIBE, Op.REQUEST_SOUNDBOARD_SOUNDS,
    Op.GUILD_SUBSCRIPTIONS_BULK,
})  # fmt: skip
BEFORE_IDENTIFY_OPS = frozenset({Op.HEARTBEAT, Op.IDENTIFY, Op.RESUME})


class CloseCode(enum.IntEnum):
    UNKNOWN_ERROR = 4000
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005
    INVALID_SEQ = 4007
    RATE_LIMITED = 4008
    SESSION_TIMED_OUT = 4009
    INVALID_SHARD = 4010
    SHARDING_REQUIRED = 4011
    INVALID_API_VERSION = 4012
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014


class GatewayClose(Exception):
    """End the connection with ``code``; ``reason`` goes into the close frame (<= 123 bytes)."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(f"{int(code)} {reason}")
        self.code, self.reason = code, reason[:120]


class IllegalTransition(RuntimeError):
    """A programming error: the edge tried a transition the protocol does not have."""


class ConnState(enum.Enum):
    AWAIT_IDENTIFY = "await_identify"
    READY = "ready"
    CLOSED = "closed"


_ALLOWED = {
    ConnState.AWAIT_IDENTIFY: {ConnState.READY, ConnState.CLOSED},
    ConnState.READY: {ConnState.CLOSED},
    ConnState.CLOSED: set(),
}

API_VERSION = "10"


@dataclass(frozen=True, slots=True)
class Inbound:
    op: Op
    d: Any


@dataclass(frozen=True, slots=True)
class Identify:
    token: str
    intents: int | None  # None: not sent (user accounts); a bot must send it
    large_threshold: int
    shard: tuple[int, int]
    presence: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Resume:
    token: str
    session_id: str
    seq: int


def check_query(version: str | None, encoding: str | None, compress: str | None,
                known_compressions: frozenset[str]) -> None:  # fmt: skip
    """Validate the connection URL's query (``v`` absent means 10, as browsers may omit it)."""
    if version not in (None, API_VERSION):
        raise GatewayClose(CloseCode.INVALID_API_VERSION, "Invalid API version")
    if encoding not in (None, "json"):
        raise GatewayClose(CloseCode.DECODE_ERROR, "Unsupported encoding: only json")
    if (compress or "") not in known_compressions:
        raise GatewayClose(CloseCode.DECODE_ERROR, "Unsupported compress: zlib-stream or zstd-stream")


class GatewayProtocol:
    """One connection's protocol state; the socket layer feeds it frames and obeys its verdicts."""

    __slots__ = ("_clock", "_events_per_window", "_max_frame_bytes", "_recent", "_window_s", "state")

    def __init__(
        self,
        max_frame_bytes: int,
        events_per_window: int = 120,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = ConnState.AWAIT_IDENTIFY
        self._max_frame_bytes = max_frame_bytes
        self._events_per_window = events_per_window
        self._window_s = window_s
        self._clock = clock
        self._recent: list[float] = []  # a list: an empty deque costs 600 bytes per connection

    def transition(self, to: ConnState) -> None:
        if to not in _ALLOWED[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {to.value}")
        self.state = to

    def receive(self, data: str | bytes) -> Inbound:
        if self.state is ConnState.CLOSED:
            raise IllegalTransition("a frame arrived after the connection closed")
        self._count_event()
        if len(data) > self._max_frame_bytes:
            raise GatewayClose(CloseCode.DECODE_ERROR, f"Frame larger than {self._max_frame_bytes} bytes")
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise GatewayClose(CloseCode.DECODE_ERROR, "Error while decoding payload") from None
        op = payload.get("op") if isinstance(payload, dict) else None
        if not isinstance(op, int) or isinstance(op, bool):
            raise GatewayClose(CloseCode.DECODE_ERROR, "Error while decoding payload: no op")
        if op not in CLIENT_OPS:
            raise GatewayClose(CloseCode.UNKNOWN_OPCODE, "Unknown opcode")
        known = Op(op)
        if self.state is ConnState.AWAIT_IDENTIFY and known not in BEFORE_IDENTIFY_OPS:
            raise GatewayClose(CloseCode.NOT_AUTHENTICATED, "Not authenticated")
        if self.state is ConnState.READY and known in (Op.IDENTIFY, Op.RESUME):
            raise GatewayClose(CloseCode.ALREADY_AUTHENTICATED, "Already authenticated")
        return Inbound(known, payload.get("d"))

    def _count_event(self) -> None:
        now = self._clock()
        recent = self._recent
        recent.append(now)
        stale = bisect.bisect_left(recent, now - self._window_s)  # times only grow: sorted
        if stale:
            del recent[:stale]
        if len(recent) > self._events_per_window:
            raise GatewayClose(CloseCode.RATE_LIMITED, "Rate limited: more than 120 events a minute")


def parse_identify(d: Any, allowed_intents: int, default_large_threshold: int) -> Identify:
    if not isinstance(d, dict) or not isinstance(d.get("token"), str):
        raise GatewayClose(CloseCode.DECODE_ERROR, "Identify needs a token")
    intents = d.get("intents")
    if intents is not None:
        check_intents(intents, allowed_intents)
    threshold = d.get("large_threshold", default_large_threshold)
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        threshold = default_large_threshold
    shard = d.get("shard", [0, 1])
    if (
        not isinstance(shard, list | tuple) or len(shard) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
        or not 0 <= shard[0] < shard[1]
    ):  # fmt: skip
        raise GatewayClose(CloseCode.INVALID_SHARD, "Invalid shard")
    presence = d.get("presence")
    return Identify(
        d["token"], intents, min(max(threshold, 50), 250), (shard[0], shard[1]),
        presence if isinstance(presence, dict) else None,
    )  # fmt: skip


def check_intents(intents: Any, allowed_intents: int) -> None:
    """4013 for a value that is not a set of known intent bits, 4014 for one not allowed."""
    if isinstance(intents, bool) or not isinstance(intents, int):
        raise GatewayClose(CloseCode.INVALID_INTENTS, "Invalid intent(s)")
    if intents < 0 or intents & ~ALL_INTENTS:
        raise GatewayClose(CloseCode.INVALID_INTENTS, "Invalid intent(s)")
    if intents & ~allowed_intents:
        raise GatewayClose(CloseCode.DISALLOWED_INTENTS, "Disallowed intent(s)")


def parse_resume(d: Any) -> Resume:
    if not isinstance(d, dict):
        raise GatewayClose(CloseCode.DECODE_ERROR, "Resume needs token, session_id and seq")
    token, session_id, seq = d.get("token"), d.get("session_id"), d.get("seq")
    if not isinstance(token, str) or not isinstance(session_id, str):
        raise GatewayClose(CloseCode.DECODE_ERROR, "Resume needs token, session_id and seq")
    if seq is None:
        seq = 0
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise GatewayClose(CloseCode.INVALID_SEQ, "Invalid seq")
    return Resume(token, session_id, seq)
