"""Guild soundboard sounds over REST: create from a data URI, list, get, modify, delete, the audio
served back at the edge's CDN path; validation, permissions, audit entries; 2xx bodies checked
against Discord's OpenAPI description; of two racing deletes of one sound one is 404."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from rayguild.storage.sqlite import SqliteStorage
from tests.http.helpers import API, MarkProbe, NewGuild, call
from tests.http.spec import assert_matches_spec, assert_no_content

Client = TestClient[Any, Any]
AUDIO = b"ID3\x03\x00\x00\x00" + bytes(range(200))
SOUND = "data:audio/mpeg;base64," + base64.b64encode(AUDIO).decode()
BASE = "/guilds/{guild_id}/soundboard-sounds"
ONE = BASE + "/{sound_id}"


@pytest.fixture
def probe() -> MarkProbe:
    return MarkProbe("sound:")


@pytest.fixture
def wrap_storage(probe: MarkProbe) -> Callable[[SqliteStorage], Any]:
    """The sounds' documents watched by ``probe``."""
    return probe.wrap


async def test_soundboard_lifecycle(client: Client, register: Any, new_guild: NewGuild) -> None:
    owner, member = await register("dj"), await register("listener")
    gid = (await new_guild("Sounds", owner, member)).id
    sounds = f"/guilds/{gid}/soundboard-sounds"
    created = await call(client, owner, "POST", sounds, 201, json={"name": "airhorn", "sound": SOUND, "volume": 0.5,
                                                                    "emoji_name": "📯"})  # fmt: skip
    assert_matches_spec("POST", BASE, 201, created)
    assert (created["name"], created["volume"], created["user"]["id"]) == ("airhorn", 0.5, owner.id)
    served = await client.get(f"/soundboard-sounds/{created['sound_id']}")
    assert served.status == 200 and await served.read() == AUDIO
    listed = await call(client, member, "GET", sounds)
    assert_matches_spec("GET", BASE, 200, listed)
    assert [s["sound_id"] for s in listed["items"]] == [created["sound_id"]]
    path = f"{sounds}/{created['sound_id']}"
    one = await call(client, member, "GET", path)
    assert_matches_spec("GET", ONE, 200, one)
    louder = await call(client, owner, "PATCH", path, json={"volume": 1, "name": "horn"})
    assert_matches_spec("PATCH", ONE, 200, louder)
    assert (louder["volume"], louder["name"]) == (1.0, "horn")
    for body, field in (({"name": "x", "sound": SOUND}, "name"), ({"name": "ok", "sound": "data:text/plain;base64,AA=="}, "sound"),
                        ({"name": "ok", "sound": SOUND, "volume": 2}, "volume")):  # fmt: skip
        bad = await call(client, owner, "POST", sounds, 400, json=body)
        assert bad["code"] == 50035 and field in bad["errors"]
    assert (await call(client, member, "POST", sounds, 403, json={"name": "mine", "sound": SOUND}))[
        "code"
    ] == 50013
    assert (await call(client, member, "DELETE", path, 403))["code"] == 50013
    await call(client, owner, "DELETE", path, 204)
    assert_no_content("DELETE", ONE, 204)
    assert (await call(client, owner, "GET", path, 404))["code"] == 10097
    assert (await client.get(f"/soundboard-sounds/{created['sound_id']}")).status == 404
    entries = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs"))["audit_log_entries"]
    assert [e["action_type"] for e in entries][:3] == [132, 131, 130]


async def test_of_two_racing_deletes_one_is_404(
    client: Client, probe: MarkProbe, register: Any, new_guild: NewGuild
) -> None:
    owner = await register("dj")
    gid = (await new_guild("Sounds", owner)).id
    created = await call(client, owner, "POST", f"/guilds/{gid}/soundboard-sounds", 201,
                         json={"name": "airhorn", "sound": SOUND})  # fmt: skip
    path = f"{API}/guilds/{gid}/soundboard-sounds/{created['sound_id']}"
    probe.gate(2)  # both read the sound before either deletes it
    answers = await asyncio.gather(*(client.delete(path, headers=owner.headers) for _ in range(2)))
    assert sorted(a.status for a in answers) == [204, 404]
    lost = next(a for a in answers if a.status == 404)
    assert (await lost.json())["code"] == 10097
    entries = (await call(client, owner, "GET", f"/guilds/{gid}/audit-logs"))["audit_log_entries"]
    assert [e["action_type"] for e in entries].count(132) == 1  # one SOUND_DELETE announced
