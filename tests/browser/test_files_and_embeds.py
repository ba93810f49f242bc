"""What bots' messages carry, in the browser: an image upload the other person sees (with upload
progress), and a bot's embed and button rendered."""

from __future__ import annotations

import asyncio
import os
import struct
import zlib

import aiohttp
from playwright.async_api import expect

from tests.browser.conftest import SCREENSHOTS, NewPerson, Site
from tests.browser.test_chat import create_guild, invite_link, message


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
