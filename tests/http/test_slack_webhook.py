"""A Slack-compatible payload executed on a webhook (``/webhooks/{id}/{token}/slack``): without a
token header, answered "ok", posted as the webhook with the username override, its attachments
as embeds; a malformed color is 400 50035."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.helpers import call
from tests.http.spec import assert_matches_spec

Client = TestClient[Any, Any]


async def test_slack_compatible_execution(client: Client, register: Any) -> None:
    owner = await register("slacker")
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Slack"}))["id"]
    cid = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    hook = await call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": "Bridge"})
    url = f"/api/v10/webhooks/{hook['id']}/{hook['token']}/slack"
    payload = {"text": "deploy done", "username": "CI", "attachments": [{
        "title": "Build 42", "title_link": "https://example.com/42", "text": "all green", "color": "#36a64f",
        "ts": 1700000000, "footer": "ci", "fields": [{"title": "time", "value": "3m", "short": True}],
    }]}  # fmt: skip
    response = await client.post(url, json=payload)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert_matches_spec("POST", "/webhooks/{webhook_id}/{webhook_token}/slack", 200, answer)
    assert answer == "ok"
    posted = (await call(client, owner, "GET", f"/channels/{cid}/messages"))[0]
    assert posted["content"] == "deploy done" and posted["author"]["username"] == "CI"
    embed = posted["embeds"][0]
    assert (embed["title"], embed["url"], embed["description"], embed["color"]) == (
        "Build 42",
        "https://example.com/42",
        "all green",
        0x36A64F,
    )
    assert embed["fields"] == [{"name": "time", "value": "3m", "inline": True}]
    assert embed["footer"]["text"] == "ci" and embed["timestamp"].startswith("2023-11-14")
    bad = await client.post(url, json={"attachments": [{"color": "green"}]})
    assert bad.status == 400 and (await bad.json())["code"] == 50035
    wrong = await client.post(f"/api/v10/webhooks/{hook['id']}/not-the-token/slack", json={"text": "x"})
    assert wrong.status == 401 and (await wrong.json())["code"] == 50027
