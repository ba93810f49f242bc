"""The browser client shares ``/`` with the gateway: browsers get the page, everyone else the gateway."""

from __future__ import annotations

from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


async def test_a_browser_gets_the_page_and_its_assets(client: Client) -> None:
    for path in ("/", "/app", "/login", "/invite/abc-DEF", "/channels/@me"):
        page = await client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
        assert "/web/js/main.js" in await page.text()
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = await client.get("/web/js/main.js")
    assert script.status == 200 and "javascript" in script.headers["Content-Type"]


async def test_bots_still_reach_the_gateway_at_root(client: Client) -> None:
    notice = await client.get("/")
    assert (await notice.json())["message"] == "rayguild gateway: connect with a websocket"
    ws = await client.ws_connect("/?v=10&encoding=json", headers={"Accept": "text/html"})
    hello = await ws.receive(timeout=5)
    assert hello.type is WSMsgType.TEXT and '"op":10' in hello.data
    await ws.close()
