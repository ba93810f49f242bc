"""A discord.py bot tried by hand in the browser: its slash command (picker, options,
autocomplete), its answer seen by everyone, a button, an ephemeral answer and a select."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson, Site
from tests.browser.test_chat import create_guild, invite_link, message, say

BOT = Path(__file__).with_name("slash_bot.py")


async def test_a_discordpy_bots_slash_command_answers(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Bot Lab")
    link = await invite_link(alice.page)
    bob = await person("bob", start=link)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{site.url}/api/v10/auth/register", json={"username": "echo", "bot": True}
        ) as r:
            bot = await r.json()
        headers = {"Authorization": f"Bot {bot['token']}"}
        async with http.post(f"{site.url}/api/v10/invites/{link.rsplit('/', 1)[1]}", headers=headers) as r:
            assert r.status == 200, await r.text()
    guild_id = await alice.page.evaluate("window.rayguild.state.view.guildId")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), site.url, bot["token"], guild_id, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"synced"  # type: ignore[union-attr]
        page = alice.page
        box = page.get_by_role("textbox", name="Message #general")
        await box.type("/ec")
        await expect(page.get_by_role("option", name="/echo")).to_be_visible()
        await box.press("Enter")  # picks the highlighted command
        option = page.get_by_label("text*")
        await option.type("hi")
        # Autocomplete: the bot's suggestions (type 4 interaction, answered over the gateway).
        await expect(page.locator("#opt-text-list option[value='hi world']")).to_have_count(1)
        await page.screenshot(path=str(SCREENSHOTS / "slash-command.png"))
        await option.fill("hi bot")
        await option.press("Enter")
        answer = message(page, "echo: hi bot")
        await expect(answer.get_by_text("alice used /echo")).to_be_visible()
        await expect(message(bob.page, "echo: hi bot")).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / "slash-answer.png"))

        # A button on the bot's message: the bot edits the message, both see it.
        await answer.get_by_role("button", name="Shout").click()
        await expect(message(bob.page, "ECHO: HI BOT")).to_be_visible()

        # An ephemeral answer reaches only the person who asked.
        await box.type("/whisper")
        await box.press("Enter")
        await box.press("Enter")
        await expect(message(page, "just between us").get_by_text("Only you can see this")).to_be_visible()
        await say(bob.page, "did I miss anything?")
        await expect(message(page, "did I miss anything?")).to_be_visible()
        assert await message(bob.page, "just between us").count() == 0

        # A select on the (ephemeral) answer: the choice goes to the bot, its answer comes back.
        await (
            message(page, "just between us")
            .get_by_role("combobox", name="Pick a colour")
            .select_option("green")
        )
        await expect(message(page, "you picked green")).to_be_visible()
    finally:
        proc.terminate()
        await proc.wait()
