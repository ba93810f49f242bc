"""Two people chat in a guild from two browser contexts and see each other live."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, NewPerson


async def create_guild(page: Page, name: str) -> None:
    await page.get_by_role("button", name="Create a server").click()
    await page.get_by_label("Server name").fill(name)
    await page.get_by_role("button", name="OK").click()
    await expect(page.get_by_role("heading", name=name)).to_be_visible()


async def invite_link(page: Page) -> str:
    await page.get_by_role("button", name="Invite people").click()
    link = await page.get_by_label("Send this link:").input_value()
    await page.get_by_role("button", name="Done").click()
    return link


async def say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name=re.compile("^Message "))
    await box.fill(text)
    await box.press("Enter")


def message(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("log").locator("li.message", has_text=text)


async def test_two_people_chat_live(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Rust Club")
    link = await invite_link(alice.page)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invite/[\w-]+", link), link

    bob = await person("bob")
    await bob.page.goto(link)
    await expect(bob.page.get_by_role("heading", name="Rust Club")).to_be_visible()
    # Presence: each sees the other online in the member list of the guild in view.
    await expect(alice.page.locator(".members .member.online", has_text="bob")).to_be_visible()
    await expect(bob.page.locator(".members .member.online", has_text="alice")).to_be_visible()

    await say(alice.page, "hello **bob**")
    await expect(message(bob.page, "hello bob").locator("strong")).to_have_text("bob")
    await say(bob.page, "hi alice")
    await expect(message(alice.page, "hi alice")).to_be_visible()

    # Editing from the keyboard: ArrowUp in the empty composer edits one's last message.
    await alice.page.get_by_role("textbox", name="Message #general").press("ArrowUp")
    editor = alice.page.get_by_label("Edit message")
    await editor.fill("hello **bob**, welcome")
    await editor.press("Enter")
    edited = message(bob.page, "hello bob, welcome")
    await expect(edited.get_by_text("(edited)")).to_be_visible()

    # A reply names the message it answers.
    question = message(bob.page, "hello bob, welcome")
    await question.hover()
    await question.get_by_role("button", name="Reply").click()
    await expect(bob.page.get_by_text("Replying to alice")).to_be_visible()
    await say(bob.page, "thanks!")
    await expect(message(alice.page, "thanks!").locator(".reference")).to_contain_text(
        "hello **bob**, welcome"
    )

    theirs = message(bob.page, "hi alice")
    await theirs.hover()
    await theirs.get_by_role("button", name="Delete").click()
    await expect(message(alice.page, "hi alice")).to_have_count(0)

    # All of it came over zlib-stream, inflated in the page by DecompressionStream.
    assert all("compress=zlib-stream" in url for url in alice.sockets + bob.sockets)
    # Each saw at least Hello, READY, the guild's GUILD_CREATE, three MESSAGE_CREATEs, the
    # MESSAGE_UPDATE and the MESSAGE_DELETE; how many more (presence, typing, a reconnect's
    # second Hello) depends on timing, so the bound is that minimum, and no frame came as text.
    assert alice.binary_frames >= 8 and bob.binary_frames >= 8, (alice.binary_frames, bob.binary_frames)
    assert alice.text_frames == 0 and bob.text_frames == 0, (alice.text_frames, bob.text_frames)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await alice.page.screenshot(path=str(SCREENSHOTS / "chat.png"))


async def test_a_direct_message(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Neighbours")
    link = await invite_link(alice.page)
    bob = await person("bob", start=link)
    await alice.page.get_by_role("button", name="Message bob").click()
    await expect(alice.page.get_by_role("heading", name="@bob")).to_be_visible()
    await say(alice.page, "psst, bob")
    await expect(message(alice.page, "psst, bob")).to_be_visible()
    await bob.page.get_by_role("button", name="Direct Messages (unread)").click()
    await bob.page.get_by_role("navigation", name="Channels").get_by_role("link", name="@alice").click()
    await expect(message(bob.page, "psst, bob")).to_be_visible()
