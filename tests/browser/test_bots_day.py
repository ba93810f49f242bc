"""The features bots use, by hand in the browser: replies, reactions and typing seen live, an
image upload the other person sees, and a discord.py bot's slash command answered."""

from __future__ import annotations

import asyncio
import os
import struct
import sys
import zlib
from pathlib import Path

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson, Site
from tests.browser.test_chat import create_guild, invite_link, message, say

BOT = Path(__file__).with_name("slash_bot.py")


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour, made here (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


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


async def test_an_uploaded_image_is_seen_by_the_other_person(person: NewPerson) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Pictures")
    link = await invite_link(alice.page)
    bob = await person("bob")
    await bob.page.goto(link)
    await alice.page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "square.png", "mimeType": "image/png", "buffer": png(64, 48, (88, 101, 242))}]
    )
    image = bob.page.get_by_role("log").get_by_role("img", name="square.png")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth") == 64

    # A bigger file over a slow uplink (Chromium's network emulation): the progress bar moves.
    cdp = await alice.context.new_cdp_session(alice.page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions",
                   {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 256 * 1024})  # fmt: skip
    noise = os.urandom(3 * 256 * 1024)
    await alice.page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "noise.bin", "mimeType": "application/octet-stream", "buffer": noise}]
    )
    progress = alice.page.get_by_role("progressbar", name="Upload progress")
    await expect(progress).to_be_visible()
    # (wait_for_function would evaluate a string, which the page's CSP forbids: poll instead)
    moved = 0.0
    for _ in range(100):
        moved = await progress.evaluate("el => el.value")
        if moved > 0 or await progress.is_hidden():
            break
        await asyncio.sleep(0.05)
    assert 0 < moved <= 1
    await expect(bob.page.get_by_role("link", name="📎 noise.bin (768 KB)")).to_be_visible()
    await expect(progress).to_be_hidden()
    await bob.page.screenshot(path=str(SCREENSHOTS / "upload.png"))


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
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"synced"  # type: ignore[union-attr]
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


async def test_a_bots_embeds_and_components_render(person: NewPerson, site: Site) -> None:
    alice = await person("alice")
    await create_guild(alice.page, "Embeds")
    link = await invite_link(alice.page)
    channel_id = await alice.page.evaluate("window.rayguild.state.view.channelId")
    embed = {
        "title": "Build report", "url": "https://example.com/build/7", "color": 0x23A55A,
        "description": "All **green** <img src=x onerror=window.pwned=1>",
        "fields": [{"name": "tests", "value": "`412` passed", "inline": True}],
        "footer": {"text": "ci"},
    }  # fmt: skip
    buttons = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Re-run", "custom_id": "rerun"}]}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{site.url}/api/v10/auth/register", json={"username": "ci", "bot": True}) as r:
            headers = {"Authorization": f"Bot {(await r.json())['token']}"}
        async with http.post(f"{site.url}/api/v10/invites/{link.rsplit('/', 1)[1]}", headers=headers) as r:
            assert r.status == 200, await r.text()
        body = {"content": "nightly", "embeds": [embed], "components": [buttons]}
        async with http.post(
            f"{site.url}/api/v10/channels/{channel_id}/messages", json=body, headers=headers
        ) as r:
            assert r.status == 200, await r.text()
    shown = message(alice.page, "nightly")
    card = shown.get_by_role("article", name="Build report")
    await expect(card.get_by_role("link", name="Build report")).to_have_attribute("href", embed["url"])
    await expect(card.locator("strong")).to_have_text("green")
    await expect(card.locator("dd code")).to_have_text("412")
    assert await card.evaluate("el => getComputedStyle(el).borderLeftColor") == "rgb(35, 165, 90)"
    assert await card.locator("img").count() == 0
    await expect(shown.get_by_role("button", name="Re-run")).to_be_enabled()
    await expect(shown.locator(".tag")).to_have_text("BOT")
    await alice.page.screenshot(path=str(SCREENSHOTS / "embed.png"))


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
