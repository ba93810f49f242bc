"""Browser tests: Debian's chromium (installed by scripts/chromium.sh), driven by Playwright, on a
real edge (the in-process cluster over a SQLite file) listening on a loopback port.

Each person is a fresh browser context (own storage and cookies). Every page's console errors
and uncaught exceptions are collected, and a test fails if any page logged one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.sqlite import SqliteStorage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 15_000  # a bound for each wait, generous for a loaded 2-core machine
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Site:
    url: str
    cluster: LocalCluster


@pytest.fixture
async def site(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    """The edge; a test may pass Config overrides with ``indirect`` parametrization."""
    db = tmp_path / "rayguild.sqlite3"
    overrides = getattr(request, "param", {})
    config = Config(sqlite_path=str(db), tick_ms=1.0, **overrides)
    cluster = LocalCluster(config, lambda: SqliteStorage(db))
    ctx = await cluster.edge(0)
    # Registration is limited to 5 a minute per address; every person here comes from 127.0.0.1.
    runner = web.AppRunner(build_app(ctx, RateLimiter(limit_scale=10)))
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ctx.resume_gateway_url = f"ws://127.0.0.1:{port}"
    yield Site(f"http://127.0.0.1:{port}", cluster)
    await runner.cleanup()
    await cluster.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    assert os.path.exists(CHROMIUM), "run the tests with scripts/test.sh: it installs Debian's chromium"
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    # launch() gives chromium a fresh, empty user-data dir of its own (removed on close).
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Person:
    """One person at one browser context."""

    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)  # gateway URLs the page opened
    binary_frames: int = 0  # frames received as bytes (zlib-stream)
    text_frames: int = 0  # frames received as text (none expected under zlib-stream)


NewPerson = Callable[..., Awaitable[Person]]


@pytest.fixture
async def person(browser: Browser, site: Site) -> AsyncIterator[NewPerson]:
    """A new person signed up at ``start`` (a path or URL), their page open on the app; console
    errors fail the test."""
    people: list[Person] = []

    async def make(name: str, start: str = "/register") -> Person:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        who = Person(name, context, page)
        watch(who, page)
        people.append(who)
        await page.goto(start if start.startswith("http") else f"{site.url}{start}")
        if start != "/register":  # any other page of the app opens on "sign in", with a way to register
            await page.get_by_role("link", name="Register").click()
        await page.get_by_label("Username").fill(name)
        await page.get_by_label("Password").fill(f"{name} password")
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_selector("body[data-gateway=online]")
        return who

    yield make
    for who in people:
        await who.context.close()
    errors = [f"{who.name}: {error}" for who in people for error in who.errors]
    assert not errors, errors


def watch(who: Person, page: Page) -> None:
    def on_console(message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            who.errors.append(f"{message.text} ({where})" if where else message.text)

    async def on_response(response: Any) -> None:
        if response.status >= 400 and "/api/" in response.url:
            who.errors.append(f"{response.request.method} {response.url}: {await response.text()}")

    def on_socket(socket: Any) -> None:
        who.sockets.append(socket.url)

        def on_frame(payload: str | bytes) -> None:
            who.binary_frames += isinstance(payload, bytes)
            who.text_frames += isinstance(payload, str)

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: who.errors.append(f"uncaught: {error}"))
