"""Ordered streams: whatever the arrival order, a receiver applies each sender's batches in order."""

from __future__ import annotations

import random

import pytest

from rayguild.actors.relay import relay_inbox
from rayguild.fanout.ordering import OrderedInbox, StreamBroken, StreamSequencer


def test_batches_apply_in_submission_order_whatever_the_arrival_order() -> None:
    senders = [StreamSequencer() for _ in range(3)]
    sent = [(s, s.wrap("shard-0", [f"{i}-{n}"])) for n in range(50) for i, s in enumerate(senders)]
    rng = random.Random(3)
    rng.shuffle(sent)
    inbox: OrderedInbox[str] = OrderedInbox()
    applied = [item for _, batch in sent for ready in inbox.accept(batch) for item in ready]
    for i in range(3):
        assert [x for x in applied if x.startswith(f"{i}-")] == [f"{i}-{n}" for n in range(50)]
    assert len(applied) == 150


def test_each_destination_counts_on_its_own_and_duplicates_are_dropped() -> None:
    sender = StreamSequencer()
    a0, b0, a1 = sender.wrap("a", [1]), sender.wrap("b", [2]), sender.wrap("a", [3])
    assert (a0.seq, b0.seq, a1.seq) == (0, 0, 1)
    inbox: OrderedInbox[int] = OrderedInbox()
    assert inbox.accept(a1) == []
    assert inbox.accept(a0) == [[1], [3]]
    assert inbox.accept(a0) == [] and inbox.late == 1


def test_after_a_receiver_restart_the_sender_opens_a_new_stream() -> None:
    sender = StreamSequencer()
    old = [sender.wrap("x", [n]) for n in range(70)]
    restarted: OrderedInbox[int] = OrderedInbox(max_orphaned=64)
    for batch in old[3:]:  # in flight to the dead incarnation: never applied, then forgotten
        assert restarted.accept(batch) == []
    assert restarted.orphaned == 65
    sender.restart("x")
    first, second = sender.wrap("x", [100]), sender.wrap("x", [101])
    assert (first.seq, second.seq) == (0, 1) and first.stream != old[0].stream
    assert restarted.accept(second) == []
    assert restarted.accept(first) == [[100], [101]]


def test_a_lost_batch_breaks_the_stream_instead_of_buffering_forever() -> None:
    sender = StreamSequencer()
    batches = [sender.wrap("x", [n]) for n in range(6)]
    inbox: OrderedInbox[int] = OrderedInbox(max_pending=3)
    for batch in batches[1:4]:
        assert inbox.accept(batch) == []
    with pytest.raises(StreamBroken):
        inbox.accept(batches[4])


def test_a_relay_applies_a_first_batch_overtaken_by_hundreds_of_later_ones() -> None:
    """The guild streams to a relay from the moment it creates it: while the relay process starts,
    hundreds of batches queue, and Ray may run them before batch 0. The relay's inbox must still
    apply them all, in order, once batch 0 arrives (it used to forget the stream after 64 early
    batches, restart it at the late batch 0, and hold every later batch forever: 0 deliveries)."""
    sender = StreamSequencer()
    batches = [sender.wrap(("guild", 0), [n]) for n in range(400)]
    inbox = relay_inbox()
    for batch in batches[1:300]:
        assert inbox.accept(batch) == []
    assert inbox.waiting() == 299 and inbox.peak_waiting == inbox.peak_before_first == 299
    applied = [item for ready in inbox.accept(batches[0]) for item in ready]
    assert applied == list(range(300))
    assert [item for batch in batches[300:] for ready in inbox.accept(batch) for item in ready] == list(
        range(300, 400)
    )
    assert inbox.waiting() == 0 and inbox.orphaned == 0


def test_a_relay_inbox_still_breaks_a_stream_that_lost_a_batch() -> None:
    sender = StreamSequencer()
    batches = [sender.wrap("relay", [n]) for n in range(5000)]
    inbox = relay_inbox()
    with pytest.raises(StreamBroken):
        for batch in batches[1:]:
            inbox.accept(batch)
