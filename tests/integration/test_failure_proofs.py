"""Failure tests that cannot pass vacuously, on SQLite AND on the real Cassandra node.

Per kill (guild shard, relay, session shard, presence shard; ``ActorRef.kill`` restarts it):
library-like clients (``rayguild.benchmarks.library_client``: resume, identify again, fetch
history after GUILD_CREATE), each its own bot, in a target guild with relays and in a bystander
guild placed on the other guild shard; one poster per guild. Every run must show:
- work done: at least ``MIN_ACKED`` acknowledged messages, ``MIN_ACKED_AFTER`` of them posted
  after the kill, each of them in storage;
- no client with a silent gap, none with a duplicate or a seq gap, and every acknowledged message
  of a client's guild reached it (by the gateway or, after a re-identify, by history);
- the spared sessions (the bystander guild's for a guild, relay or presence kill; those on the
  surviving session shard for a session kill) complete by the gateway alone, never told anything;
- every client told op 9 identified again and then received a message posted after that;
- a guild, relay or presence kill costs no client a re-identify: the lost guild's sessions are
  told GUILD_DELETE unavailable, then GUILD_CREATE, and fetch what they missed by history.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import aiohttp
import pytest

from rayguild.actors import cluster
from rayguild.actors.hosts import snowflakes_for
from rayguild.actors.runtime import Runtime
from rayguild.benchmarks.chaos import create_schema
from rayguild.benchmarks.chaos_ledger import Member, Post, silent_gaps
from rayguild.benchmarks.library_client import LibraryClient
from rayguild.config import Config
from rayguild.http_api.auth import create_user
from rayguild.http_api.server import free_listen_ports, start_edge
from rayguild.ids import session_shard_index
from rayguild.storage import Storage, open_storage

pytestmark = pytest.mark.ray

POSTS_PER_GUILD = 24
KILL_AFTER = 8
MIN_ACKED = 2 * POSTS_PER_GUILD - 4
MIN_ACKED_AFTER = POSTS_PER_GUILD
TARGET_CLIENTS, BYSTANDER_CLIENTS = 4, 2
SETTLE_S = 60.0
QUICK_REIDENTIFY_S = (0.2, 0.5)  # Discord advises 1-5 s; shorter keeps the test short


@pytest.fixture(scope="module", params=["sqlite", "cassandra"])
def node(request: pytest.FixtureRequest, runtime: Runtime, ray_config: Config) -> Iterator[Runtime]:
    """A node (edges and shards of its own) on SQLite, or on the test Cassandra node."""
    storage: dict[str, object] = {}
    if request.param == "cassandra":
        address = os.environ.get("RAYGUILD_TEST_CASSANDRA")
        if not address:
            pytest.fail("RAYGUILD_TEST_CASSANDRA is not set; run the tests with scripts/test.sh")
        host, _, port = address.rpartition(":")
        storage = {
            "storage": "scylla", "scylla_hosts": (host,), "scylla_port": int(port),
            "scylla_keyspace": f"rayguild_failure_{int(time.time())}_{os.getpid()}",
        }  # fmt: skip
    config = replace(
        ray_config, namespace=f"rayguild-test-proofs-{request.param}", port=free_listen_ports(1),
        edge_port_base=free_listen_ports(2), relay_threshold_sessions=2, relay_size=2, **storage,  # type: ignore[arg-type]
    )  # fmt: skip
    if request.param == "cassandra":
        asyncio.run(create_schema(config))  # patiently: DDL is slow on a loaded box
    rt = Runtime(config, edge_factory=start_edge)
    rt.start()
    yield rt


class Run:
    def __init__(self, rt: Runtime, http: aiohttp.ClientSession) -> None:
        self.rt, self.http = rt, http
        self.api = f"http://127.0.0.1:{rt.config.port}/api/v10"
        self.members: list[Member] = []
        self.posts: list[Post] = []
        self.accounts: Storage | None = None
        self.final: dict[int, int] = {}  # guild id -> the message posted after the settle
        self.snowflakes = snowflakes_for(3, 2)  # the CLI's kind (rayguild user create); index 0 is its own

    async def call(self, method: str, path: str, token: str = "", body: object = None) -> dict[str, object]:
        headers = {"Authorization": f"Bot {token}"} if token else {}
        async with self.http.request(method, f"{self.api}{path}", json=body, headers=headers) as r:
            assert r.status < 300, await r.text()
            return dict(await r.json()) if r.status != 204 else {}

    async def bot(self, name: str) -> str:
        """A bot account as ``rayguild user create`` makes it (``/auth/register``: 5 a minute)."""
        if self.accounts is None:
            self.accounts = open_storage(self.rt.config)
            await self.accounts.start()
        return (await create_user(self.accounts, self.snowflakes, name, bot=True))[1]

    async def guild(self, owner: str, name: str) -> tuple[int, list[int], str, str]:
        """A guild with four text channels, an invite and a poster: (id, channels, poster, code)."""
        guild_id = int(str((await self.call("POST", "/guilds", owner, {"name": name}))["id"]))
        async with self.http.get(
            f"{self.api}/guilds/{guild_id}/channels", headers={"Authorization": f"Bot {owner}"}
        ) as r:
            channels = [int((await r.json())[0]["id"])]
        for i in range(3):  # message creates are limited to 5 per 5 s per channel
            made = await self.call("POST", f"/guilds/{guild_id}/channels", owner, {"name": f"c{i}"})
            channels.append(int(str(made["id"])))
        code = str((await self.call("POST", f"/channels/{channels[0]}/invites", owner, {}))["code"])
        poster = await self.bot(f"{name}-poster")
        await self.call("POST", f"/invites/{code}", poster)
        return guild_id, channels, poster, code

    async def clients(self, code: str, guild_id: int, count: int, bystander: bool) -> None:
        """``count`` clients of ``guild_id``, on the edges' own ports in turn (each edge has some)."""
        ports = [s["port"] for s in self.rt.ensure_started() if s.get("port")]
        for i in range(count):
            gateway = f"ws://127.0.0.1:{ports[len(self.members) % len(ports)]}"
            token = await self.bot(f"{guild_id % 100_000}-{i}")
            await self.call("POST", f"/invites/{code}", token)
            rng = random.Random(len(self.members))
            client = LibraryClient(self.http, self.api, gateway, token, rng, QUICK_REIDENTIFY_S)
            self.members.append(Member(client, frozenset({guild_id}), bystander))

    async def post(self, poster: str, guild_id: int, channel: int, n: int) -> None:
        post = Post(guild_id, channel, time.monotonic())
        self.posts.append(post)
        try:
            async with self.http.post(
                f"{self.api}/channels/{channel}/messages", json={"content": f"m{n}"},
                headers={"Authorization": f"Bot {poster}"},
            ) as r:  # fmt: skip
                post.status = r.status
                if r.status == 200:
                    post.message_id = int((await r.json())["id"])
        except aiohttp.ClientError:
            pass
        post.answered = time.monotonic()

    def acked(self, guild_ids: frozenset[int] | None = None) -> set[int]:
        return {
            p.message_id for p in self.posts
            if p.status == 200 and p.message_id and (guild_ids is None or p.guild_id in guild_ids)
        }  # fmt: skip

    async def stored(self, owner: str, channels: list[int]) -> set[int]:
        """Every message id storage holds in ``channels`` (up to 100 each: more than a run posts)."""
        ids: set[int] = set()
        for channel in channels:
            path = f"{self.api}/channels/{channel}/messages?limit=100"
            async with self.http.get(path, headers={"Authorization": f"Bot {owner}"}) as r:
                ids |= {int(m["id"]) for m in await r.json()}
        return ids

    async def stop(self, runners: list[asyncio.Task[None]]) -> None:
        """Stop every client (their ``run`` tasks) and the accounts' storage."""
        for member in self.members:
            await member.client.stop()
        if self.accounts is not None:
            await self.accounts.close()
        await asyncio.gather(*runners, return_exceptions=True)

    def complete(self, member: Member) -> bool:
        seen = set(member.client.delivered) | member.client.fetched
        return self.acked(member.guild_ids) <= seen


async def kill_under_load(rt: Runtime, target: str) -> tuple[Run, float, set[int]]:
    async with aiohttp.ClientSession() as http:
        run = Run(rt, http)
        owner = await run.bot(f"owner-{target}")
        target_guild, target_channels, target_poster, code = await run.guild(owner, f"t-{target}")
        await run.clients(code, target_guild, TARGET_CLIENTS, bystander=False)
        shard_of = rt.directory.guild_shard
        while True:  # the bystander guild lives on the other guild shard
            by_guild, by_channels, by_poster, code = await run.guild(owner, f"b-{target}")
            if shard_of(by_guild).ref.name != shard_of(target_guild).ref.name:
                break
        await run.clients(code, by_guild, BYSTANDER_CLIENTS, bystander=True)
        runners = [asyncio.create_task(m.client.run()) for m in run.members]
        await asyncio.wait_for(asyncio.gather(*(m.client.ready.wait() for m in run.members)), 60)
        refs = {
            "guild": shard_of(target_guild).ref, "session": rt.directory.session_shard(0).ref,
            "relay": cluster.ActorRef(f"relay-{target_guild}-0", rt.config.namespace),
            "presence": cluster.ActorRef("presence-0", rt.config.namespace),
        }  # fmt: skip
        await until_exists(refs["relay"])  # created in the background once the guild uses relays
        await asyncio.sleep(1.0)  # ... and applying its stream
        watcher = asyncio.create_task(rt.watch(0.5))
        killed_at = 0.0
        for n in range(POSTS_PER_GUILD):
            if n == KILL_AFTER:
                killed_at = time.monotonic()
                refs[target].kill(restart=True)
            await run.post(target_poster, target_guild, target_channels[n % 4], n)
            await run.post(by_poster, by_guild, by_channels[n % 4], n)
            await asyncio.sleep(0.1)
        await settle(lambda: all(run.complete(m) for m in run.members))
        # A last message per guild, after every re-identify: each client must receive it live.
        await run.post(target_poster, target_guild, target_channels[0], POSTS_PER_GUILD)
        await run.post(by_poster, by_guild, by_channels[0], POSTS_PER_GUILD)
        run.final = {p.guild_id: p.message_id or 0 for p in run.posts[-2:]}
        await settle(
            lambda: all(run.final[g] in m.client.delivered for m in run.members for g in m.guild_ids)
        )
        stored = await run.stored(owner, target_channels + by_channels)
        await run.stop(runners)
        watcher.cancel()
        return run, killed_at, stored


async def settle(done: Callable[[], bool]) -> None:
    """Until ``done()`` or ``SETTLE_S`` (the assertions after it then say what is missing)."""
    for _ in range(int(SETTLE_S / 0.25)):
        if done():
            return
        await asyncio.sleep(0.25)


async def until_exists(ref: cluster.ActorRef, timeout_s: float = SETTLE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not ref.exists():
        assert time.monotonic() < deadline, f"{ref.name} was never created"
        await asyncio.sleep(0.1)


def spared(run: Run, target: str) -> list[Member]:
    if target == "session":  # the sessions on the surviving edge
        return [m for m in run.members if session_shard_index(m.client.first_session_id or "") == 1]
    return [m for m in run.members if m.bystander]


@pytest.mark.parametrize("target", ["guild", "relay", "session", "presence"])
async def test_a_kill_costs_no_acknowledged_message_and_no_silent_gap(node: Runtime, target: str) -> None:
    run, killed_at, stored = await kill_under_load(node, target)
    acked = run.acked()
    after = {p.message_id for p in run.posts if p.status == 200 and p.started > killed_at}
    assert len(acked) >= MIN_ACKED and len(after) >= MIN_ACKED_AFTER, "too little work to prove anything"
    assert acked <= stored, "an acknowledged message is missing from storage"
    acked_posts = [p for p in run.posts if p.message_id in acked]
    for m in run.members:
        c = m.client
        assert not silent_gaps(m, acked_posts), f"silent gap ({c.counters})"
        assert (c.counters.duplicates, c.counters.seq_gaps, c.counters.fatal_close) == (0, 0, None)
        missing = sorted(run.acked(m.guild_ids) - set(c.delivered) - c.fetched)
        assert not missing, f"never recovered: {missing} (final: {run.final}, {c.counters}, {c.log[-6:]})"
        if c.counters.invalid_sessions:  # told op 9: identified again ...
            assert len(c.incarnations) >= 2
        (guild_id,) = m.guild_ids  # ... and, like every client, receives what is posted now
        assert run.final[guild_id] in c.delivered, f"the last message never arrived live ({c.counters})"
    if target != "session":  # only losing a session's own state costs it a re-identify
        for m in run.members:
            c = m.client
            assert (c.counters.identifies, c.counters.invalid_sessions) == (1, 0), f"re-identified: {c.log}"
        told = [m for m in run.members if m.client.incarnations[0].unavailable]
        outages = [o for m in told for spans in m.client.incarnations[0].unavailable.values() for o in spans]
        assert all(end < float("inf") for _, end in outages), "GUILD_CREATE after every GUILD_DELETE"
        assert not any(m.bystander for m in told), "the bystander guild was never unavailable"
        if target == "guild":
            assert len(told) == TARGET_CLIENTS, "every session of the lost guild is told"
    untouched = spared(run, target)
    assert untouched, "the run must have sessions the kill spares"
    for m in untouched:
        c = m.client
        assert (c.counters.identifies, c.counters.invalid_sessions, c.counters.disconnects) == (1, 0, 0)
        assert run.acked(m.guild_ids) <= set(c.delivered), "a spared session must get everything live"
