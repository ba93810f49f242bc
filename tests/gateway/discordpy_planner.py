"""A plain discord.py 2.x bot that plans and guards a guild against a rayguild edge (the subprocess
of test_discordpy_planner.py), through discord.py's own calls: creates an external scheduled event,
edits and lists it, creates a keyword auto-moderation rule, prints "ready" and waits for the rule
to act on a member's message (the test posts it), then deletes both.

argv: base URL, bot token, guild id. Prints "ready", then one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from datetime import UTC, datetime, timedelta

import discord
import yarl

DEADLINE_S = 30.0


def main() -> None:
    base, token, guild_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    client = discord.Client(intents=discord.Intents.default())  # scheduled events and automod included
    seen: dict[str, object] = {}
    events: dict[str, asyncio.Event] = {k: asyncio.Event() for k in ("created", "updated", "rule", "action")}

    @client.event
    async def on_scheduled_event_create(event: discord.ScheduledEvent) -> None:
        seen["event_created"] = event.name
        events["created"].set()

    @client.event
    async def on_scheduled_event_update(
        before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        seen["event_updated"] = after.name
        events["updated"].set()

    @client.event
    async def on_automod_rule_create(rule: discord.AutoModRule) -> None:
        seen["rule_created"] = rule.name
        events["rule"].set()

    @client.event
    async def on_automod_action(execution: discord.AutoModAction) -> None:
        seen["action"] = [str(execution.rule_id), execution.matched_keyword, str(execution.user_id)]
        events["action"].set()

    @client.event
    async def on_ready() -> None:
        try:
            await plan()
        except Exception:
            seen["error"] = traceback.format_exc()
        finally:
            await client.close()

    async def plan() -> None:
        guild = client.get_guild(guild_id)
        assert guild is not None
        start = datetime.now(UTC) + timedelta(days=1)
        event = await guild.create_scheduled_event(
            name="Picnic", start_time=start, end_time=start + timedelta(hours=2),
            entity_type=discord.EntityType.external, location="The park",
            privacy_level=discord.PrivacyLevel.guild_only, reason="summer",
        )  # fmt: skip
        await asyncio.wait_for(events["created"].wait(), DEADLINE_S)
        await event.edit(name="Big picnic")
        await asyncio.wait_for(events["updated"].wait(), DEADLINE_S)
        seen["listed"] = [(e.name, e.location) for e in await guild.fetch_scheduled_events()]
        rule = await guild.create_automod_rule(
            name="No spoilers", event_type=discord.AutoModRuleEventType.message_send,
            trigger=discord.AutoModTrigger(keyword_filter=["spoiler*"]),
            actions=[discord.AutoModRuleAction(custom_message="No spoilers here")], enabled=True,
        )  # fmt: skip
        await asyncio.wait_for(events["rule"].wait(), DEADLINE_S)
        seen["rules"] = [(r.name, r.trigger.keyword_filter) for r in await guild.fetch_automod_rules()]
        print("ready", flush=True)
        await asyncio.wait_for(events["action"].wait(), DEADLINE_S)
        seen["rule_id"] = str(rule.id)
        await rule.delete()
        await event.delete()
        seen["left"] = [len(await guild.fetch_scheduled_events()), len(await guild.fetch_automod_rules())]

    asyncio.run(asyncio.wait_for(client.start(token), timeout=60))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
