"""File uploads over REST: multipart bodies as discord.py and discord.js build them, attachment
objects as Discord shapes them, the edge serving the bytes back, the size limit (413 40005 on a
connection that stays usable), and a deleted or edited-away file no longer served or stored."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from rayguild.config import Config
from rayguild.http_api.app import build_app
from rayguild.http_api.local import LocalCluster
from rayguild.http_api.ratelimit import RateLimiter
from rayguild.storage.blobs import SWEEP_AGE_S
from rayguild.storage.blobs_dir import DirectoryBlobStore
from rayguild.storage.sqlite import SqliteStorage
from tests.http.helpers import Account
from tests.http.test_openapi_shapes import assert_matches_spec

API = "/api/v10"
Client = TestClient[Any, Any]
LIMIT = 300 * 1024  # a small per-file limit so the oversize case stays cheap


def png(width: int, height: int) -> bytes:
    """A real PNG (IHDR + one IDAT + IEND) of width x height grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def small_limit_client(tmp_path: Path) -> AsyncIterator[Client]:
    db = tmp_path / "rayguild.sqlite3"
    config = Config(sqlite_path=str(db), tick_ms=1.0, max_upload_bytes=LIMIT)
    cluster = LocalCluster(config, lambda: SqliteStorage(db))
    # These tests post faster than Discord's 5 messages / 5 s; rate limits have their own tests.
    app = build_app(await cluster.edge(0), RateLimiter(limit_scale=100))
    async with TestClient(TestServer(app)) as client:
        yield client
    await cluster.close()


async def _room(client: Client) -> tuple[Account, Account, str]:
    accounts = []
    for name, bot in (("owner", False), ("robot", True)):
        response = await client.post(f"{API}/auth/register", json={"username": name, "bot": bot})
        body = await response.json()
        accounts.append(Account(body["token"], body["user"]))
    owner, bot = accounts
    guild = await (await client.post(f"{API}/guilds", headers=owner.headers, json={"name": "Files"})).json()
    channel = (
        await (await client.get(f"{API}/guilds/{guild['id']}/channels", headers=owner.headers)).json()
    )[0]
    invite = await (
        await client.post(f"{API}/channels/{channel['id']}/invites", headers=owner.headers, json={})
    ).json()
    await client.post(f"{API}/invites/{invite['code']}", headers=bot.headers)
    return owner, bot, channel["id"]


def discordpy_form(payload: dict[str, Any], *files: tuple[str, bytes]) -> aiohttp.FormData:
    """What discord.py sends: payload_json first, then files[n] as application/octet-stream."""
    form = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    form.add_field("payload_json", json.dumps(payload))
    for index, (name, data) in enumerate(files):
        form.add_field(f"files[{index}]", data, filename=name, content_type="application/octet-stream")
    return form


async def _fetch(client: Client, url: str) -> tuple[int, bytes, Any]:
    path = "/" + url.split("/", 3)[3]
    response = await client.get(path)
    return response.status, await response.read(), response.headers


async def test_discordpy_style_upload_is_served_back_byte_for_byte(small_limit_client: Client) -> None:
    client = small_limit_client
    _, bot, cid = await _room(client)
    image, blob = png(3, 2), os.urandom(200 * 1024)
    payload = {"content": "files", "attachments": [
        {"id": 0, "filename": "pic.png", "description": "a grey square"},
        {"id": 1, "filename": "SPOILER_data.bin"},
    ]}  # fmt: skip
    response = await client.post(f"{API}/channels/{cid}/messages", headers=bot.headers,
                                 data=discordpy_form(payload, ("pic.png", image), ("SPOILER_data.bin", blob)))  # fmt: skip
    assert response.status == 200, await response.text()
    sent = await response.json()
    assert_matches_spec("POST", "/channels/{channel_id}/messages", 200, sent)
    first, second = sent["attachments"]
    assert first["filename"] == "pic.png" and first["size"] == len(image)
    assert (first["content_type"], first["width"], first["height"]) == ("image/png", 3, 2)
    assert first["description"] == "a grey square" and first["proxy_url"] == first["url"]
    assert first["url"].endswith(f"/attachments/{cid}/{first['id']}/pic.png")
    assert second["filename"] == "SPOILER_data.bin" and second["flags"] == 1 << 3
    assert "width" not in second and second["content_type"] == "application/octet-stream"
    for attachment, data in ((first, image), (second, blob)):
        status, body, headers = await _fetch(client, attachment["url"])
        assert status == 200 and body == data
        assert headers["Content-Type"] == attachment["content_type"]
        assert headers["Content-Length"] == str(len(data))
    got = await client.get(f"{API}/channels/{cid}/messages/{sent['id']}", headers=bot.headers)
    assert (await got.json())["attachments"] == sent["attachments"]
    head = await client.head("/" + first["url"].split("/", 3)[3])
    assert (
        head.status == 200 and head.headers["Content-Length"] == str(len(image)) and await head.read() == b""
    )


async def test_discordjs_style_upload_files_first_and_string_ids(small_limit_client: Client) -> None:
    client = small_limit_client
    _, bot, cid = await _room(client)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("files[0]", b"hello text", filename="note.txt", content_type="text/plain")
    form.add_field("payload_json", '{"attachments": [{"id": "0", "description": "n"}]}')
    response = await client.post(f"{API}/channels/{cid}/messages", headers=bot.headers, data=form)
    assert response.status == 200, await response.text()
    (attachment,) = (await response.json())["attachments"]
    assert attachment["filename"] == "note.txt" and attachment["description"] == "n"
    assert attachment["content_type"] == "text/plain; charset=utf-8"
    assert (await _fetch(client, attachment["url"]))[1] == b"hello text"


async def test_oversize_file_is_413_40005_and_the_connection_is_kept(
    small_limit_client: Client, tmp_path: Path
) -> None:
    client = small_limit_client
    _, bot, cid = await _room(client)
    opened: list[object] = []
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(lambda *args: opened.append(args) or _noop())
    base = str(client.make_url(""))
    async with aiohttp.ClientSession(
        base, connector=aiohttp.TCPConnector(limit=1), trace_configs=[trace]
    ) as http:
        form = discordpy_form({"content": "x"}, ("ok.bin", b"1" * 1000), ("big.bin", b"2" * (LIMIT + 1)))
        async with http.post(f"{API}/channels/{cid}/messages", headers=bot.headers, data=form) as response:
            assert response.status == 413
            assert await response.json() == {"code": 40005, "message": "Request entity too large"}
        async with http.get(f"{API}/channels/{cid}/messages", headers=bot.headers) as response:
            assert response.status == 200 and await response.json() == []
    assert len(opened) == 1  # the 413 came back on a connection that served the next request
    stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert stored == []  # the file accepted before the oversize one was removed again


async def _noop() -> None:
    return None


async def test_limits_and_bad_forms(small_limit_client: Client) -> None:
    client = small_limit_client
    _, bot, cid = await _room(client)
    url = f"{API}/channels/{cid}/messages"
    eleven = discordpy_form({}, *((f"f{i}.txt", b"x") for i in range(11)))
    response = await client.post(url, headers=bot.headers, data=eleven)
    assert response.status == 400 and (await response.json())["code"] == 50035
    unknown_index = discordpy_form({"attachments": [{"id": 3}]}, ("a.txt", b"x"))
    response = await client.post(url, headers=bot.headers, data=unknown_index)
    body = await response.json()
    assert response.status == 400 and "attachments" in body["errors"], body
    too_long = discordpy_form({"attachments": [{"id": 0, "description": "d" * 1025}]}, ("a.txt", b"x"))
    response = await client.post(url, headers=bot.headers, data=too_long)
    body = await response.json()
    assert response.status == 400 and "description" in body["errors"]["attachments"]["0"], body
    bad_json = aiohttp.FormData()
    bad_json.add_field("payload_json", "{nope")
    bad_json.add_field("files[0]", b"x", filename="a.txt")
    response = await client.post(url, headers=bot.headers, data=bad_json)
    assert response.status == 400 and (await response.json())["code"] == 50109
    empty = discordpy_form({})
    response = await client.post(url, headers=bot.headers, data=empty)
    assert response.status == 400 and (await response.json())["code"] == 50006
    # A file alone is a message: content may be empty beside an attachment.
    response = await client.post(url, headers=bot.headers, data=discordpy_form({}, ("only.txt", b"x")))
    assert response.status == 200 and (await response.json())["content"] == ""


async def test_deleted_or_edited_away_files_are_no_longer_served(
    small_limit_client: Client, tmp_path: Path
) -> None:
    client = small_limit_client
    owner, bot, cid = await _room(client)
    url = f"{API}/channels/{cid}/messages"
    response = await client.post(url, headers=bot.headers,
                                 data=discordpy_form({"content": "two"}, ("a.txt", b"A"), ("b.txt", b"B")))  # fmt: skip
    sent = await response.json()
    a, b = sent["attachments"]
    keep_b = {"attachments": [{"id": b["id"]}]}
    response = await client.patch(f"{url}/{sent['id']}", headers=bot.headers, json=keep_b)
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert_matches_spec("PATCH", "/channels/{channel_id}/messages/{message_id}", 200, edited)
    assert [x["id"] for x in edited["attachments"]] == [b["id"]]
    assert (await _fetch(client, a["url"]))[0] == 404
    assert (await _fetch(client, b["url"]))[1] == b"B"
    response = await client.patch(f"{url}/{sent['id']}", headers=owner.headers, json={"attachments": []})
    assert response.status == 403 and (await response.json())["code"] == 50005
    response = await client.delete(f"{url}/{sent['id']}", headers=bot.headers)
    assert response.status == 204
    status, body, _ = await _fetch(client, b["url"])
    assert status == 404 and b'"code"' in body
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


async def test_a_25_mib_upload_never_sits_in_memory(client: Client, register: Any) -> None:
    """At the default limit the server streams: while 25 MiB pass through it, Python's traced
    memory peaks far below the file's size (the client streams its body from a generator too)."""
    owner = await register("owner")
    guild = await (await client.post(f"{API}/guilds", headers=owner.headers, json={"name": "Big"})).json()
    channel = (
        await (await client.get(f"{API}/guilds/{guild['id']}/channels", headers=owner.headers)).json()
    )[0]
    size, piece = 25 * 1024 * 1024, os.urandom(64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "big"}))
    form.add_field("files[0]", body(), filename="big.bin", content_type="application/octet-stream")
    tracemalloc.start()
    try:
        response = await client.post(
            f"{API}/channels/{channel['id']}/messages", headers=owner.headers, data=form
        )
        assert response.status == 200, await response.text()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (attachment,) = (await response.json())["attachments"]
    assert attachment["size"] == size
    assert peak < size // 4, f"peak {peak} bytes while uploading {size}"
    status, data, _ = await _fetch(client, attachment["url"])
    assert status == 200 and len(data) == size and data[: len(piece)] == piece


async def test_a_nonce_retry_keeps_the_first_files_only(small_limit_client: Client, tmp_path: Path) -> None:
    client = small_limit_client
    _, bot, cid = await _room(client)
    sent = []
    for data in (b"first", b"second"):
        form = discordpy_form({"content": "once", "nonce": "n-1"}, ("a.txt", data))
        response = await client.post(f"{API}/channels/{cid}/messages", headers=bot.headers, data=form)
        assert response.status == 200, await response.text()
        sent.append(await response.json())
    assert sent[0] == sent[1]
    assert (await _fetch(client, sent[0]["attachments"][0]["url"]))[1] == b"first"
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 1


async def test_deleting_a_channel_or_its_guild_removes_its_files(small_limit_client: Client) -> None:
    client = small_limit_client
    owner, _, cid = await _room(client)
    guild_id = (await (await client.get(f"{API}/channels/{cid}", headers=owner.headers)).json())["guild_id"]
    second = await client.post(f"{API}/guilds/{guild_id}/channels", headers=owner.headers, json={"name": "b"})
    other = (await second.json())["id"]
    urls = {}
    for channel in (cid, other):
        form = discordpy_form(
            {"content": "f", "attachments": [{"id": 0, "filename": "a.bin"}]}, ("a.bin", b"abc")
        )
        sent = await client.post(f"{API}/channels/{channel}/messages", headers=owner.headers, data=form)
        assert sent.status == 200, await sent.text()
        urls[channel] = (await sent.json())["attachments"][0]["url"]
        assert (await _fetch(client, urls[channel]))[:2] == (200, b"abc")
    assert (await client.delete(f"{API}/channels/{other}", headers=owner.headers)).status == 200
    assert (await _fetch(client, urls[other]))[0] == 404  # its bytes left the store with it
    assert (await _fetch(client, urls[cid]))[:2] == (200, b"abc")  # the other channel's stay
    assert (await client.delete(f"{API}/guilds/{guild_id}", headers=owner.headers)).status == 204
    assert (await _fetch(client, urls[cid]))[0] == 404


async def test_an_edge_sweeps_crash_leftovers_at_start_up(tmp_path: Path) -> None:
    db = tmp_path / "rayguild.sqlite3"
    cluster = LocalCluster(Config(sqlite_path=str(db), tick_ms=1.0), lambda: SqliteStorage(db))
    blobs = cluster.storage_factory().blobs
    assert isinstance(blobs, DirectoryBlobStore)
    leftover = blobs.root / "attachments" / "1" / "2.tmp-0123"  # a put that crashed long ago
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    os.utime(leftover, (time.time() - SWEEP_AGE_S - 60,) * 2)
    async with TestClient(TestServer(build_app(await cluster.edge(0)))):
        for _ in range(500):  # the first pass runs as the edge starts
            if not leftover.exists():
                break
            await asyncio.sleep(0.01)
        assert not leftover.exists()
    await cluster.close()
