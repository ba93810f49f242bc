"""The ScyllaDB/Cassandra backend: Discord's schema through scylla-driver, never blocking the loop.

A write method returns once the database acknowledged it at the configured consistency. Only
non-null columns are written (unset values). History walks a channel's recorded buckets newest
first and skips empty ones. A nonce is claimed with a lightweight transaction, so a retried create
returns the first message. A partial row (an edit racing a delete) has no author and is never
read back, so a deleted message never returns. Identical reads in flight share one query.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from rayguild.errors import StorageUnavailable
from rayguild.storage import blobs_cql, scylla_dms, scylla_threads
from rayguild.storage.blobs import BlobStore
from rayguild.storage.coalesce import SingleFlight
from rayguild.storage.credentials import CQL_STATEMENTS as CREDENTIAL_STATEMENTS
from rayguild.storage.credentials import CQL_TABLES as CREDENTIAL_TABLES
from rayguild.storage.credentials import ScyllaCredentials
from rayguild.storage.models import (
    Channel,
    Device,
    Guild,
    Invite,
    Member,
    Overwrite,
    PendingPush,
    Role,
    SessionStarts,
    User,
)
from rayguild.storage.protocol import MAX_MEMBERS_LIMIT, MAX_PUSH_PAGE
from rayguild.storage.scylla_bots import BOTS_STATEMENTS, BOTS_TABLES, ScyllaBotsMixin
from rayguild.storage.scylla_messages import ScyllaMessages
from rayguild.storage.scylla_moderation import MODERATION_STATEMENTS, MODERATION_TABLES, ScyllaModeration
from rayguild.storage.scylla_reactions import ScyllaReactions
from rayguild.storage.scylla_schema import (
    ADDED_MESSAGE_COLUMNS,
    INVITE_COLUMNS,
    STATEMENTS,
    TABLES,
    keyspace_cql,
)
from rayguild.storage.scylla_session import CqlSession, Row
from rayguild.storage.semantics import (
    MemberChange,
    buckets_text,
    invite_live,
    invite_usable,
    iter_pages,
    session_starts_of,
)

MEMBER_CAS_ATTEMPTS = 32  # concurrent changes to one member; each retry follows a winner


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _channel(r: Row) -> Channel:
    return Channel(
        id=r["channel_id"], guild_id=r["guild_id"], name=r["name"], type=r["type"],
        position=r["position"], topic=r["topic"], parent_id=r["parent_id"],
        permission_overwrites=tuple(Overwrite(*o) for o in r["overwrites"] or ()),
    )  # fmt: skip


def _member(r: Row) -> Member:
    return Member(r["guild_id"], r["user_id"], r["joined_at_ms"], tuple(r["roles"] or ()), r["nick"])


def _invite(r: Row) -> Invite | None:
    if r["guild_id"] is None:  # only what a use racing a delete leaves behind
        return None
    return Invite(**{k: r[k] for k in INVITE_COLUMNS})


class ScyllaStorage(
    ScyllaMessages, ScyllaReactions, scylla_dms.ScyllaDms, ScyllaBotsMixin, scylla_threads.ScyllaThreads,
    ScyllaCredentials, ScyllaModeration,
):  # fmt: skip
    """``Storage`` on a ScyllaDB or Cassandra cluster; see storage/README.md for the settings.
    Attachment bytes are chunked rows in the same keyspace (``blobs_cql``)."""

    def __init__(
        self,
        hosts: Sequence[str],
        port: int,
        keyspace: str,
        datacenter: str,
        replication_factor: int,
        consistency: str,
        request_timeout_s: float = 5.0,
    ) -> None:
        self._db = CqlSession(hosts, port, datacenter, consistency, request_timeout_s)
        self._keyspace, self._datacenter, self._rf = keyspace, datacenter, replication_factor
        self._reads = SingleFlight()
        self._known_buckets: set[tuple[int, int]] = set()
        self.blobs: BlobStore = blobs_cql.CassandraBlobStore(self._db)

    @property
    def protocol_version(self) -> int:
        return self._db.protocol_version

    async def start(self) -> None:
        keyspace = keyspace_cql(self._keyspace, self._datacenter, self._rf)
        tables = (
            *TABLES, *blobs_cql.TABLES, *scylla_dms.TABLES, *BOTS_TABLES, *scylla_threads.TABLES,
            *CREDENTIAL_TABLES, *MODERATION_TABLES,
        )  # fmt: skip
        await self._db.connect([keyspace, f"USE {self._keyspace}", *tables], self._keyspace)
        await self._db.add_columns(self._keyspace, "messages", ADDED_MESSAGE_COLUMNS)
        await self._db.prepare(
            *STATEMENTS.values(),
            *scylla_dms.STATEMENTS.values(),
            *BOTS_STATEMENTS.values(),
            *scylla_threads.STATEMENTS.values(),
            *CREDENTIAL_STATEMENTS.values(),
            *MODERATION_STATEMENTS.values(),
        )
        await self.blobs.start()

    async def close(self) -> None:
        await self._db.close()

    # -- users -------------------------------------------------------------------------------

    async def create_user(self, user: User, token_hash: str) -> None:
        await self._run(
            "user_put", user.id, user.username, user.bot, user.global_name,
            user.avatar, user.discriminator,
        )  # fmt: skip
        await self._run("token_put", token_hash, user.id)
        self._reads.forget(("user", user.id), ("token", token_hash))

    async def get_user(self, user_id: int) -> User | None:
        rows = await self._read(("user", user_id), None, "user_get", user_id)
        if not rows:
            return None
        r = rows[0]
        return User(r["user_id"], r["username"], bool(r["bot"]), r["global_name"], r["avatar"],
                    r["discriminator"])  # fmt: skip

    async def get_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        # Concurrent single-partition reads (the driver pipelines them), not an IN over
        # partition keys, which would make one coordinator gather every partition.
        users = await asyncio.gather(*(self.get_user(uid) for uid in set(user_ids)))
        return {user.id: user for user in users if user is not None}

    async def user_by_token_hash(self, token_hash: str) -> User | None:
        rows = await self._read(("token", token_hash), None, "token_get", token_hash)
        return await self.get_user(rows[0]["user_id"]) if rows else None

    # -- guilds, channels, roles ----------------------------------------------------------------

    async def put_guild(self, guild: Guild) -> None:
        g = guild
        await self._run("guild_put", g.id, g.name, g.owner_id, g.icon, g.description)
        self._reads.forget(("guild", g.id))

    async def get_guild(self, guild_id: int) -> Guild | None:
        rows = await self._read(("guild", guild_id), "guild", "guild_get", guild_id)
        if not rows:
            return None
        r = rows[0]
        return Guild(r["guild_id"], r["name"], r["owner_id"], r["icon"], r["description"])

    async def delete_guild(self, guild_id: int) -> None:
        async for member in self.iter_members(guild_id):
            await self._run("ug_del", member.user_id, guild_id)
            self._reads.forget(("user_guilds", member.user_id))
        for channel in await self.list_channels(guild_id):
            await self._run("chan_del", channel.id)
            self._reads.forget(("channel", channel.id))
        for row in await self._run("ginv_list", guild_id):
            await self._run("inv_del", row["code"])
            self._reads.forget(("invite", row["code"]))
        for drop in ("member_drop", "role_drop", "gchan_drop", "ginv_drop", "guild_del"):
            await self._run(drop, guild_id)
        self._reads.forget(("guild", guild_id))

    async def put_channel(self, channel: Channel) -> None:
        c = channel
        overwrites = [(o.id, o.type, o.allow, o.deny) for o in c.permission_overwrites]
        values = (c.id, c.guild_id, c.name, c.type, c.position, c.topic, c.parent_id,
                  tuple(overwrites))  # fmt: skip
        await self._run("chan_put", *values)
        await self._run("gchan_put", *values)
        self._reads.forget(("channel", c.id), ("guild", c.guild_id))

    async def get_channel(self, channel_id: int) -> Channel | None:
        rows = await self._read(("channel", channel_id), None, "chan_get", channel_id)
        return _channel(rows[0]) if rows else None

    async def list_channels(self, guild_id: int) -> list[Channel]:
        rows = await self._read(("guild", guild_id), "channels", "chan_list", guild_id)
        return [_channel(r) for r in rows]

    async def delete_channel(self, channel_id: int) -> None:
        channel = await self.get_channel(channel_id)
        if channel is not None:
            await self._run("gchan_del", channel.guild_id, channel_id)
            self._reads.forget(("guild", channel.guild_id))
        await self._run("chan_del", channel_id)
        self._reads.forget(("channel", channel_id))

    async def put_role(self, role: Role) -> None:
        r = role
        await self._run(
            "role_put", r.guild_id, r.id, r.name, r.permissions, r.position, r.color, r.hoist,
            r.mentionable,
        )  # fmt: skip
        self._reads.forget(("guild", r.guild_id))

    async def list_roles(self, guild_id: int) -> list[Role]:
        rows = await self._read(("guild", guild_id), "roles", "role_list", guild_id)
        return [
            Role(r["role_id"], r["guild_id"], r["name"], r["permissions"], r["position"],
                 r["color"], r["hoist"], r["mentionable"])
            for r in rows
        ]  # fmt: skip

    async def delete_role(self, guild_id: int, role_id: int) -> None:
        await self._run("role_del", guild_id, role_id)
        self._reads.forget(("guild", guild_id))

    # -- members -------------------------------------------------------------------------------

    async def put_member(self, member: Member) -> None:
        m = member
        await self._run("member_put", m.guild_id, m.user_id, m.joined_at_ms, m.roles, m.nick)
        await self._run("ug_put", m.user_id, m.guild_id)
        self._reads.forget(("guild", m.guild_id), ("user_guilds", m.user_id))

    async def get_member(self, guild_id: int, user_id: int) -> Member | None:
        key = ("member", user_id)
        rows = await self._read(("guild", guild_id), key, "member_get", guild_id, user_id)
        return _member(rows[0]) if rows else None

    async def change_member(
        self, guild_id: int, user_id: int, change: MemberChange
    ) -> tuple[Member, Member] | None:
        """Compare-and-set on the role list and nick (a lightweight transaction), retried (with a
        growing random pause) until no other change came between the read and the write. A CAS
        that times out may or may not have applied; every ``MemberChange`` is idempotent, so it
        is read and applied again, and the first state read is reported as the one before."""
        first: Member | None = None
        failure: StorageUnavailable | None = None
        try:
            for attempt in range(MEMBER_CAS_ATTEMPTS):
                if attempt:
                    await asyncio.sleep(random.uniform(0, 0.005 * attempt))
                rows = await self._run("member_get", guild_id, user_id)
                if not rows:
                    return None
                before = _member(rows[0])
                first = first or before
                after = change.applied(before)
                expected = list(before.roles) or None  # Cassandra keeps an empty list as null
                try:
                    (result,) = await self._run(
                        "member_cas", list(after.roles), after.nick, guild_id, user_id, expected, before.nick
                    )
                except StorageUnavailable as exc:  # a CAS timeout under contention: ambiguous
                    failure = exc
                    continue
                if result["[applied]"]:
                    return (first if failure is not None else before), after
        finally:
            self._reads.forget(("guild", guild_id), ("user_guilds", user_id))
        raise StorageUnavailable(
            f"member {user_id} kept changing under {MEMBER_CAS_ATTEMPTS} attempts"
        ) from failure

    async def remove_member(self, guild_id: int, user_id: int) -> bool:
        existed = await self.get_member(guild_id, user_id) is not None
        await self._run("member_del", guild_id, user_id)
        await self._run("ug_del", user_id, guild_id)
        self._reads.forget(("guild", guild_id), ("user_guilds", user_id))
        return existed

    async def list_members(self, guild_id: int, after: int = 0, limit: int = 1) -> list[Member]:
        if not 1 <= limit <= MAX_MEMBERS_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_MEMBERS_LIMIT}")
        key = ("members", after, limit)
        rows = await self._read(("guild", guild_id), key, "member_page", guild_id, after, limit)
        return [_member(r) for r in rows]

    def iter_members(self, guild_id: int, page_size: int = MAX_MEMBERS_LIMIT) -> AsyncIterator[Member]:
        return iter_pages(self.list_members, guild_id, page_size)

    async def guilds_of_user(self, user_id: int) -> list[int]:
        rows = await self._read(("user_guilds", user_id), None, "ug_list", user_id)
        return [r["guild_id"] for r in rows]

    # -- invites -------------------------------------------------------------------------------

    async def put_invite(self, invite: Invite) -> None:
        i = invite
        await self._run("ginv_put", i.guild_id, i.code)
        await self._run(
            "inv_put", i.code, i.guild_id, i.channel_id, i.inviter_id, i.created_at_ms,
            i.max_age_s, i.max_uses, i.uses,
        )  # fmt: skip
        self._reads.forget(("invite", i.code))

    async def get_invite(self, code: str) -> Invite | None:
        rows = await self._read(("invite", code), None, "inv_get", code)
        invite = _invite(rows[0]) if rows else None
        return invite if invite is not None and invite_live(invite, _now_ms()) else None

    async def use_invite(self, code: str) -> Invite | None:
        """Compare-and-set on ``uses``: concurrent uses never exceed ``max_uses``."""
        try:
            while True:
                rows = await self._run("inv_get", code)
                invite = _invite(rows[0]) if rows else None
                if invite is None or not invite_usable(invite, _now_ms()):
                    return None
                (result,) = await self._run("inv_use", invite.uses + 1, code, invite.uses)
                if result["[applied]"]:
                    return replace(invite, uses=invite.uses + 1)
        finally:
            self._reads.forget(("invite", code))

    async def delete_invite(self, code: str) -> bool:
        (result,) = await self._run("inv_del", code)
        self._reads.forget(("invite", code))
        return bool(result["[applied]"])

    # -- push: devices and outbox ----------------------------------------------------------------

    async def put_device(self, device: Device) -> None:
        await self._run("dev_put", device.user_id, device.token, device.provider, device.created_at_ms)

    async def list_devices(self, user_id: int) -> list[Device]:
        rows = await self._run("dev_list", user_id)
        return [Device(r["user_id"], r["provider"], r["device_token"], r["created_at_ms"] or 0) for r in rows]

    async def delete_device(self, user_id: int, token: str) -> bool:
        existed = bool(await self._run("dev_get", user_id, token))
        await self._run("dev_del", user_id, token)
        return existed

    async def put_pushes(self, pushes: Sequence[PendingPush]) -> None:
        # Concurrent single-row writes, each acknowledged at the configured consistency; if one
        # fails the call raises and the caller does not acknowledge (rows already written are
        # delivered later at most once per key: the keys make a replay harmless).
        await asyncio.gather(*(
            self._run("push_put", p.shard, p.key, p.user_id, p.provider, p.token, p.body,
                      p.created_at_ms)
            for p in pushes
        ))  # fmt: skip

    async def list_pushes(self, shard: int, after: str = "", limit: int = MAX_PUSH_PAGE) -> list[PendingPush]:
        if not 1 <= limit <= MAX_PUSH_PAGE:
            raise ValueError(f"limit must be 1-{MAX_PUSH_PAGE}")
        rows = await self._run("push_page", shard, after, limit)
        return [
            PendingPush(r["shard"], r["push_key"], r["user_id"], r["provider"], r["device_token"], r["body"],
                        r["created_at_ms"] or 0)
            for r in rows
        ]  # fmt: skip

    async def delete_pushes(self, shard: int, keys: Sequence[str]) -> None:
        await asyncio.gather(*(self._run("push_del", shard, key) for key in keys))

    # -- session starts (identify limits) ------------------------------------------------------

    async def get_session_starts(self, user_id: int) -> SessionStarts | None:
        rows = await self._run("starts_get", user_id)
        if not rows:
            return None
        r = rows[0]
        return session_starts_of(
            r["user_id"], r["version"], r["window_start_ms"], r["used"], r["buckets"] or ""
        )

    async def swap_session_starts(self, record: SessionStarts) -> bool:
        r = record
        values = (r.version, r.window_start_ms, r.used, buckets_text(r.bucket_last_ms), r.user_id)
        if r.version == 1:
            (row,) = await self._run("starts_new", *values)
        else:
            (row,) = await self._run("starts_swap", *values, r.version - 1)
        return bool(row["[applied]"])
