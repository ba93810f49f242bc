"""The real discord.js 14 (unmodified but for its API base) starts a public thread from a message
and a private one, posts in both, adds a member, archives and locks: the member receives the
private thread's message, a guild member outside it does not, and both receive the public one."""

from __future__ import annotations

from tests.clients import discordjs_bots

from .conftest import Edge
from .test_threads import INTENTS, _connect, _guild_of_three, _until


async def test_discordjs_threads(edge: Edge) -> None:
    base = edge.for_libraries()
    channel, [(token, owner, owner_h), (alice_token, alice, _), (bob_token, _, _)] = await _guild_of_three(
        edge
    )
    alice_gw, bob_gw = await _connect(edge, alice_token, INTENTS), await _connect(edge, bob_token, INTENTS)
    seen = await discordjs_bots.run("threads.mjs", base, token, channel["id"], alice["id"])
    assert (seen["public_type"], seen["private_type"], seen["invitable"]) == (11, 12, False)
    assert seen["cached"] and seen["own_message_in_thread"]
    assert seen["members"] == sorted([owner["id"], alice["id"]]) and seen["member_has_guild_member"]
    assert seen["active"] == sorted([seen["public"], seen["private"]]) and seen["archived"]
    assert seen["archived_private"] == [seen["private"]] and seen["archived_public"] == [seen["public"]]

    starter = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert starter["channel_id"] == channel["id"]
    public_message = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert public_message["id"] == seen["public_message"] and public_message["channel_id"] == seen["public"]
    invited = (await alice_gw.dispatch("THREAD_CREATE"))["d"]
    assert invited["id"] == seen["private"] and invited["member"]["user_id"] == alice["id"]
    secret = (await alice_gw.dispatch("MESSAGE_CREATE"))["d"]
    assert secret["id"] == seen["private_message"] and secret["content"] == "js members only"

    marker = await edge.rest("POST", f"/channels/{channel['id']}/messages", owner_h, json={"content": "end"})
    from_threads = await _until(bob_gw, "MESSAGE_CREATE", "MESSAGE_CREATE", marker["id"])
    assert [m["id"] for m in from_threads if m["channel_id"] != channel["id"]] == [seen["public_message"]]
