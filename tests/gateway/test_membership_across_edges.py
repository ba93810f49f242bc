"""A user who joins or leaves a guild through one edge: their sessions on another edge follow."""

from __future__ import annotations

from rayguild.fanout.events import ALL_INTENTS

from .conftest import Edge


async def test_join_and_leave_reach_the_users_sessions_on_every_edge(two_edges: tuple[Edge, Edge]) -> None:
    a, b = two_edges
    _, headers, guild, channel = await a.guild_with_bot()
    joiner_token, _, joiner_headers = await a.register("joiner")
    elsewhere = await b.connect()  # the joiner's client is connected to the OTHER edge
    ready = await elsewhere.identify(joiner_token, intents=ALL_INTENTS)
    assert ready["d"]["guilds"] == []

    invite = await a.rest("POST", f"/channels/{channel['id']}/invites", headers, json={})
    await a.rest("POST", f"/invites/{invite['code']}", joiner_headers)  # accepted through edge A
    created = await elsewhere.dispatch("GUILD_CREATE")
    assert created["d"]["id"] == guild["id"]

    await a.rest("POST", f"/channels/{channel['id']}/messages", headers, json={"content": "welcome"})
    assert (await elsewhere.dispatch("MESSAGE_CREATE"))["d"]["content"] == "welcome"

    await a.rest("DELETE", f"/users/@me/guilds/{guild['id']}", joiner_headers)  # left through edge A
    assert (await elsewhere.dispatch("GUILD_DELETE"))["d"]["id"] == guild["id"]
