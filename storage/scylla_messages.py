"""The Scylla backend's messages: Discord's bucketed layout, nonce claims, edits, history.

A mixin of ``ScyllaStorage`` (it runs the storage's prepared statements). A message row writes
only its non-null columns. A nonce is claimed with a lightweight transaction, so a retried create
returns the first message. A partial row (an edit or a reaction racing a delete) has no author
and is never read back, so a deleted message never returns; its reactions and pin go with it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cassandra.query import UNSET_VALUE

from rayguild.storage.buckets import bucket_of
from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.message_rich import rich_of, with_rich
from rayguild.storage.models import Message
from rayguild.storage.scylla_schema import STATEMENTS
from rayguild.storage.scylla_session import CqlSession, Row
from rayguild.storage.semantics import HistoryByScans

_KNOWN_BUCKETS_MAX = 100_000


def _opt(value: Any) -> Any:
    """Leave a message's null, empty or false column unwritten, as Discord's schema does.

    Other records are replaced whole by their ``put_*`` method, so their nulls are written.
    """
    return UNSET_VALUE if value is None or value == () or value is False else value


def message_of(r: Row) -> Message | None:
    if r["author_id"] is None:  # only what an edit racing a delete leaves behind
        return None
    plain = Message(
        id=r["message_id"], channel_id=r["channel_id"], author_id=r["author_id"],
        content=r["content"] or "", guild_id=r["guild_id"], type=r["type"] or 0,
        nonce=r["nonce"], edited_at_ms=r["edited_at_ms"],
        mention_ids=tuple(r["mention_ids"] or ()), mention_everyone=bool(r["mention_everyone"]),
        pinned=bool(r["pinned"]), reacted=bool(r["reacted"]),
    )  # fmt: skip
    return with_rich(plain, r["rich"])


class CqlStatements:
    """What the backend's mixins share: the session, read coalescing, named prepared statements."""

    _db: CqlSession
    _reads: SingleFlight

    async def _run(self, name: str, *params: Any) -> list[Row]:
        return await self._db.execute(STATEMENTS[name], *params)

    async def _read(self, scope: Any, key: Any, name: str, *params: Any) -> list[Row]:
        return await self._reads.run(scope, key, lambda: self._run(name, *params))


class ScyllaMessages(CqlStatements, HistoryByScans):
    _known_buckets: set[tuple[int, int]]

    async def create_message(self, message: Message) -> Message:
        if message.nonce is not None:
            claim = (message.channel_id, message.author_id, message.nonce, message.id)
            (row,) = await self._run("nonce_claim", *claim)
            if not row["[applied]"]:
                first = await self._get_message(message.channel_id, row["message_id"])
                if first is not None:
                    return first
                # The claim was made but its message never written: finish that write now.
                message = replace(message, id=row["message_id"])
        bucket = bucket_of(message.id)
        if (message.channel_id, bucket) not in self._known_buckets:
            await self._run("bucket_put", message.channel_id, bucket)
            if len(self._known_buckets) >= _KNOWN_BUCKETS_MAX:
                self._known_buckets.clear()
            self._known_buckets.add((message.channel_id, bucket))
        m = message
        await self._run(
            "msg_put", m.channel_id, bucket, m.id, m.author_id, m.content, _opt(m.guild_id),
            m.type, _opt(m.nonce), _opt(m.edited_at_ms), _opt(m.mention_ids),
            _opt(m.mention_everyone), _opt(rich_of(m)),
        )  # fmt: skip
        self._reads.forget(("messages", m.channel_id))
        return replace(message, pinned=False, reacted=False)

    async def get_message(self, channel_id: int, message_id: int) -> Message | None:
        return await self._get_message(channel_id, message_id)

    async def _get_message(self, channel_id: int, message_id: int) -> Message | None:
        key = (channel_id, bucket_of(message_id), message_id)
        rows = await self._read(("messages", channel_id), message_id, "msg_get", *key)
        return message_of(rows[0]) if rows else None

    async def edit_message(self, edited: Message) -> Message | None:
        old = await self._get_message(edited.channel_id, edited.id)
        if old is None:
            return None
        m = edited
        await self._run(
            "msg_edit", m.content, m.edited_at_ms, list(m.mention_ids) or None, m.mention_everyone,
            rich_of(m), m.channel_id, bucket_of(m.id), m.id,
        )  # fmt: skip
        self._reads.forget(("messages", m.channel_id))
        return replace(edited, pinned=old.pinned, reacted=old.reacted)

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        old = await self._get_message(channel_id, message_id)
        if old is None:
            return False
        if old.nonce is not None:
            # The claim goes first: a retry must never re-create a message deleted after it.
            await self._run("nonce_del", channel_id, old.author_id, old.nonce)
        await self._run("msg_del", channel_id, bucket_of(message_id), message_id)
        await self._run("react_drop", channel_id, message_id)
        await self._run("pin_del", channel_id, message_id)
        self._reads.forget(("messages", channel_id))
        return True

    async def _older(self, channel_id: int, before: int, limit: int) -> list[Message]:
        buckets = await self._run("buckets_down", channel_id, bucket_of(before))
        return await self._scan(channel_id, [r["bucket"] for r in buckets], before, limit, "msg_older")

    async def _newer(self, channel_id: int, after: int, limit: int) -> list[Message]:
        buckets = await self._run("buckets_up", channel_id, bucket_of(after))
        found = await self._scan(channel_id, [r["bucket"] for r in buckets], after, limit, "msg_newer")
        return found[::-1]

    async def _scan(
        self, channel_id: int, buckets: list[int], bound: int, limit: int, statement: str
    ) -> list[Message]:
        """Up to ``limit`` live messages past ``bound``, bucket by bucket in ``buckets`` order."""
        found: list[Message] = []
        for bucket in buckets:
            start = bound
            while len(found) < limit:
                want = limit - len(found)
                rows = await self._run(statement, channel_id, bucket, start, want)
                found += [m for m in map(message_of, rows) if m is not None]
                if len(rows) < want:
                    break  # this bucket is exhausted
                start = rows[-1]["message_id"]
            if len(found) >= limit:
                break
        return found
