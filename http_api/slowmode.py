"""Slowmode (a channel's or thread's ``rate_limit_per_user``) enforced on message create, as
Discord's: after a message, its author waits that many seconds before the next one in the same
channel; sooner is 429 with code 20016 and ``retry_after``. Bots and members who may
MANAGE_MESSAGES or MANAGE_CHANNELS there are unaffected; so are DMs.

The time of each author's last message in a slowed channel is a settings document of the channel
(``slowmode:<user id>``), claimed by compare-and-set (``swap_setting``) before the message is
created, so every edge enforces the same wait: of messages racing from one author, on any edges,
exactly one passes; the others see the winner's mark and get the 429. Each claim carries a nonce
of its own: a compare-and-set that timed out (Cassandra's WriteTimeout of type CAS) may or may not
have applied, so the mark is read again and the message passes only if the stored claim is its
own (429 otherwise; 503 if that read fails too), as ``ScyllaStorage.change_member`` re-reads.
"""

from __future__ import annotations

import json
import secrets

from rayguild.errors import StorageUnavailable
from rayguild.fanout.permissions import MANAGE_CHANNELS, MANAGE_MESSAGES
from rayguild.http_api.access import ChannelAccess
from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import ApiError
from rayguild.http_api.extra_fields import channel_extras
from rayguild.http_api.guild_cache import GuildReader
from rayguild.http_api.moderation import now_ms
from rayguild.storage.models import User
from rayguild.storage.thread_models import THREAD_TYPES

SLOWMODE = 20016
# A lost claim means another message of the author's was just accepted, so the re-read refuses;
# a bound all the same, for a mark that changes under the reader more than that.
_TRIES = 3


async def rate_limit_of(ctx: EdgeContext, found: ChannelAccess) -> int:
    """The channel's ``rate_limit_per_user`` in seconds (0: no slowmode)."""
    if found.channel.type in THREAD_TYPES:
        thread = await ctx.storage.get_thread(found.channel.id)
        return thread.rate_limit_per_user if thread is not None else 0
    return int((await channel_extras(ctx, found.channel)).get("rate_limit_per_user", 0))


async def check(ctx: EdgeContext, found: ChannelAccess, author: User, guild: GuildReader) -> None:
    """Refuse (429 20016) a message ``author`` may not send yet; else claim the slot for it. The
    channel's slowmode is kept by the edge's ``guild_cache``, read through ``guild``."""
    if found.access is None or author.bot or found.permissions & (MANAGE_MESSAGES | MANAGE_CHANNELS):
        return
    seconds = await guild.get(("slowmode", found.channel.id), lambda: rate_limit_of(ctx, found))
    if not seconds:
        return
    channel, name = found.channel.id, f"slowmode:{author.id}"
    for _ in range(_TRIES):
        last = await ctx.storage.get_setting(channel, name)
        wait_ms = _wait_ms(last, seconds)
        if wait_ms > 0:
            raise _slowed(wait_ms)
        claim = json.dumps({"at": now_ms(), "claim": secrets.token_hex(8)})
        try:
            if await ctx.storage.swap_setting(channel, name, last, claim):
                return
        except StorageUnavailable:  # timed out: it may have applied; the stored claim says
            stored = await ctx.storage.get_setting(channel, name)  # raises too: 503
            if stored == claim:
                return
            raise _slowed(max(_wait_ms(stored, seconds), 1000)) from None
    raise _slowed(seconds * 1000)  # every claim lost to another message of the author's: one passed


def _wait_ms(mark: str | None, seconds: int) -> int:
    """How long the author still waits after the claim ``mark`` (the time of a message, in ms
    since the epoch; a bare number before claims carried a nonce)."""
    if mark is None:
        return 0
    found = json.loads(mark)
    at = found["at"] if isinstance(found, dict) else found
    return int(at) + seconds * 1000 - now_ms()


def _slowed(wait_ms: int) -> ApiError:
    return ApiError(429, SLOWMODE, "This action cannot be performed due to slowmode rate limit.",
                    headers={"Retry-After": str(-(-wait_ms // 1000))},
                    extra={"retry_after": wait_ms / 1000, "global": False})  # fmt: skip
