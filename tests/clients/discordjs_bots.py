"""Running a bot script of ``tests/clients/discordjs`` (real discord.js 14) from a test.

Each script takes the server's base URL, a bot token and its own arguments, and prints one JSON
line of what it saw last on stdout (``bootstrap.mjs``). discord.js must be installed there
(``scripts/test.sh`` runs ``npm ci``): a test that needs it fails, never skips, without it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

DISCORDJS_DIR = Path(__file__).parent / "discordjs"


def require_discordjs() -> None:
    if not (DISCORDJS_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: scripts/test.sh runs `npm ci` in tests/clients/discordjs")


async def start(script: str, base: str, token: str, *args: str) -> asyncio.subprocess.Process:
    """The bot ``script`` running against ``base`` (http://host:port), its output piped."""
    require_discordjs()
    return await asyncio.create_subprocess_exec(
        "node", script, base, token, *args,
        cwd=DISCORDJS_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def seen(proc: asyncio.subprocess.Process, timeout_s: float = 120.0) -> dict[str, Any]:
    """What the bot saw (its last line), once it exited successfully."""
    out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout_s)
    assert proc.returncode == 0, err.decode()[-3000:]
    record: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return record


async def run(script: str, base: str, token: str, *args: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Run the bot to its end; what it saw."""
    return await seen(await start(script, base, token, *args), timeout_s)
