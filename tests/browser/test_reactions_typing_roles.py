"""Reactions, typing and member roles seen live by the other person in the browser."""

from __future__ import annotations

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson, Site
from tests.browser.test_chat import create_guild, invite_link, message, say


async def test_replies_reactions_and_typing_are_seen_live(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Live")
    link = await invite_link(alice.page)
    bob = await person("bob")
    await bob.page.goto(link)
    await say(alice.page, "what should we build?")

    # Typing: bob types, alice sees it; sending ends it.
    box = bob.page.get_by_role("textbox", name="Message #general")
    await box.type("a chat server")
    await expect(alice.page.get_by_text("bob is typing…")).to_be_visible()

    # Reply: bob answers alice's message.
    question = message(bob.page, "what should we build?")
    await question.hover()
    await question.get_by_role("button", name="Reply").click()
    await box.press("Enter")
    answer = message(alice.page, "a chat server")
    await expect(answer.locator(".reference")).to_contain_text("what should we build?")
    await expect(alice.page.get_by_text("bob is typing…")).to_have_count(0)

    # Reactions: alice reacts, bob sees the count and adds his own.
    await answer.hover()
    await answer.get_by_role("button", name="React with 👍").click()
    on_bob = message(bob.page, "a chat server").get_by_role("button", name="👍 reaction, 1")
    await expect(on_bob).to_be_visible()
    await on_bob.click()
    await expect(answer.get_by_role("button", name="👍 reaction, 2")).to_have_attribute(
        "aria-pressed", "true"
    )
    await alice.page.screenshot(path=str(SCREENSHOTS / "reactions.png"))


async def test_member_roles_show_in_the_member_list(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Ranks")
    link = await invite_link(alice.page)
    bob = await person("bob", start=link)
    state = "window.rayguild.state"
    guild_id = await alice.page.evaluate(f"{state}.view.guildId")
    bob_id = await bob.page.evaluate(f"{state}.me.id")
    token = await alice.page.evaluate("JSON.parse(localStorage.getItem('token'))")
    async with aiohttp.ClientSession(headers={"Authorization": token}) as http:
        body = {"name": "Mods", "color": 0xF23F43, "hoist": True}
        async with http.post(f"{site.url}/api/v10/guilds/{guild_id}/roles", json=body) as r:
            role = await r.json()
        async with http.put(f"{site.url}/api/v10/guilds/{guild_id}/members/{bob_id}/roles/{role['id']}") as r:
            assert r.status == 204, await r.text()
    for page in (alice.page, bob.page):
        row = page.locator(".members .member", has_text="bob")
        await expect(row.locator(".role")).to_have_text("Mods")
        name = row.locator(".member-name")
        assert await name.evaluate("el => getComputedStyle(el).color") == "rgb(242, 63, 67)"
    await alice.page.screenshot(path=str(SCREENSHOTS / "roles.png"))
