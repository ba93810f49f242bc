"""History: the newest page first, older pages when scrolled to the top, down to the first message."""

from __future__ import annotations

import asyncio

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import NewPerson, Site
from tests.browser.test_chat import create_guild, message

COUNT = 60  # more than one page (50)


async def post_all(site: Site, token: str, channel_id: str) -> None:
    url = f"{site.url}/api/v10/channels/{channel_id}/messages"
    async with aiohttp.ClientSession(headers={"Authorization": token}) as http:
        sent = 0
        while sent < COUNT:
            async with http.post(url, json={"content": f"line {sent}"}) as response:
                if response.status == 429:  # 5 per 5 s per channel (times 10 here)
                    await asyncio.sleep((await response.json())["retry_after"])
                    continue
                assert response.status == 200, await response.text()
            sent += 1


async def test_scrolling_up_loads_older_messages(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    page = alice.page
    await create_guild(page, "Archive")
    token = await page.evaluate("JSON.parse(localStorage.getItem('token'))")
    channel_id = await page.evaluate("window.rayguild.state.view.channelId")
    await post_all(site, token, channel_id)
    await page.reload()
    log = page.get_by_role("log")
    await expect(message(page, f"line {COUNT - 1}")).to_be_visible()
    await expect(log.locator("li.message")).to_have_count(50)
    assert await log.get_by_text("This is the beginning").count() == 0
    await log.evaluate("el => el.scrollTo(0, 0)")
    await expect(log.get_by_text("This is the beginning of #general.")).to_be_visible()
    await expect(log.locator("li.message")).to_have_count(COUNT)
    await expect(log.locator("li.message").first).to_contain_text("line 0")
