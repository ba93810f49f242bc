"""What a failure cost, from the record of the posters and of every library-like client.

Each failure owns the window from its kill to the next kill (the last one: to the end of the run).
Per window:
- ``acked``: POSTs answered 200 (the work done: a run with few of them proves little);
- ``acked_lost``: of those, messages storage does not hold at the end;
- ``http_5xx`` / ``http_503``: answers >= 500 (503 is the documented storage-outage answer);
- ``silent_gap_clients``: clients that, within one session, got a message of a guild but not an
  earlier acknowledged one of that guild (acknowledged before the later one was posted), or that
  stayed in a session with the guild available to the end without ever getting it;
- ``never_recovered``: (client, message) pairs neither delivered nor fetched through history;
- ``duplicates``, ``seq_gaps``, ``op9``, ``resumes``, ``reidentifies`` (READY after the first);
- ``bystander_disrupted``: clients of the bystander guild with any op 9, re-identify, resume or
  disconnect in the window;
- ``recover_s``: from the kill until every client got a message posted after the kill;
  ``slowest`` (JSON only): the last client to, its guilds, and its events and outages since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rayguild.benchmarks.library_client import LibraryClient


@dataclass
class Post:
    guild_id: int
    channel_id: int
    started: float
    answered: float = 0.0
    status: int = 0  # 0: no answer (connection error)
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    kind: str
    target: str
    at: float
    restored_s: float  # how long the kill (and restart, for a process we restart) took


@dataclass(frozen=True, slots=True)
class Member:
    client: LibraryClient
    guild_ids: frozenset[int]
    bystander: bool


def silent_gaps(member: Member, acked: Sequence[Post]) -> set[int]:
    """Ids of acknowledged messages this client missed without being told (see the module doc).
    A message posted while its guild was unavailable to the session (GUILD_DELETE until the next
    GUILD_CREATE) is excused: the client was told, and fetches history when the guild is back. So
    is one lost on its way just before the client was told (in the shard or relay that died):
    nothing posted after it arrived live before the GUILD_DELETE, so the gap ends at the outage."""
    client, missed = member.client, set()
    for index, inc in enumerate(client.incarnations):
        arrived: dict[int, float] = {}  # message id -> when it was first delivered in this session
        for mid, hits in client.delivered.items():
            times = [t for i, t in hits if i == index]
            if times:
                arrived[mid] = min(times)
        got = set(arrived)
        live_to_end = inc.ended is None and not client.counters.fatal_close
        for guild_id, created in inc.created.items():
            if guild_id not in member.guild_ids:
                continue
            posts = [p for p in acked if p.guild_id == guild_id and p.started > created]
            outages = inc.unavailable.get(guild_id, [])
            excused = {p.message_id for p in posts if _told(p, posts, outages, arrived)}
            latest = max((p.started for p in posts if p.message_id in got), default=None)
            still_there = live_to_end and not any(back == float("inf") for _, back in outages)
            for post in posts:
                if post.message_id in got or post.message_id in excused:
                    continue
                if (latest is not None and post.answered < latest) or still_there:
                    missed.add(post.message_id or 0)
    return missed


def _told(post: Post, posts: list[Post], outages: list[list[float]], arrived: dict[int, float]) -> bool:
    """Whether the client was told of ``post``'s guild being unavailable before it could notice
    the post missing: the post is in an outage, or just before one with nothing posted after it
    arriving live before the GUILD_DELETE (``arrived``: message id -> when it was delivered)."""
    for gone, back in outages:
        if post.started >= back:
            continue
        if post.answered > gone:
            return True
        later = (q for q in posts if q.started > post.answered and q.message_id in arrived)
        if not any(arrived[q.message_id or 0] < gone for q in later):
            return True
    return False


def window_of(at: float, failures: Sequence[Failure], end: float) -> tuple[float, float]:
    later = [f.at for f in failures if f.at > at]
    return at, min(later, default=end)


def summarize(
    failures: Sequence[Failure],
    posts: Sequence[Post],
    members: Sequence[Member],
    stored: set[int],
    end: float,
) -> list[dict[str, Any]]:
    acked_all = [p for p in posts if p.status == 200 and p.message_id is not None]
    gaps = {id(m): silent_gaps(m, acked_all) for m in members}
    rows = []
    for failure in failures:
        lo, hi = window_of(failure.at, failures, end)
        in_window = [p for p in posts if lo <= p.started < hi]
        acked = [p for p in in_window if p.status == 200 and p.message_id is not None]
        acked_ids = {p.message_id for p in acked}

        def events(kind: str, who: Sequence[Member] = members, lo: float = lo, hi: float = hi) -> int:
            return sum(1 for m in who for t, k in m.client.log if k == kind and lo <= t < hi)

        never = 0
        for m in members:
            seen = set(m.client.delivered) | m.client.fetched
            never += sum(1 for p in acked if p.guild_id in m.guild_ids and p.message_id not in seen)
        after_kill = {p.message_id for p in acked_all if p.started > failure.at}
        firsts = [
            min((hits[0][1] for mid, hits in m.client.delivered.items() if mid in after_kill), default=None)
            for m in members
        ]
        bystanders = [m for m in members if m.bystander]
        disrupted = sum(
            1 for m in bystanders
            if any(lo <= t < hi and k in ("op9", "identify", "resumed", "disconnect") for t, k in m.client.log)
        )  # fmt: skip
        rows.append({
            "failure": failure.kind, "target": failure.target,
            "acked": len(acked), "acked_lost": len(acked_ids - stored),
            "http_5xx": sum(1 for p in in_window if p.status >= 500),
            "http_503": sum(1 for p in in_window if p.status == 503),
            "silent_gap_clients": sum(1 for m in members if gaps[id(m)] & acked_ids),
            "never_recovered": never,
            "duplicates": events("duplicate"), "seq_gaps": events("seq_gap"),
            "op9": events("op9"), "resumes": events("resumed"),
            "reidentifies": events("identify"),
            "bystander_disrupted": f"{disrupted}/{len(bystanders)}",
            "recover_s": _recovery(firsts, failure.at),
            "slowest": _slowest(members, firsts, failure.at),
        })  # fmt: skip
    return rows


def _slowest(members: Sequence[Member], firsts: Sequence[float | None], at: float) -> dict[str, Any]:
    """The client that recovered last (JSON only, to read a long ``recover_s``): its guilds, when
    its first live message after the kill came, and what it lived through since the kill."""
    known = [(t, i) for i, t in enumerate(firsts) if t is not None]
    missing = [i for i, t in enumerate(firsts) if t is None]
    index = missing[0] if missing else max(known)[1] if known else None
    if index is None:
        return {}
    member = members[index]
    events = [(round(t - at, 2), kind) for t, kind in member.client.log if t >= at]
    outages = [
        (guild_id, round(gone - at, 2), round(back - at, 2) if back != float("inf") else None)
        for inc in member.client.incarnations
        for guild_id, spans in inc.unavailable.items()
        for gone, back in spans
        if back >= at
    ]
    first = firsts[index]
    return {
        "guilds": sorted(str(g) for g in member.guild_ids), "bystander": member.bystander,
        "first_live_s": None if first is None else round(first - at, 2),
        "events": events[:20], "outages": outages[:20],
    }  # fmt: skip


def _recovery(firsts: Sequence[float | None], at: float) -> float | str:
    """Seconds from ``at`` until the last client got its first post-kill message ("never" if one
    never did)."""
    known = [t for t in firsts if t is not None]
    return round(max(known) - at, 2) if known and len(known) == len(firsts) else "never"
