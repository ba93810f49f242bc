"""The push buffer: bounded, sheds at once (counted), never holds a key twice, pulls by demand."""

from __future__ import annotations

import random

from rayguild.fanout.push_queue import Delivery, PushBuffer, backoff_s


def delivery(n: int, provider: str = "webhook") -> Delivery:
    return Delivery(f"k{n}", n, provider, "http://x", "{}")


def test_admit_is_bounded_and_counts_what_it_sheds() -> None:
    buffer = PushBuffer(capacity=3, max_in_flight=10)
    taken = buffer.admit([delivery(n) for n in range(5)])
    assert [d.key for d in taken] == ["k0", "k1", "k2"]
    buffer.ready(taken)
    assert len(buffer) == 3 and buffer.counters.shed == 2 and buffer.counters.accepted == 3


def test_a_key_already_outstanding_is_never_taken_twice() -> None:
    buffer = PushBuffer(capacity=10, max_in_flight=10)
    buffer.ready(buffer.admit([delivery(1)]))
    assert buffer.admit([delivery(1), delivery(2)]) == [delivery(2)]
    assert buffer.counters.duplicates == 1


def test_forget_frees_the_room_of_what_could_not_be_persisted() -> None:
    buffer = PushBuffer(capacity=1, max_in_flight=10)
    buffer.forget(buffer.admit([delivery(1)]))
    assert len(buffer) == 0 and buffer.admit([delivery(1)]) == [delivery(1)]


def test_pull_hands_out_at_most_the_free_demand_per_provider() -> None:
    buffer = PushBuffer(capacity=100, max_in_flight=4)
    buffer.ready(buffer.admit([delivery(n) for n in range(10)]))
    first = buffer.pull("webhook", now=0.0)
    assert len(first) == 4 and buffer.pull("webhook", now=0.0) == []
    assert buffer.pull("apns", now=0.0) == []
    buffer.delivered(first[0])
    assert len(buffer.pull("webhook", now=0.0)) == 1
    assert buffer.in_flight("webhook") == 4 and len(buffer) == 9


def test_a_retry_waits_outside_the_in_flight_count_until_due() -> None:
    buffer = PushBuffer(capacity=10, max_in_flight=1)
    buffer.ready(buffer.admit([delivery(1), delivery(2)]))
    (first,) = buffer.pull("webhook", now=0.0)
    buffer.retry(first, at=5.0)
    assert buffer.next_due() == 5.0 and buffer.in_flight("webhook") == 0
    (second,) = buffer.pull("webhook", now=1.0)
    assert second.key == "k2"
    buffer.delivered(second)
    (again,) = buffer.pull("webhook", now=5.0)
    assert again.key == "k1" and again.attempt == 1
    buffer.give_up(again)
    assert len(buffer) == 0 and buffer.counters.given_up == 1 and buffer.counters.retried == 1


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(7)
    for attempt in range(10):
        waits = [backoff_s(attempt, 0.5, 30.0, rng) for _ in range(200)]
        cap = min(30.0, 0.5 * 2**attempt)
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2  # spread over the whole range, not a fixed delay
