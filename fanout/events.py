"""Gateway dispatches as the guild emits them: the body is encoded ONCE and shared by every recipient.

Per session only the frame around the body differs (op, s, t); ``frame`` builds it without
re-encoding the body. A ``Dispatch`` is immutable so many sessions and the shard's replay log
can refer to the same object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

# Gateway intents (Discord's bit values).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
DIRECT_MESSAGE_TYPING = 1 << 14
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

_CONTENT_KEYS = ("content", "embeds", "attachments", "components")
_BLANK: dict[str, Any] = {"content": "", "embeds": [], "attachments": [], "components": []}


def encode(value: Any) -> bytes:
    """``value`` as JSON, in a bytes object of its own size: orjson's result keeps the buffer it
    was written in (4 KiB for a 100-byte body, 64 KiB for a 5 KiB one), and bodies live on in
    the shards' event logs and replay buffers, so the copy saves that memory for every event."""
    return memoryview(orjson.dumps(value)).tobytes()


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One event a guild emits; ``channel_id`` gates it on VIEW_CHANNEL (0: guild-wide)."""

    guild_id: int
    t: str
    body: bytes
    channel_id: int = 0
    intent: int = 0
    # The body as a session without MESSAGE_CONTENT sees it (None: same as body).
    body_without_content: bytes | None = None
    emitted_ns: int = field(default_factory=time.time_ns)
    # Users who see the content without MESSAGE_CONTENT: the message's author and mentioned users.
    content_readers: frozenset[int] = frozenset()

    @classmethod
    def of(
        cls,
        guild_id: int,
        t: str,
        d: dict[str, Any],
        channel_id: int = 0,
        intent: int = 0,
        emitted_ns: int = 0,
    ) -> Dispatch:
        """Encode ``d`` once (twice for message events: with and without content)."""
        stripped, readers = None, frozenset[int]()
        if t.startswith("MESSAGE_") and any(key in d for key in _CONTENT_KEYS):
            blank = {**d, **_BLANK}
            if isinstance(d.get("referenced_message"), dict):  # a reply quotes its original
                blank["referenced_message"] = {**d["referenced_message"], **_BLANK}
            stripped = encode(blank)
            people = [d.get("author") or {}, *d.get("mentions", ())]
            readers = frozenset(int(p["id"]) for p in people if "id" in p)
        emitted = emitted_ns or time.time_ns()
        return cls(guild_id, t, encode(d), channel_id, intent, stripped, emitted, readers)

    def body_for(self, has_message_content: bool, user_id: int = 0) -> bytes:
        """The body for a session with (or without) MESSAGE_CONTENT, of user ``user_id``."""
        if has_message_content or self.body_without_content is None or user_id in self.content_readers:
            return self.body
        return self.body_without_content


# A reserved dispatch type, never written to a client: the guild's last word to a session's old
# slot when the session moves to another session shard ("no more events from this guild here").
# It travels in the same ordered stream as the guild's events, so it arrives after all of them.
MOVED_MARKER = "@SESSION_MOVED"
# Reserved types the user's shard sends down the user path, also never written: the session's
# guild list follows a join (the guild itself sends GUILD_CREATE) or a leave (GUILD_DELETE follows).
GUILD_JOINED = "@GUILD_JOINED"
GUILD_LEFT = "@GUILD_LEFT"


def moved_marker(guild_id: int, session_id: str) -> Dispatch:
    return Dispatch(guild_id, MOVED_MARKER, session_id.encode())


class SharedBodies:
    """Equal bodies of one dispatch type held once per shard (events are shared, not copied).

    A guild shard encodes GUILD_CREATE per session, and every session of a guild at or below its
    large threshold gets the same bytes (the whole member list): kept per session, they were
    most of an idle session's memory in the shard's event log. ``share`` swaps an arriving body
    that equals the last one of its guild for that one. Bounded: the last body of at most
    ``capacity`` guilds (the least recently seen is forgotten first).
    """

    __slots__ = ("_capacity", "_last", "t")

    def __init__(self, t: str, capacity: int = 4096) -> None:
        self.t, self._capacity = t, capacity
        self._last: dict[int, bytes] = {}

    def share(self, dispatch: Dispatch) -> Dispatch:
        last = self._last.pop(dispatch.guild_id, None)
        if last is not None and last == dispatch.body:
            dispatch = replace(dispatch, body=last)
        self._last[dispatch.guild_id] = dispatch.body
        if len(self._last) > self._capacity:
            del self._last[next(iter(self._last))]
        return dispatch


def frame(t: str, seq: int, body: bytes) -> bytes:
    """The op 0 frame around an already-encoded body."""
    return b'{"op":0,"t":"%s","s":%d,"d":%s}' % (t.encode(), seq, body)
