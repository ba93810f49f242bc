"""Markdown is rendered and HTML in messages stays inert; a reload or a dropped socket resumes."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson
from tests.browser.test_chat import create_guild, invite_link, message, say

HOSTILE = [
    '<img src=x onerror="window.pwned=1">',
    "**<script>window.pwned=2</script>**",
    "[click me](javascript:window.pwned=3)",
    '<a href="javascript:window.pwned=4">x</a> ~~gone~~ `a<b>` ||secret|| _soft_ https://example.com/x',
    "```\n<b>not bold</b>\n```",
]


async def test_markdown_renders_and_html_is_inert(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Safety")
    link = await invite_link(alice.page)
    bob = await person("bob")
    await bob.page.goto(link)
    for text in HOSTILE:
        await say(alice.page, text)
    await say(alice.page, "over to you @bob")  # typed as a name, sent as <@id>
    log = bob.page.get_by_role("log")
    await expect(log.locator("pre.codeblock")).to_have_text("<b>not bold</b>\n")
    assert await log.locator(".content img, .content script, .content b").count() == 0
    await expect(message(bob.page, '<img src=x onerror="window.pwned=1">')).to_be_visible()
    await expect(log.locator("strong", has_text="<script>window.pwned=2</script>")).to_be_visible()
    await expect(log.locator("s")).to_have_text("gone")
    await expect(log.locator("code.inline")).to_have_text("a<b>")
    await expect(log.locator("em")).to_have_text("soft")
    await expect(log.get_by_role("link", name="https://example.com/x")).to_have_attribute(
        "href", "https://example.com/x"
    )
    assert await log.locator("a[href^='javascript']").count() == 0
    mention = message(bob.page, "over to you")
    await expect(mention).to_have_class("message mentioned")
    await expect(mention.locator(".mention.me")).to_have_text("@bob")
    spoiler = log.locator(".spoiler")
    await spoiler.focus()
    await spoiler.press("Enter")
    await expect(spoiler).to_have_class("spoiler revealed")
    for page in (alice.page, bob.page):
        await page.get_by_role("log").locator("li.message").last.hover()
        assert await page.evaluate("window.pwned") is None
    await bob.page.screenshot(path=str(SCREENSHOTS / "markdown.png"))


async def test_reload_and_a_dropped_socket_resume_the_session(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Resume")
    link = await invite_link(alice.page)
    bob = await person("bob")
    await bob.page.goto(link)
    session = await alice.page.get_attribute("body", "data-session")
    assert session

    await alice.page.reload()
    await alice.page.wait_for_selector("body[data-gateway=online]")
    assert await alice.page.get_attribute("body", "data-session") == session
    await say(bob.page, "after your reload")
    await expect(message(alice.page, "after your reload")).to_be_visible()

    # The socket drops (as a network blip would): the banner shows, then the session resumes.
    await alice.page.evaluate("window.rayguild.gateway.ws.close(4000, 'network blip')")
    await expect(alice.page.get_by_role("status").filter(has_text="Connection lost")).to_be_visible()
    await alice.page.wait_for_selector("body[data-gateway=online]")
    assert await alice.page.get_attribute("body", "data-session") == session
    await say(bob.page, "after the blip")
    await expect(message(alice.page, "after the blip")).to_be_visible()


async def test_op_9_identifies_anew_and_op_7_resumes(person: NewPerson) -> None:
    alice = await person("alice")
    page = alice.page
    await create_guild(page, "Ops")
    session = await page.get_attribute("body", "data-session")

    # op 7 (the server asks for a reconnect; injected here, rayguild's edge never sends it): the
    # client reconnects and resumes the same session.
    await page.evaluate("window.rayguild.gateway.onPayload({op: 7, d: null, s: null, t: null})")
    await page.wait_for_selector("body[data-gateway=reconnecting], body[data-gateway=offline]")
    await page.wait_for_selector("body[data-gateway=online]")
    assert await page.get_attribute("body", "data-session") == session

    # A session the server no longer knows: the resume is answered with op 9 (d: false) and the
    # client identifies anew, keeping its guilds.
    await page.evaluate("window.rayguild.gateway.session.session_id = 'gone'")  # saved on unload
    await page.reload()
    await page.wait_for_selector("body[data-gateway=online]", timeout=15_000)
    fresh = await page.get_attribute("body", "data-session")
    assert fresh not in (None, "gone", session)
    await expect(page.get_by_role("heading", name="Ops")).to_be_visible()
