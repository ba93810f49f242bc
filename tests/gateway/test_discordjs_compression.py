"""A real discord.js 14 bot reads the sized zlib-stream: it connects with ``compress=zlib-stream``
(zlib-sync installed, as discord.js needs for it), gets READY and GUILD_CREATE, stays quiet long
enough for the edge to free its deflate context, then receives a MESSAGE_CREATE that the edge
compressed with a fresh raw context continuing the same stream. zstd-stream is not offered by
discord.js 14 (@discordjs/ws 1 speaks zlib-stream only); discord.py covers zstd (test_discordpy.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rayguild.http_api.keys import REGISTRY, WIRE
from tests.clients import discordjs_bots

from .conftest import Edge

QUIET_MS = 1500  # the bot's silence after READY: several sweeps of the shortened idle period


async def test_discordjs_bot_reads_the_sized_zlib_stream_across_a_released_context(edge: Edge) -> None:
    base = edge.for_libraries()
    wire = edge.client.app[WIRE]
    wire.idle_s = 0.3  # 10 s in service
    token, _, guild, channel = await edge.guild_with_bot()
    seen = await discordjs_bots.run("compressed.mjs", base, token, channel["id"], str(QUIET_MS))
    assert "error" not in seen, seen
    assert parse_qs(urlsplit(seen["url"]).query)["compress"] == ["zlib-stream"], seen["debug"]
    assert seen["compression"] == "zlib-stream"
    registry = edge.client.app[REGISTRY]
    assert registry.get_sample_value("rayguild_gateway_opened_total", {"compress": "zlib-stream"}) == 1
    assert registry.get_sample_value("rayguild_gateway_opened_total", {"compress": "none"}) is None
    assert seen["user"] == "robot" and seen["guilds"] == [guild["name"]]
    assert seen["received_id"] == seen["sent_id"]
    assert wire.released >= 1, "the bot's context was never freed: the test proved nothing about it"
