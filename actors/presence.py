"""PresenceShard: owns the presences of the users the ring gives it, and fans changes out via guilds.

A user's presence is the merge of all their live sessions (``SessionPresence``, as each edge last
reported it): the status of the most recently updated session ("invisible" is shown as
offline), the activities of every visible session, and ``client_status`` per client kind. A user
is online while any session lives, also while it is detached and resumable; when the edge
reports that the last session ended (closed, or not resumed within the replay window) the user
goes offline and that is fanned out once.

A change is published once per guild the user's sessions are in (PRESENCE_UPDATE, gated on the
GUILD_PRESENCES intent); the guild's ordinary fan-out path (batching per session shard, relays,
passive pruning in large guilds) takes it from there, so a presence change costs O(guilds)
calls here and O(session shards) below, never one per recipient.

A restarted shard has lost its memory: it ``rebuild``s from the sessions the edges still hold,
and the edges then send their sessions one PRESENCES_REPLACE (``rayguild.actors.session_presence``),
so no session keeps a presence that changed (or ended) while the shard was down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rayguild.actors import commands as c
from rayguild.actors.commands import Publish
from rayguild.actors.push import PushRequest, SubmitResult
from rayguild.actors.transport import Endpoint
from rayguild.actors.users import UserPath
from rayguild.fanout.events import GUILD_PRESENCES
from rayguild.ids import SessionId

PublishFn = Callable[[Publish], Awaitable[object]]
SubmitPushFn = Callable[[list[PushRequest]], Awaitable[SubmitResult]]
OFFLINE = "offline"
OFFLINE_SHOWN: dict[str, Any] = {"status": OFFLINE, "activities": [], "client_status": {}}


@dataclass(frozen=True, slots=True)
class SessionPresence:
    """What one session says of its user: sent by its edge on identify, op 3, detach and resume."""

    user_id: int
    session_id: SessionId
    guild_ids: tuple[int, ...]
    status: str = "online"
    activities: tuple[dict[str, Any], ...] = ()
    client: str = "desktop"  # Discord's client_status key: desktop, mobile or web
    connected: bool = True  # False while detached (resumable): the user is still online
    # Where the session lives and what it asked for: user-addressed events go there (-1: nowhere).
    shard: int = -1
    slot: int = -1
    intents: int = 0
    bot: bool = False


@dataclass(slots=True)
class UserPresence:
    sessions: dict[str, SessionPresence] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # session -> update counter (newest wins)
    shown: dict[str, Any] | None = None  # what was last published
    guilds: frozenset[int] = frozenset()

    def merged(self) -> dict[str, Any]:
        visible = [s for s in self.sessions.values() if s.status not in ("invisible", OFFLINE)]
        if not visible:
            return dict(OFFLINE_SHOWN)
        newest = max(visible, key=lambda s: self.order[s.session_id])
        return {
            "status": newest.status,
            "activities": [a for s in visible for a in s.activities],
            "client_status": {
                s.client: s.status for s in sorted(visible, key=lambda s: self.order[s.session_id])
            },
        }


class PresenceShard:
    def __init__(
        self,
        index: int,
        publish: PublishFn,
        submit_push: SubmitPushFn | None = None,
        users: UserPath | None = None,
    ) -> None:
        self.index = index
        self._publish = publish
        self._submit_push = submit_push
        self.user_path = users or UserPath()
        self.users: dict[int, UserPresence] = {}
        self.by_guild: dict[int, set[int]] = {}  # guild -> users with a live session in it
        self._counter = 0
        self.published = 0

    async def handle(self, cmd: object) -> object:
        """Every presence (user) shard operation is a command (``rayguild.actors.commands``)."""
        match cmd:
            case c.UpdatePresence(record):
                await self.update(record)
                return None
            case c.EndSession(user_id, session_id):
                await self.disconnect(user_id, session_id)
                return None
            case c.PushIfOffline(requests):
                return await self.push_if_offline(list(requests))
            case c.VisiblePresences(guild_ids, limit):
                return await self.visible(list(guild_ids), limit)
            case c.DeliverToUsers(user_ids, t, d, intent):
                return await self.deliver(user_ids, t, d, intent)
            case c.Membership(user_id, guild_id, joined):
                return await self.membership(user_id, guild_id, joined)
            case c.ForgetSessionShard(shard):
                return await self.session_shard_lost(shard)
            case c.Stats():
                return await self.stats()
        raise TypeError(f"a presence shard does not handle {type(cmd).__name__}")

    # -- the edge's calls -------------------------------------------------------------------
    async def update(self, record: SessionPresence) -> None:
        """A session started, changed its presence (op 3), detached or resumed."""
        user = self.users.setdefault(record.user_id, UserPresence())
        self._counter += 1
        user.sessions[record.session_id] = record
        user.order[record.session_id] = self._counter
        await self._changed(record.user_id, user)

    async def disconnect(self, user_id: int, session_id: str) -> None:
        """The session ended for good; the user's last session ending makes them offline (once)."""
        user = self.users.get(user_id)
        if user is None or user.sessions.pop(session_id, None) is None:
            return
        user.order.pop(session_id, None)
        await self._changed(user_id, user)

    async def push_if_offline(self, requests: list[PushRequest]) -> int:
        """Hand the notifications of users with no connected session to their push shards."""
        offline = [r for r in requests if not self.active(r.user_id)]
        if not offline or self._submit_push is None:
            return 0
        result = await self._submit_push(offline)
        return result.accepted

    async def visible(self, guild_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
        """The shown presences of this shard's online users, per guild (at most ``limit`` each)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for guild_id in guild_ids:
            shown = []
            for user_id in sorted(self.by_guild.get(guild_id, ())):
                user = self.users[user_id]
                if user.shown is not None and user.shown["status"] != OFFLINE:
                    shown.append(self._presence(user_id, guild_id, user.shown))
                    if len(shown) >= limit:
                        break
            out[guild_id] = shown
        return out

    # -- the user path (``rayguild.actors.users``) -------------------------------------------
    async def deliver(self, user_ids: Sequence[int], t: str, d: dict[str, Any], intent: int = 0) -> int:
        """Queue ``t``/``d`` for every live session of each user (gated on ``intent``); returns
        how many sessions it goes to. Unknown users are skipped."""
        records = [r for u in user_ids if (user := self.users.get(u)) for r in user.sessions.values()]
        return self.user_path.send(records, self.user_path.dispatch(t, d, intent), intent)

    async def membership(self, user_id: int, guild_id: int, joined: bool) -> int:
        """The user entered (GUILD_CREATE) or left (GUILD_DELETE) a guild: every session of theirs
        follows; their presence is then published to that guild too (or no more)."""
        user = self.users.get(user_id)
        if user is None:
            return 0
        records = list(user.sessions.values())
        path = self.user_path
        changed = await (path.join(records, guild_id) if joined else path.leave(records, guild_id))
        for record in changed:
            guilds = {*record.guild_ids, guild_id} if joined else set(record.guild_ids) - {guild_id}
            if record.session_id in user.sessions:
                user.sessions[record.session_id] = replace(record, guild_ids=tuple(sorted(guilds)))
        self._index(user_id, user)
        return len(changed)

    async def session_shard_lost(self, shard: int) -> int:
        """Session shard ``shard`` restarted empty: its slots belong to new sessions now, so no
        user-addressed event goes to the old ones (their presence stays until their edge says)."""
        lost = 0
        for user in self.users.values():
            for session_id, record in list(user.sessions.items()):
                if record.shard == shard:
                    user.sessions[session_id] = replace(record, shard=-1, slot=-1)
                    lost += 1
        if self.user_path.outbox is not None:
            self.user_path.outbox.restart(shard)
        return lost

    # -- state -------------------------------------------------------------------------------
    def active(self, user_id: int) -> bool:
        user = self.users.get(user_id)
        return user is not None and any(s.connected for s in user.sessions.values())

    def rebuild(self, records: Iterable[SessionPresence]) -> int:
        """A restarted shard's state from the sessions the edges hold; nothing is published
        (the edges resync their sessions with PRESENCES_REPLACE instead). Returns the users."""
        self.users.clear()
        self.by_guild.clear()
        for record in records:
            user = self.users.setdefault(record.user_id, UserPresence())
            self._counter += 1
            user.sessions[record.session_id] = record
            user.order[record.session_id] = self._counter
        for user_id, user in self.users.items():
            user.shown = user.merged()
            self._index(user_id, user)
        return len(self.users)

    async def _changed(self, user_id: int, user: UserPresence) -> None:
        merged = user.merged()
        guilds = user.guilds | frozenset(g for s in user.sessions.values() for g in s.guild_ids)
        if not user.sessions:
            self.users.pop(user_id, None)
        previous, user.shown = user.shown, merged
        before = user.guilds
        self._index(user_id, user)
        if merged == (previous or OFFLINE_SHOWN):
            # Unchanged, but guilds joined since (a session's op 3 reports them) must see it.
            guilds = user.guilds - before if merged["status"] != OFFLINE else frozenset()
        for guild_id in sorted(guilds):
            d = self._presence(user_id, guild_id, merged)
            self.published += 1
            await self._publish(Publish(guild_id, "PRESENCE_UPDATE", d, intent=GUILD_PRESENCES))

    def _index(self, user_id: int, user: UserPresence) -> None:
        now = frozenset(g for s in user.sessions.values() for g in s.guild_ids)
        for guild_id in user.guilds - now:
            members = self.by_guild.get(guild_id)
            if members is not None:
                members.discard(user_id)
                if not members:
                    del self.by_guild[guild_id]
        for guild_id in now - user.guilds:
            self.by_guild.setdefault(guild_id, set()).add(user_id)
        user.guilds = now

    @staticmethod
    def _presence(user_id: int, guild_id: int, shown: dict[str, Any]) -> dict[str, Any]:
        return {"user": {"id": str(user_id)}, "guild_id": str(guild_id), **shown}

    async def get(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return None if user is None else user.shown

    async def stats(self) -> dict[str, Any]:
        return {
            "presences": len(self.users),
            "published": self.published,
            "user_deliveries": self.user_path.delivered,
        }


class PresenceShardRef:
    """The presence (user) shard's typed client."""

    def __init__(self, ref: Endpoint) -> None:
        self.ref = ref

    async def update(self, record: SessionPresence) -> None:
        await self.ref.send(c.UpdatePresence(record))

    async def disconnect(self, user_id: int, session_id: str) -> None:
        await self.ref.send(c.EndSession(user_id, SessionId(session_id)))

    async def push_if_offline(self, requests: list[PushRequest]) -> int:
        return int(await self.ref.send(c.PushIfOffline(tuple(requests))))

    async def visible(self, guild_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
        return dict(await self.ref.send(c.VisiblePresences(tuple(guild_ids), limit)))

    async def deliver(self, user_ids: list[int], t: str, d: dict[str, Any], intent: int) -> int:
        return int(await self.ref.send(c.DeliverToUsers(tuple(u for u in user_ids), t, d, intent)))

    async def membership(self, user_id: int, guild_id: int, joined: bool) -> int:
        return int(await self.ref.send(c.Membership(user_id, guild_id, joined)))
