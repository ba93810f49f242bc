"""Accounts, guilds and channels by hand: sign out and in, categories, create / rename / delete
channels as the owner, leave as a member, unread markers."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson, Site
from tests.browser.test_chat import create_guild, invite_link, message, say


async def test_sign_out_then_in_and_bad_passwords_are_explained(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    page = alice.page
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('token')") is None
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log In").click()
    await expect(page.get_by_role("alert")).to_have_text("Login or password is invalid.")
    await page.screenshot(path=str(SCREENSHOTS / "login.png"))
    await page.get_by_label("Password").fill("alice password")
    await page.get_by_role("button", name="Log In").click()
    await page.wait_for_selector("body[data-gateway=online]")
    expected = [e for e in alice.errors if "/auth/login" in e]  # the wrong password's 400, as asked
    assert expected and len(expected) == len(alice.errors), alice.errors
    alice.errors.clear()


async def test_owner_manages_channels_and_a_member_leaves(person: NewPerson) -> None:
    alice = await person("alice")
    page = alice.page
    await create_guild(page, "Design Guild")
    channels = page.get_by_role("navigation", name="Channels")
    await channels.get_by_role("button", name="Create a category").click()
    await page.get_by_label("Category name").fill("Projects")
    await page.get_by_role("button", name="OK").click()
    await channels.get_by_role("button", name="Create a channel in Projects").click()
    await page.get_by_label("Channel name").fill("drafts")
    await page.get_by_role("button", name="OK").click()
    projects = channels.get_by_role("region", name="Projects")
    await expect(projects.get_by_role("link", name="#drafts")).to_be_visible()

    await projects.get_by_role("button", name="Rename #drafts").click()
    await page.get_by_label("New name").fill("mockups")
    await page.get_by_role("button", name="OK").click()
    await expect(projects.get_by_role("link", name="#mockups")).to_be_visible()

    await channels.get_by_role("button", name="Create a channel").first.click()
    await page.get_by_label("Channel name").fill("scratch")
    await page.get_by_role("button", name="OK").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await channels.get_by_role("button", name="Delete #scratch").click()
    await expect(channels.get_by_role("link", name="#scratch")).to_have_count(0)

    link = await invite_link(page)
    bob = await person("bob", start=link)  # the invite opens the client; he signs up, then joins
    await expect(bob.page.get_by_role("heading", name="Design Guild")).to_be_visible()
    # Bob is not the owner: no channel tools, but he may leave.
    bob_channels = bob.page.get_by_role("navigation", name="Channels")
    await expect(bob_channels.get_by_role("link", name="#mockups")).to_be_visible()
    assert await bob_channels.get_by_role("button", name="Rename #mockups").count() == 0

    # An unread marker on the channel bob is not looking at.
    await page.get_by_role("link", name="#mockups").click()
    await say(page, "new **mockups** are up")
    await expect(bob_channels.get_by_role("link", name="#mockups (unread)")).to_be_visible()
    await bob_channels.get_by_role("link", name="#mockups (unread)").click()
    await expect(message(bob.page, "new mockups are up")).to_be_visible()
    await expect(bob_channels.get_by_role("link", name="#mockups", exact=True)).to_be_visible()
    await page.screenshot(path=str(SCREENSHOTS / "channels.png"))

    bob.page.once("dialog", lambda dialog: dialog.accept())
    await bob_channels.get_by_role("button", name="Leave Design Guild").click()
    await expect(bob.page.get_by_role("button", name="Design Guild")).to_have_count(0)
    await expect(page.locator(".members .member", has_text="bob")).to_have_count(0)


# Every guild is "large" here: a session is passive in it until it subscribes (op 37).
@pytest.mark.parametrize(
    "site", [{"passive_guild_members": 1, "passive_update_interval_s": 0.2}], indirect=True
)
async def test_active_in_the_guild_in_view_passive_in_the_rest(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Busy")
    busy = await invite_link(alice.page)
    await create_guild(alice.page, "Quiet")
    quiet = await invite_link(alice.page)
    bob = await person("bob", start=busy)
    await expect(bob.page.get_by_role("heading", name="Busy")).to_be_visible()
    # Bob joins Quiet without opening it (as from another device): he never subscribes to it.
    token = await bob.page.evaluate("JSON.parse(localStorage.getItem('token'))")
    code = quiet.rsplit("/", 1)[1]
    async with (
        aiohttp.ClientSession(headers={"Authorization": token}) as http,
        http.post(f"{site.url}/api/v10/invites/{code}") as joined,
    ):
        assert joined.status == 200, await joined.text()
    await expect(bob.page.get_by_role("button", name="Quiet")).to_be_visible()

    # Bob views Busy (op 37): its messages come live, in full.
    await alice.page.get_by_role("button", name="Busy").click()
    await say(alice.page, "busy as usual")
    await expect(message(bob.page, "busy as usual")).to_be_visible()
    # Quiet is passive for bob: a PASSIVE_UPDATE_V1 summary marks it unread, no message is sent.
    await alice.page.get_by_role("button", name="Quiet").click()
    await say(alice.page, "anyone here?")
    await expect(message(alice.page, "anyone here?")).to_be_visible()
    unread = bob.page.get_by_role("button", name="Quiet (unread)")
    for _ in range(50):  # what the guild host does every passive_update_interval_s
        await site.cluster.guild_shard.tick_passive()
        if await unread.count():
            break
        await asyncio.sleep(0.2)
    await expect(unread).to_be_visible()
    quiet_channel = await alice.page.evaluate("window.rayguild.state.view.channelId")
    held = f"(window.rayguild.state.messages.get('{quiet_channel}') || {{list: []}}).list.length"
    assert await bob.page.evaluate(held) == 0  # the summary, not the message
    await bob.page.get_by_role("button", name="Quiet (unread)").click()
    await expect(message(bob.page, "anyone here?")).to_be_visible()
