"""The fan-out benchmark never reports a run that lost messages as a measurement."""

from __future__ import annotations

from rayguild.benchmarks.fanout import delivery_problems
from rayguild.benchmarks.report import markdown_table

CLEAN = {"relay_failures": 0, "relays_lost": 0, "relay_waiting_batches": 0, "relay_orphaned_batches": 0}


def test_a_run_that_delivered_everything_has_no_problem() -> None:
    assert delivery_problems(100, 100, 100_000, 100_000, 0, 0, CLEAN) == []


def test_a_run_that_delivered_nothing_says_so_and_why() -> None:
    stuck = CLEAN | {"relay_waiting_batches": 812}
    problems = delivery_problems(100, 0, 100_000, 0, 0, 0, stuck)
    assert problems == ["delivered 0 of 100,000 (0 of 100 messages arrived)", "812 batches stuck in a relay"]


def test_sessions_told_to_re_identify_or_that_their_guild_left_make_a_run_incomplete() -> None:
    problems = delivery_problems(100, 100, 100_000, 100_000, 22, 5, CLEAN | {"relays_lost": 1})
    assert problems == ["22 sessions told op 9", "5 GUILD_DELETE deliveries", "1 relays lost"]


def test_the_table_shows_an_incomplete_run_as_no() -> None:
    table = markdown_table([{"config": "relays", "complete": False}, {"config": "direct", "complete": True}])
    assert table.splitlines()[2:] == ["| relays | NO |", "| direct | yes |"]
