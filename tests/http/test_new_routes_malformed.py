"""Malformed bodies sent to the scheduled-event, auto-moderation, template, soundboard, role
connection, incident and Slack routes are Discord's 400 50035, never a 5xx."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.http import test_moderation
from tests.http.helpers import call

Client = TestClient[Any, Any]
limit_scale = test_moderation.limit_scale  # the edge with scaled-up limits: many requests in a burst


async def test_malformed_bodies_are_400(client: Client, register: Any) -> None:
    owner = await register("fuzzer", bot=True)
    gid = (await call(client, owner, "POST", "/guilds", 201, json={"name": "Fuzz"}))["id"]
    cid = (await call(client, owner, "GET", f"/guilds/{gid}/channels"))[0]["id"]
    hook = await call(client, owner, "POST", f"/channels/{cid}/webhooks", json={"name": "Hook"})
    rule = {"name": "r", "event_type": 1, "trigger_type": 1, "actions": [{"type": 1}]}
    event = {"name": "e", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": "2999-01-01T00:00:00+00:00",
             "scheduled_end_time": "2999-01-01T01:00:00+00:00", "entity_metadata": {"location": "x"}}  # fmt: skip
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"/guilds/{gid}/auto-moderation/rules", {**rule, "trigger_type": [1]}),
        (f"/guilds/{gid}/auto-moderation/rules", {**rule, "actions": ["block"]}),
        (f"/guilds/{gid}/auto-moderation/rules", {**rule, "actions": [{"type": 1, "metadata": [1]}]}),
        (f"/guilds/{gid}/auto-moderation/rules", {**rule, "trigger_metadata": {"keyword_filter": [1]}}),
        (f"/guilds/{gid}/auto-moderation/rules", {**rule, "exempt_channels": "all"}),
        (f"/guilds/{gid}/scheduled-events", {**event, "entity_metadata": "x"}),
        (f"/guilds/{gid}/scheduled-events", {**event, "scheduled_start_time": 5}),
        (f"/guilds/{gid}/scheduled-events", {**event, "entity_type": [3]}),
        (f"/guilds/{gid}/scheduled-events", {**event, "name": {"a": 1}}),
        (f"/guilds/{gid}/templates", {"name": 5}),
        (f"/guilds/{gid}/soundboard-sounds", {"name": "ok", "sound": 5}),
        (
            f"/guilds/{gid}/soundboard-sounds",
            {"name": "ok", "sound": "data:audio/mpeg;base64,AA==", "volume": "x"},
        ),
        (f"/webhooks/{hook['id']}/{hook['token']}/slack", {"attachments": "x"}),
        (f"/webhooks/{hook['id']}/{hook['token']}/slack", {"attachments": [5]}),
    ]
    for path, body in cases:
        refused = await call(client, owner, "POST", path, 400, json=body)
        assert refused["code"] == 50035, (path, body, refused)
    for path, body in (
        (f"/guilds/{gid}/incident-actions", {"invites_disabled_until": "soon"}),
        (f"/users/@me/applications/{owner.id}/role-connection", {"metadata": [1]}),
    ):
        refused = await call(client, owner, "PUT", path, 400, json=body)
        assert refused["code"] == 50035, (path, body, refused)
    created = await call(client, owner, "POST", f"/guilds/{gid}/scheduled-events", json=event)
    for body in ({"status": [2]}, {"status": 9}, {"entity_metadata": None, "entity_type": 3}):
        refused = await call(
            client, owner, "PATCH", f"/guilds/{gid}/scheduled-events/{created['id']}", 400, json=body
        )
        assert refused["code"] == 50035, (body, refused)
