"""Schemathesis against a live rayguild: for every operation of Discord's OpenAPI description
(docs/openapi/) that the edge serves, cases generated from the description (valid and invalid
parameters, queries and bodies) are sent with a bot token, over a real socket, to an in-process
edge on embedded SQLite. No answer may be a 5xx (schemathesis's ``not_a_server_error``), and every
4xx but 429 must carry Discord's error shape (``code`` and ``message``, and ``errors`` an object when
present). Not the description's ``ErrorResponse`` schema itself: it types every nested error's
``code`` as an integer, while Discord's field errors (and so rayguild's) carry string codes such as
``"BASE_TYPE_REQUIRED"``, so no real 400 50035 body validates against it.

Path ids are half the time the ids of a fresh world the bot owns (guild, channel, message, role,
webhook, thread, command...), so the generated bodies reach the handlers' logic rather than only
the "Unknown ..." lookups; the other half are generated. Bounded by a few examples per operation
(deterministic: derandomized) and a timeout per request. Every served operation (at least
``MIN_OPERATIONS``) must have been exercised, and at least ``MIN_ANSWERED`` of them must have
answered some case with a 2xx.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from rayguild.config import Config
from rayguild.http_api.app import API_PREFIX, build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.sqlite import SqliteStorage
from scripts.api_coverage import SPEC, operations, served
from tests.http.spec import FUZZED

EXAMPLES = 6  # per operation: about 40 s of CPU for the whole run
REQUEST_TIMEOUT_S = 60  # a request unanswered this long fails its operation (a hang, not slowness)
MIN_OPERATIONS = 150
MIN_ANSWERED = 70  # operations a generated case got a 2xx from: the cases reach the handlers' logic
MAX_LINE = 8190  # aiohttp's default max_line_size


class LiveEdge:
    """The edge app over a LocalCluster, served on a loopback port by its own event loop thread."""

    def __init__(self, db: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.cluster, self.runner, self.port = self._run(self._start(db))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def _start(self, db: Path) -> tuple[LocalCluster, Any, int]:
        from aiohttp import web

        config = Config(sqlite_path=str(db), tick_ms=1.0, identify_interval_s=0.0)
        cluster = LocalCluster(config, lambda: SqliteStorage(db))
        runner = web.AppRunner(build_app(await cluster.edge(0), RateLimiter(limit_scale=1000)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return cluster, runner, runner.addresses[0][1]

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.cluster.close()

    def close(self) -> None:
        self._run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[LiveEdge]:
    live = LiveEdge(tmp_path / "schemathesis.sqlite3")
    yield live
    live.close()


class Bot:
    """A bot account on the live edge and the world it owns, as path parameters by name."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()
        self.user = self._register("fuzzbot", bot=True)
        self.headers = {"Authorization": f"Bot {self.user['token']}"}

    def _register(self, name: str, bot: bool) -> dict[str, Any]:
        response = self.http.post(f"{self.base}/auth/register", json={"username": name, "bot": bot})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = self.http.request(method, self.base + path, json=body, headers=headers or self.headers)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.status_code != 204 else None

    def world(self) -> dict[str, str]:
        """A fresh guild with a human member, a message, a role, a webhook, a thread, a command."""
        human = self._register("human", bot=False)
        me = self.user["user"]["id"]
        guild = self.call("POST", "/guilds", {"name": "Fuzzed"})
        cid = self.call("GET", f"/guilds/{guild['id']}/channels")[0]["id"]
        invite = self.call("POST", f"/channels/{cid}/invites", {})
        self.call("POST", f"/invites/{invite['code']}", headers={"Authorization": human["token"]})
        message = self.call("POST", f"/channels/{cid}/messages", {"content": "fuzz me"})
        role = self.call("POST", f"/guilds/{guild['id']}/roles", {"name": "fuzzed"})
        hook = self.call("POST", f"/channels/{cid}/webhooks", {"name": "fuzzhook"})
        thread = self.call("POST", f"/channels/{cid}/threads", {"name": "fuzzing", "type": 11})
        command = self.call("POST", f"/applications/{me}/commands", {"name": "fuzz", "description": "x"})
        return {
            "guild_id": guild["id"], "channel_id": cid, "message_id": message["id"], "role_id": role["id"],
            "user_id": human["user"]["id"], "application_id": me, "webhook_id": hook["id"],
            "webhook_token": hook["token"], "command_id": command["id"], "code": invite["code"],
            "overwrite_id": human["user"]["id"], "emoji_name": "\N{THUMBS UP SIGN}", "thread_id": thread["id"],
        }  # fmt: skip


def routed(response: requests.Response) -> bool:
    """Whether the request reached the app: aiohttp's HTTP parser refuses a request line longer
    than its limit (8190 bytes; generated path ids can be that long) with a plain-text 400 first."""
    return len(response.request.url or "") + len(response.request.method or "") + 10 < MAX_LINE


def fuzz(operation: Any, ids: dict[str, str], bot: Bot) -> Counter[int]:
    """Send an operation's generated cases (with the world's ids and with generated ones); the
    statuses answered. Raises the first failing (shrunk) case's error."""
    label, statuses = f"{operation.method.upper()} {operation.path}", Counter[int]()
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=ids),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=cases)
    def run(case: Any) -> None:
        response = case.call(
            base_url=bot.base, session=bot.http, headers=bot.headers, timeout=REQUEST_TIMEOUT_S
        )
        statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500 and response.status_code != 429 and routed(response):
            error = response.json()
            shaped = isinstance(error.get("code"), int) and isinstance(error.get("message"), str)
            assert shaped and isinstance(error.get("errors", {}), dict), (
                f"{label} {response.status_code}: {response.text[:200]}"
            )

    run()
    return statuses


def test_schemathesis_finds_no_server_error(edge: LiveEdge) -> None:
    document = json.loads(SPEC.read_text())
    answers = asyncio.run(served(operations(document)))
    wanted = {key for key, how in answers.items() if how != "no"}
    bot = Bot(f"http://127.0.0.1:{edge.port}{API_PREFIX}")
    exercised: dict[tuple[str, str], Counter[int]] = {}
    failures: list[str] = []
    world: dict[str, str] | None = None
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key not in wanted:
            continue
        if world is None:
            world = bot.world()
        ids = {p.name: world[p.name] for p in operation.path_parameters if p.name in world}
        try:
            exercised[key] = fuzz(operation, ids, bot)
            if key[0] == "DELETE":  # it may have removed what the world's ids name: a new one
                world = None
        except (Exception, BaseExceptionGroup) as failure:  # all operations run; all failures reported
            failures.append(f"{key[0]} {key[1]}: {failure}"[:1500])
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)
    FUZZED.update(exercised)
    answered_2xx = sum(any(200 <= s < 300 for s in statuses) for statuses in exercised.values())
    sent = sum(sum(statuses.values()) for statuses in exercised.values())
    print(f"schemathesis: {len(exercised)} operations, {sent} cases, {answered_2xx} operations answered 2xx")
    assert set(exercised) == wanted and len(wanted) >= MIN_OPERATIONS, sorted(wanted - set(exercised))
    assert sent >= 4 * len(exercised) and answered_2xx >= MIN_ANSWERED, (sent, answered_2xx)
