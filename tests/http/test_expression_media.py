"""Custom emoji and sticker images served back at the edge's CDN-style paths (``/emojis/{id}.png``,
``/stickers/{id}.png``) without a token, byte for byte, with the type their header shows; gone
(404) once the emoji or sticker is deleted."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from tests.http.helpers import call

Client = TestClient[Any, Any]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x03" + b"\x00" * 40


async def test_emoji_and_sticker_images_are_served(client: Client, register: Any) -> None:
    owner = await register("artist")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Gallery"}))["id"]
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    emoji = await call(
        client, owner, "POST", f"/guilds/{gid}/emojis", 201, json={"name": "dot", "image": uri}
    )
    form = aiohttp.FormData()
    form.add_field("name", "square")
    form.add_field("tags", "square")
    form.add_field("file", PNG, filename="square.png", content_type="image/png")
    sticker = await call(client, owner, "POST", f"/guilds/{gid}/stickers", 201, data=form)
    for path in (f"/emojis/{emoji['id']}.png", f"/stickers/{sticker['id']}.png"):
        response = await client.get(path)  # no token, as a CDN
        assert response.status == 200 and response.content_type == "image/png", path
        assert await response.read() == PNG
    await call(client, owner, "DELETE", f"/guilds/{gid}/emojis/{emoji['id']}", 204)
    await call(client, owner, "DELETE", f"/guilds/{gid}/stickers/{sticker['id']}", 204)
    for path in (f"/emojis/{emoji['id']}.png", f"/stickers/{sticker['id']}.png", "/emojis/nope.png"):
        gone = await client.get(path)
        assert gone.status == 404 and (await gone.json())["code"] == 0
