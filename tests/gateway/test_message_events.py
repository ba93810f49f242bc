"""The gateway events of reactions, typing, pins and member roles, each gated by its intent;
MESSAGE_CONTENT's exemptions (the author, mentioned users); a role given or taken changes what
the member's sessions receive from the next event on."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from rayguild.fanout.events import (
    DIRECT_MESSAGE_REACTIONS,
    DIRECT_MESSAGE_TYPING,
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGE_REACTIONS,
    GUILD_MESSAGE_TYPING,
    GUILD_MESSAGES,
    GUILDS,
    MESSAGE_CONTENT,
)

Edge = Any
Gateway = Any
THUMBS = "\N{THUMBS UP SIGN}"
IGNORED = {"PRESENCE_UPDATE", "GUILD_MEMBER_ADD"}


async def next_event(gw: Gateway) -> dict[str, Any]:
    """The next dispatch other than presence noise."""
    while True:
        frame = await gw.recv()
        if frame["op"] == 0 and frame["t"] not in IGNORED:
            return frame


async def joined(
    edge: Edge, owner: dict[str, str], channel: dict[str, Any], name: str, intents: int, bot: bool = True
) -> tuple[dict[str, Any], dict[str, str], Gateway]:
    """A second account (a bot unless ``bot`` is False) in the owner's guild, connected with
    ``intents`` and past GUILD_CREATE."""
    token, user, headers = await edge.register(name, bot=bot)
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", owner, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", headers)
    gw = await edge.connect()
    await gw.identify(token, intents=intents)
    await gw.dispatch("GUILD_CREATE")
    return user, headers, gw


async def test_reaction_typing_and_pin_events(edge: Edge) -> None:
    _, owner, guild, channel = await edge.guild_with_bot()
    intents = GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | GUILD_MESSAGE_TYPING
    _, _, gw = await joined(edge, owner, channel, "watcher", intents)
    cid = channel["id"]
    sent = await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": "hi"})
    assert (await next_event(gw))["t"] == "MESSAGE_CREATE"
    base = f"/channels/{cid}/messages/{sent['id']}/reactions"
    await edge.rest("PUT", f"{base}/{quote(THUMBS)}/@me", owner)
    added = await next_event(gw)
    assert added["t"] == "MESSAGE_REACTION_ADD"
    d = added["d"]
    assert d["emoji"] == {"id": None, "name": THUMBS} and d["message_id"] == sent["id"]
    assert (
        d["channel_id"] == cid
        and d["guild_id"] == guild["id"]
        and d["message_author_id"] == sent["author"]["id"]
    )
    assert d["user_id"] == sent["author"]["id"] and d["member"]["user"]["id"] == d["user_id"]
    await edge.rest("PUT", f"{base}/{quote(THUMBS)}/@me", owner)  # no change: no event
    await edge.rest("DELETE", f"{base}/{quote(THUMBS)}/@me", owner)
    removed = await next_event(gw)
    assert removed["t"] == "MESSAGE_REACTION_REMOVE" and removed["d"]["emoji"]["name"] == THUMBS
    await edge.rest("PUT", f"{base}/party:42/@me", owner)
    assert (await next_event(gw))["d"]["emoji"] == {"id": "42", "name": "party"}
    await edge.rest("DELETE", f"{base}/party:42", owner)
    emoji_gone = await next_event(gw)
    assert emoji_gone["t"] == "MESSAGE_REACTION_REMOVE_EMOJI" and emoji_gone["d"]["emoji"]["id"] == "42"
    await edge.rest("DELETE", base, owner)
    assert (await next_event(gw))["t"] == "MESSAGE_REACTION_REMOVE_ALL"
    await edge.rest("POST", f"/channels/{cid}/typing", owner)
    typing = await next_event(gw)
    assert typing["t"] == "TYPING_START" and typing["d"]["user_id"] == sent["author"]["id"]
    assert typing["d"]["member"]["user"]["id"] == sent["author"]["id"] and typing["d"]["channel_id"] == cid
    await edge.rest("PUT", f"/channels/{cid}/pins/{sent['id']}", owner)
    pins = await next_event(gw)
    assert pins["t"] == "CHANNEL_PINS_UPDATE" and pins["d"]["last_pin_timestamp"] is not None
    await edge.rest("DELETE", f"/channels/{cid}/pins/{sent['id']}", owner)
    assert (await next_event(gw))["d"]["last_pin_timestamp"] is None


async def test_reactions_and_typing_need_their_intents(edge: Edge) -> None:
    _, owner, _, channel = await edge.guild_with_bot()
    _, _, gw = await joined(edge, owner, channel, "quiet", GUILDS | GUILD_MESSAGES)
    cid = channel["id"]
    sent = await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": "one"})
    assert (await next_event(gw))["t"] == "MESSAGE_CREATE"
    await edge.rest("PUT", f"/channels/{cid}/messages/{sent['id']}/reactions/{quote(THUMBS)}/@me", owner)
    await edge.rest("POST", f"/channels/{cid}/typing", owner)
    marker = await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": "two"})
    after = await next_event(gw)
    assert (after["t"], after["d"]["id"]) == ("MESSAGE_CREATE", marker["id"])


async def test_message_content_exemptions(edge: Edge) -> None:
    _, owner, _, channel = await edge.guild_with_bot()
    user, headers, gw = await joined(edge, owner, channel, "nocontent", GUILDS | GUILD_MESSAGES)
    cid = channel["id"]
    await edge.rest(
        "POST", f"/channels/{cid}/messages", owner, json={"content": "private", "embeds": [{"title": "t"}]}
    )
    plain = (await next_event(gw))["d"]
    assert (plain["content"], plain["embeds"]) == ("", [])
    await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": f"hey <@{user['id']}>"})
    assert (await next_event(gw))["d"]["content"] == f"hey <@{user['id']}>"
    own = await edge.rest("POST", f"/channels/{cid}/messages", headers, json={"content": "my own"})
    assert (await next_event(gw))["d"]["content"] == "my own"
    quoting = {"content": "quoting you", "message_reference": {"message_id": own["id"]},
               "allowed_mentions": {"parse": []}}  # fmt: skip
    await edge.rest("POST", f"/channels/{cid}/messages", owner, json=quoting)
    reply = (await next_event(gw))["d"]
    assert (reply["content"], reply["referenced_message"]["content"]) == ("", "")


async def test_a_role_changes_what_the_member_receives_at_once(edge: Edge) -> None:
    _, owner, guild, channel = await edge.guild_with_bot()
    gid = guild["id"]
    role = await edge.rest("POST", f"/guilds/{gid}/roles", owner, json={"name": "insider"})
    hidden = await edge.rest("POST", f"/guilds/{gid}/channels", owner, json={"name": "insiders", "permission_overwrites": [
        {"id": gid, "type": 0, "allow": "0", "deny": str(1 << 10)},
        {"id": role["id"], "type": 0, "allow": str(1 << 10), "deny": "0"},
    ]})  # fmt: skip
    intents = GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | MESSAGE_CONTENT
    user, _, gw = await joined(edge, owner, channel, "member", intents)

    async def post(where: dict[str, Any], content: str) -> None:
        await edge.rest("POST", f"/channels/{where['id']}/messages", owner, json={"content": content})

    await post(hidden, "not for you")
    await post(channel, "general 1")
    assert (await next_event(gw))["d"]["content"] == "general 1"
    await edge.rest("PUT", f"/guilds/{gid}/members/{user['id']}/roles/{role['id']}", owner)
    update = await next_event(gw)
    assert update["t"] == "GUILD_MEMBER_UPDATE"
    assert update["d"]["roles"] == [role["id"]] and update["d"]["user"]["id"] == user["id"]
    assert update["d"]["guild_id"] == gid
    synced = await next_event(gw)  # the channel it now sees: its threads (none here)
    assert (synced["t"], synced["d"]["channel_ids"], synced["d"]["threads"]) == (
        "THREAD_LIST_SYNC",
        [hidden["id"]],
        [],
    )
    await post(hidden, "welcome in")
    assert (await next_event(gw))["d"]["content"] == "welcome in"
    await edge.rest("DELETE", f"/guilds/{gid}/members/{user['id']}/roles/{role['id']}", owner)
    update = await next_event(gw)
    assert (update["t"], update["d"]["roles"]) == ("GUILD_MEMBER_UPDATE", [])
    await post(hidden, "gone again")
    await post(channel, "general 2")
    assert (await next_event(gw))["d"]["content"] == "general 2"


async def test_dm_reactions_typing_and_pins(edge: Edge) -> None:
    _, owner, _, channel = await edge.guild_with_bot()
    intents = DIRECT_MESSAGES | DIRECT_MESSAGE_REACTIONS | DIRECT_MESSAGE_TYPING
    user, _, gw = await joined(edge, owner, channel, "pal", GUILDS | intents, bot=False)
    quiet_user, _, quiet = await joined(edge, owner, channel, "pal2", GUILDS | DIRECT_MESSAGES, bot=False)
    dm = await edge.rest("POST", "/users/@me/channels", owner, json={"recipient_id": user["id"]})
    cid = dm["id"]
    sent = await edge.rest("POST", f"/channels/{cid}/messages", owner, json={"content": "psst"})
    assert (await next_event(gw))["d"]["id"] == sent["id"]
    await edge.rest("PUT", f"/channels/{cid}/messages/{sent['id']}/reactions/{quote(THUMBS)}/@me", owner)
    added = await next_event(gw)
    assert added["t"] == "MESSAGE_REACTION_ADD" and added["d"]["channel_id"] == cid
    assert "guild_id" not in added["d"] and "member" not in added["d"]
    await edge.rest("POST", f"/channels/{cid}/typing", owner)
    typing = await next_event(gw)
    assert typing["t"] == "TYPING_START" and "member" not in typing["d"]
    await edge.rest("PUT", f"/channels/{cid}/pins/{sent['id']}", owner)  # either user may pin a DM
    assert (await next_event(gw))["t"] == "CHANNEL_PINS_UPDATE"
    # Without DIRECT_MESSAGE_REACTIONS / _TYPING: the messages only.
    other = (await edge.rest("POST", "/users/@me/channels", owner, json={"recipient_id": quiet_user["id"]}))[
        "id"
    ]
    first = await edge.rest("POST", f"/channels/{other}/messages", owner, json={"content": "one"})
    assert (await next_event(quiet))["d"]["id"] == first["id"]
    await edge.rest("PUT", f"/channels/{other}/messages/{first['id']}/reactions/{quote(THUMBS)}/@me", owner)
    await edge.rest("POST", f"/channels/{other}/typing", owner)
    second = await edge.rest("POST", f"/channels/{other}/messages", owner, json={"content": "two"})
    assert (await next_event(quiet))["d"]["id"] == second["id"]
