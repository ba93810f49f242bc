"""A realistic fan-out workload, generated ahead of time from a seed: what to build and what to send.

- Guild sizes follow a bounded Zipf law (many small guilds, a few large ones): size of the
  guild ranked r is ``max_members / r ** exponent``, at least ``min_members``.
- Traffic: each event picks a guild with probability proportional to its size (big guilds talk
  more) and is one of: a message (to one of the guild's channels, so several channel views are
  in use), a presence update, a member join, a member leave, a role change of one member, a
  channel's overwrites changed, or one of the guild's sessions going passive or active again
  (``go_passive`` / ``go_active``: the op-14 subscription flips of real clients). Joins, leaves,
  role and overwrite changes clear the guild's VIEW_CHANNEL columns; those and the flips clear
  its recipient cache; that is how a real guild defeats its caches now and then, and
  ``cache_report`` counts, from the plan and those rules, how many messages find them cleared.
  The mix is ``Mix`` (shares sum to 1).
- Channels other than the first hide from @everyone and show to some roles; members gain roles
  only through role changes, so who sees a channel shifts as the run goes.

The generator only decides; ``benchmarks/mixed.py`` replays the plan against the real shards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

VIEW_CHANNEL = 1 << 10
KINDS = ("message", "presence", "join", "leave", "role_change", "overwrite_change", "go_passive", "go_active")
FLIPS = ("go_passive", "go_active")  # a session of the guild (``member`` picks which) changes state
CLEARS_VIEW = frozenset({"join", "leave", "role_change", "overwrite_change"})
CLEARS_RECIPIENTS = CLEARS_VIEW | frozenset(FLIPS)


@dataclass(frozen=True, slots=True)
class Mix:
    message: float = 0.76
    presence: float = 0.10
    join: float = 0.03
    leave: float = 0.03
    role_change: float = 0.03
    overwrite_change: float = 0.01
    go_passive: float = 0.02
    go_active: float = 0.02

    def kinds(self) -> tuple[list[str], np.ndarray]:
        names = list(KINDS)
        shares = np.array([getattr(self, n) for n in names], dtype=float)
        if shares.min() < 0 or not np.isclose(shares.sum(), 1.0):
            raise ValueError("mix shares must be non-negative and sum to 1")
        return names, shares


@dataclass(frozen=True, slots=True)
class GuildPlan:
    index: int
    members: int
    channels: int
    roles: int


@dataclass(frozen=True, slots=True)
class Event:
    at_s: float  # offset from the start of the run (open loop)
    guild: int  # GuildPlan.index
    kind: str
    channel: int  # channel number within the guild (0 .. channels-1)
    member: int  # member number within the guild (churn, role changes; modulo its sessions: flips)
    roles: tuple[int, ...]  # role numbers (role change) or the roles an overwrite denies


def guild_sizes(guilds: int, max_members: int, min_members: int = 10, exponent: float = 1.0) -> np.ndarray:
    """Bounded Zipf sizes, largest first."""
    if guilds < 1 or min_members < 1 or max_members < min_members:
        raise ValueError("need guilds >= 1 and 1 <= min_members <= max_members")
    ranks = np.arange(1, guilds + 1, dtype=float)
    return np.maximum(min_members, (max_members / ranks**exponent).astype(np.int64))


def plan_guilds(
    guilds: int, max_members: int, min_members: int = 10, channels: int = 4, roles: int = 6
) -> list[GuildPlan]:
    sizes = guild_sizes(guilds, max_members, min_members)
    return [GuildPlan(i, int(n), channels, roles) for i, n in enumerate(sizes)]


def events(
    plans: list[GuildPlan], rate_per_s: float, duration_s: float, mix: Mix = Mix(), seed: int = 7
) -> Iterator[Event]:
    """``rate_per_s * duration_s`` events, evenly spaced (open loop), guilds weighted by size."""
    rng = np.random.default_rng(seed)
    names, shares = mix.kinds()
    weights = np.array([p.members for p in plans], dtype=float)
    weights /= weights.sum()
    total = int(rate_per_s * duration_s)
    chosen = rng.choice(len(plans), size=total, p=weights)
    kinds = rng.choice(len(names), size=total, p=shares)
    for i in range(total):
        plan = plans[int(chosen[i])]
        kind = names[int(kinds[i])]
        picked = rng.random(plan.roles) < 0.3
        yield Event(
            at_s=i / rate_per_s,
            guild=plan.index,
            kind=kind,
            channel=int(rng.integers(plan.channels)),
            member=int(rng.integers(plan.members)),
            roles=tuple(int(r) for r in np.flatnonzero(picked)),
        )


def cache_report(plans: list[GuildPlan], stream: Iterable[Event]) -> dict[str, int | float]:
    """How many messages of ``stream`` find their guild's caches cleared since the last message
    to the same channel (the first message to a channel counts as a miss too).

    The rules are the shards': a join, leave, role or overwrite change clears the guild's
    VIEW_CHANNEL columns (``fanout/view.py``), and those and every session flip clear its
    recipient cache (``relay/sessions.py``); a presence update clears neither."""
    view_epoch = [0] * len(plans)
    recipients_epoch = [0] * len(plans)
    seen_view: dict[tuple[int, int], int] = {}
    seen_recipients: dict[tuple[int, int], int] = {}
    messages = view_misses = recipient_misses = 0
    for event in stream:
        g = event.guild
        if event.kind in CLEARS_VIEW:
            view_epoch[g] += 1
        if event.kind in CLEARS_RECIPIENTS:
            recipients_epoch[g] += 1
        if event.kind != "message":
            continue
        messages += 1
        key = (g, event.channel)
        view_misses += seen_view.get(key) != view_epoch[g]
        recipient_misses += seen_recipients.get(key) != recipients_epoch[g]
        seen_view[key], seen_recipients[key] = view_epoch[g], recipients_epoch[g]
    return {
        "messages": messages,
        "view_cache_misses": view_misses,
        "recipient_cache_misses": recipient_misses,
        "view_miss_share": round(view_misses / messages, 4) if messages else 0.0,
        "recipient_miss_share": round(recipient_misses / messages, 4) if messages else 0.0,
    }
