"""The browser client on the edge's own origin: its page at ``/`` and the app's paths, assets.

``/`` is shared with the gateway: a websocket upgrade (every bot and library) and any request
that does not ask for HTML (``curl``, health probes) go to ``gateway_handler`` unchanged; a
browser's navigation (``Accept: text/html``) gets the page. ``/app``, ``/login``,
``/register``, ``/channels/...`` and ``/invite/<code>`` are the client's own routes and answer
the same page, which reads its location. The files under ``web/`` are served as they are, no
build step, with a Content-Security-Policy that lets only the page's own scripts run (the
client also never turns user text into HTML: see web/js/markdown.js).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from rayguild.http_api.gateway_ws import gateway_handler

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
INDEX = WEB_ROOT / "index.html"
PAGE_PATHS = ("/app", "/app/{tail:.*}", "/login", "/register", "/channels/{tail:.*}", "/invite/{code}")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
        "img-src 'self' data: blob: http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def wants_page(request: web.Request) -> bool:
    """A browser navigating to ``/`` (not a websocket upgrade, and asking for HTML)."""
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    return not upgrade and "text/html" in request.headers.get("Accept", "")


async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(INDEX, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


async def root(request: web.Request) -> web.StreamResponse:
    """``GET /``: the page for a browser, the gateway for everyone else."""
    if wants_page(request):
        return await page(request)
    return await gateway_handler(request)


def add_routes(app: web.Application) -> None:
    """``/`` (shared with the gateway), the client's paths and its static files."""
    app.router.add_get("/", root)
    for path in PAGE_PATHS:
        app.router.add_get(path, page)
    app.router.add_static("/web/", WEB_ROOT, append_version=False)
