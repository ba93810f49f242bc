"""Message history, edit, delete and nonce idempotency: the same behaviour on every backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from rayguild.ids import snowflake_at
from rayguild.storage import HistoryQuery, Message, Storage
from rayguild.storage.buckets import BUCKET_SIZE_MS, bucket_of

pytestmark = pytest.mark.asyncio
NewId = Callable[[], int]
DAY_MS = 86_400_000


async def fill(storage: Storage, channel: int, ids: list[int]) -> list[Message]:
    made = [Message(id=i, channel_id=channel, author_id=7, content=f"m{i}") for i in ids]
    await asyncio.gather(*(storage.create_message(m) for m in made))
    return made


def ids_of(messages: list[Message]) -> list[int]:
    return [m.id for m in messages]


async def test_empty_channel(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    assert await storage.history(HistoryQuery(channel)) == []
    assert await storage.history(HistoryQuery(channel, around=new_id())) == []
    assert await storage.get_message(channel, new_id()) is None


async def test_one_message_channel(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    message = Message(
        id=new_id(), channel_id=channel, author_id=1, content="hi", guild_id=9, nonce="n",
        mention_ids=(3, 4), mention_everyone=True,
    )  # fmt: skip
    assert await storage.create_message(message) == message
    assert await storage.history(HistoryQuery(channel)) == [message]
    assert await storage.history(HistoryQuery(channel, before=message.id)) == []
    assert await storage.history(HistoryQuery(channel, after=message.id)) == []
    assert await storage.history(HistoryQuery(channel, around=message.id, limit=1)) == [message]
    assert await storage.get_message(channel, message.id) == message


async def test_history_before_after_limit(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    ids = [new_id() for _ in range(120)]
    await fill(storage, channel, ids)
    newest_first = ids[::-1]
    assert ids_of(await storage.history(HistoryQuery(channel))) == newest_first[:50]
    assert ids_of(await storage.history(HistoryQuery(channel, limit=100))) == newest_first[:100]
    assert ids_of(await storage.history(HistoryQuery(channel, limit=1))) == newest_first[:1]
    before = ids[60]
    got = await storage.history(HistoryQuery(channel, before=before, limit=10))
    assert ids_of(got) == ids[50:60][::-1]
    # after takes the messages right after the id, still newest first
    got = await storage.history(HistoryQuery(channel, after=ids[10], limit=5))
    assert ids_of(got) == ids[11:16][::-1]
    got = await storage.history(HistoryQuery(channel, after=ids[-3], limit=50))
    assert ids_of(got) == ids[-2:][::-1]


async def test_history_around_is_centred(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    ids = [new_id() for _ in range(30)]
    await fill(storage, channel, ids)
    got = await storage.history(HistoryQuery(channel, around=ids[15], limit=10))
    assert ids_of(got) == ids[10:20][::-1]
    got = await storage.history(HistoryQuery(channel, around=ids[15], limit=5))
    assert ids_of(got) == ids[13:18][::-1]
    # near an edge the missing side is not filled from the other
    got = await storage.history(HistoryQuery(channel, around=ids[1], limit=10))
    assert ids_of(got) == ids[0:6][::-1]


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 101}, {"before": 1, "after": 2}])
async def test_history_query_is_validated(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        HistoryQuery(1, **bad)


async def test_channel_spanning_many_buckets(storage: Storage, new_id: NewId) -> None:
    """Messages two years apart, in sparse 10-day buckets: every page walks the gaps."""
    channel = new_id()
    start_ms = time.time_ns() // 1_000_000 - 730 * DAY_MS
    # 60 messages, one every 12 days: about 60 buckets with empty ones between some
    ids = [int(snowflake_at(start_ms + k * 12 * DAY_MS)) + 5 for k in range(60)]
    assert len({bucket_of(i) for i in ids}) >= 55
    await fill(storage, channel, ids)
    newest_first = ids[::-1]
    assert ids_of(await storage.history(HistoryQuery(channel, limit=100))) == newest_first
    got = await storage.history(HistoryQuery(channel, before=ids[40], limit=25))
    assert ids_of(got) == ids[15:40][::-1]
    got = await storage.history(HistoryQuery(channel, after=ids[3], limit=20))
    assert ids_of(got) == ids[4:24][::-1]
    got = await storage.history(HistoryQuery(channel, around=ids[30], limit=6))
    assert ids_of(got) == ids[27:33][::-1]
    # walk the whole channel page by page, as a client scrolling up does
    seen: list[int] = []
    before: int | None = None
    while page := await storage.history(HistoryQuery(channel, before=before, limit=7)):
        seen += ids_of(page)
        before = page[-1].id
    assert seen == newest_first
    # a long quiet gap (far more than one bucket) between two messages
    late = int(snowflake_at(start_ms + 100 * 12 * DAY_MS))
    await fill(storage, channel, [late])
    got = await storage.history(HistoryQuery(channel, before=late, limit=2))
    assert ids_of(got) == newest_first[:2]
    assert (late >> 22) - (ids[-1] >> 22) > 10 * BUCKET_SIZE_MS


async def test_edit(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    (message,) = await fill(storage, channel, [new_id()])
    edited = await storage.edit_message(replace(message, content="changed", edited_at_ms=1234))
    assert edited is not None
    assert (edited.content, edited.edited_at_ms, edited.author_id) == ("changed", 1234, 7)
    assert await storage.get_message(channel, message.id) == edited
    assert await storage.history(HistoryQuery(channel)) == [edited]
    nobody = Message(id=new_id(), channel_id=channel, author_id=7, content="nobody")
    assert await storage.edit_message(nobody) is None


async def test_deleted_message_never_returns(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    ids = [new_id() for _ in range(5)]
    await fill(storage, channel, ids)
    assert await storage.delete_message(channel, ids[2]) is True
    assert await storage.delete_message(channel, ids[2]) is False
    assert await storage.get_message(channel, ids[2]) is None
    zombie = Message(id=ids[2], channel_id=channel, author_id=7, content="zombie", edited_at_ms=5)
    assert await storage.edit_message(zombie) is None
    assert await storage.get_message(channel, ids[2]) is None
    assert ids[2] not in ids_of(await storage.history(HistoryQuery(channel)))
    around = await storage.history(HistoryQuery(channel, around=ids[2], limit=3))
    assert ids_of(around) == [ids[4], ids[3], ids[1]]


async def test_create_is_idempotent_on_nonce(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    first = Message(id=new_id(), channel_id=channel, author_id=5, content="once", nonce="abc")
    retry = Message(id=new_id(), channel_id=channel, author_id=5, content="once", nonce="abc")
    assert await storage.create_message(first) == first
    assert await storage.create_message(retry) == first
    # concurrent retries still make one message
    results = await asyncio.gather(*(storage.create_message(retry) for _ in range(5)))
    assert set(results) == {first}
    assert await storage.history(HistoryQuery(channel)) == [first]
    # the nonce is per author, and a different nonce is a different message
    other_author = Message(id=new_id(), channel_id=channel, author_id=6, content="x", nonce="abc")
    other_nonce = Message(id=new_id(), channel_id=channel, author_id=5, content="y", nonce="abd")
    assert await storage.create_message(other_author) == other_author
    assert await storage.create_message(other_nonce) == other_nonce
    assert len(await storage.history(HistoryQuery(channel))) == 3


async def test_identical_reads_in_flight_give_the_same_answer(storage: Storage, new_id: NewId) -> None:
    channel = new_id()
    ids = [new_id() for _ in range(20)]
    await fill(storage, channel, ids)
    pages = await asyncio.gather(*(storage.history(HistoryQuery(channel)) for _ in range(20)))
    assert all(ids_of(page) == ids[::-1] for page in pages)
    # a read after an acknowledged write sees it, even with identical reads still in flight
    slow = [asyncio.ensure_future(storage.history(HistoryQuery(channel))) for _ in range(5)]
    (late,) = await fill(storage, channel, [new_id()])
    assert (await storage.history(HistoryQuery(channel)))[0] == late
    await asyncio.gather(*slow)
