"""Real discord.py 2.x and discord.js 14 bots sync their slash commands (global and guild), and a
user runs them the way Discord's client does (POST /interactions): the bot answers at once,
deferred-then-edited, ephemerally and with a followup; a click on its button, an autocomplete
request and a modal (shown, then submitted) reach it too."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clients import discordjs_bots

from .conftest import EdgeFactory, Gateway
from .test_interactions import settled

DISCORDPY_BOT = Path(__file__).with_name("discordpy_commands_bot.py")
TIMEOUT_S = 30
BOTS = {
    "discord.py": (sys.executable, str(DISCORDPY_BOT)),
    "discord.js": ("node", str(discordjs_bots.DISCORDJS_DIR / "commands.mjs")),
}


async def next_message(user: Gateway, t: str, content: str) -> dict[str, Any]:
    """The next ``t`` dispatch whose content is ``content`` (earlier ones are skipped)."""
    while True:
        d: dict[str, Any] = (await user.dispatch(t))["d"]
        if d.get("content") == content:
            return d


async def bot_online(user: Gateway, bot_id: str) -> None:
    """Until the user sees the bot come online: its session is then known to the user path, so
    an interaction is delivered to it (one sent before would reach no session, as on Discord)."""
    while True:
        d = (await user.dispatch("PRESENCE_UPDATE"))["d"]
        if d["user"]["id"] == bot_id and d["status"] == "online":
            return


@pytest.mark.parametrize("library", sorted(BOTS))
async def test_slash_command_bot(make_edge: EdgeFactory, library: str) -> None:
    if library == "discord.js":
        discordjs_bots.require_discordjs()
    # A bot process on a loaded machine may take longer than Discord's 3 s to answer; the
    # deadline itself is tested in test_interactions.py.
    edge = await make_edge(interaction_ack_timeout_s=60.0)
    base = edge.for_libraries()
    bot_token, bot, bot_headers = await edge.register("slasher")
    user_token, _, user_headers = await edge.register("alice", bot=False)
    guild = await edge.rest("POST", "/guilds", user_headers, json={"name": "Slash"})
    channel = (await edge.rest("GET", f"/guilds/{guild['id']}/channels", user_headers))[0]
    invite = await edge.rest("POST", f"/channels/{channel['id']}/invites", user_headers, json={})
    await edge.rest("POST", f"/invites/{invite['code']}", bot_headers)
    user = await edge.connect()
    await user.identify(user_token)
    await settled(user)
    proc = await asyncio.create_subprocess_exec(
        *BOTS[library], base, bot_token, guild["id"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=TIMEOUT_S)
        assert line.strip() == b"SYNCED", line  # printed once the bot is ready (after READY)
        await bot_online(user, bot["id"])
        commands = {
            c["name"]: c for c in await edge.rest("GET", f"/applications/{bot['id']}/commands", bot_headers)
        }
        guild_path = f"/applications/{bot['id']}/guilds/{guild['id']}/commands"
        commands |= {c["name"]: c for c in await edge.rest("GET", guild_path, bot_headers)}
        text = commands["echo"]["options"][0]
        assert (text["type"], text["name"], text["description"], text["required"]) == (
            3,
            "text",
            "what to say",
            True,
        )

        async def run(name: str, **data: Any) -> None:
            command = commands[name]
            body = {"type": 2, "application_id": bot["id"], "guild_id": guild["id"], "channel_id": channel["id"],
                    "nonce": name, "data": {"id": command["id"], "name": name, "type": 1, **data}}  # fmt: skip
            await edge.rest("POST", "/interactions", user_headers, json=body)

        await run("echo", options=[{"type": 3, "name": "text", "value": "hi"}])
        echoed = await next_message(user, "MESSAGE_CREATE", "echo: hi")
        assert echoed["interaction_metadata"]["name"] == "echo" and echoed["components"][0]["type"] == 1
        button = echoed["components"][0]["components"][0]
        click = {"type": 3, "application_id": bot["id"], "guild_id": guild["id"], "channel_id": channel["id"],
                 "message_id": echoed["id"], "nonce": "click",
                 "data": {"component_type": 2, "custom_id": button["custom_id"]}}  # fmt: skip
        await edge.rest("POST", "/interactions", user_headers, json=click)
        clicked = await next_message(user, "MESSAGE_UPDATE", "clicked")
        assert clicked["id"] == echoed["id"] and clicked["components"] == []

        typing = {"type": 4, "application_id": bot["id"], "channel_id": channel["id"], "nonce": "typing",
                  "data": {"id": commands["echo"]["id"], "name": "echo", "type": 1,
                           "options": [{"type": 3, "name": "text", "value": "he", "focused": True}]}}  # fmt: skip
        await edge.rest("POST", "/interactions", user_headers, json=typing)
        suggested = (await user.dispatch("APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE"))["d"]
        assert suggested["choices"] == [{"name": "he-suggested", "value": "he-suggested"}]

        await run("ask")
        modal = (await user.dispatch("INTERACTION_MODAL_CREATE"))["d"]
        assert modal["title"] == "Tell me"
        submit = {"type": 5, "application_id": bot["id"], "channel_id": channel["id"], "nonce": "submit",
                  "data": {"id": modal["id"], "custom_id": modal["custom_id"], "components": [
                      {"type": 1, "components": [{"type": 4, "custom_id": "answer", "value": "42"}]}]}}  # fmt: skip
        await edge.rest("POST", "/interactions", user_headers, json=submit)
        await next_message(user, "MESSAGE_CREATE", "you said 42")

        await run("slow")
        loading = (await user.dispatch("MESSAGE_CREATE"))["d"]
        assert loading["flags"] & 128
        assert (await next_message(user, "MESSAGE_UPDATE", "done slowly"))["id"] == loading["id"]

        await run("secret")
        secret = await next_message(user, "MESSAGE_CREATE", "only you")
        assert secret["flags"] & 64
        followup = await next_message(user, "MESSAGE_CREATE", "and a followup")
        assert followup["interaction_metadata"]["user"]["username"] == "alice"

        history = await edge.rest("GET", f"/channels/{channel['id']}/messages", user_headers)
        assert [m["content"] for m in history] == ["and a followup", "done slowly", "you said 42", "clicked"]
        await run("stop")
        out, err = await asyncio.wait_for(proc.communicate(), timeout=TIMEOUT_S)
    except BaseException as failure:
        if proc.returncode is None:
            proc.kill()
        _, err = await proc.communicate()
        raise AssertionError(f"{library} bot's stderr: {err.decode()[-3000:]}") from failure
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["global"] == ["echo"] and seen["guild"] == ["ask", "secret", "slow", "stop"]
    names = ["echo", "ask", "slow", "secret", "stop"]
    assert seen["invoked"] == [[name, "alice"] for name in names]
    assert seen["clicked_by"] == "alice" and str(seen["echo_message_id"]) == echoed["id"]
    assert seen["slow_edited"] == "done slowly"
    assert str(seen["followup_interaction"]) == followup["interaction_metadata"]["id"]
