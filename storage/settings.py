"""Small JSON documents kept per owner (a guild or an application) under a name: a guild's widget
settings, welcome screen and onboarding, an application's description and role-connection
metadata; a guild's emojis, stickers, soundboard sounds, scheduled events (and who is interested),
auto-moderation rules and templates, one document each; the stamp the edges' guild caches check
(``http_api/guild_cache.py``) and a channel's slowmode marks, both written by compare-and-set; a
user's role connections; the listing of a guild's invites; a user's profile update. The ``SettingsStore``
protocol every backend implements.

Guarantees (tests/contract/test_moderation.py, on every backend): ``put_setting`` replaces the
whole document durably; ``get_setting`` returns the last one written, or None; one document per
name, so writers of different names (one emoji each) never overwrite each other;
``swap_setting`` is a compare-and-set: of concurrent swaps from one document exactly one wins.
"""

from __future__ import annotations

from typing import Protocol

from rayguild.storage.models import Invite, User

MAX_SETTING_BYTES = 384 * 1024  # a 256 KiB emoji image as a base64 data URI


class SettingsStore(Protocol):
    async def put_setting(self, owner_id: int, name: str, document: str) -> None:
        """Store ``document`` (JSON text, at most MAX_SETTING_BYTES) as ``name`` of ``owner_id``."""
        ...

    async def get_setting(self, owner_id: int, name: str) -> str | None: ...

    async def swap_setting(self, owner_id: int, name: str, expected: str | None, document: str) -> bool:
        """Store ``document`` as ``name`` of ``owner_id`` only if the one stored now is ``expected``
        (None: there is none); True if stored. Of concurrent swaps from one ``expected`` exactly one
        wins. A document written by swaps is written only by swaps (on Cassandra a plain write of
        the same row does not take part in the lightweight transactions' ordering)."""
        ...

    async def list_settings(self, owner_id: int, prefix: str) -> list[tuple[str, str]]:
        """Every (name, document) of ``owner_id`` whose name starts with ``prefix``, by name."""
        ...

    async def delete_setting(self, owner_id: int, name: str) -> bool: ...

    async def update_user(self, user: User) -> bool:
        """Replace an existing user's profile (username, global_name, avatar; its token stays);
        False if there is no such user."""
        ...

    async def list_invites(self, guild_id: int) -> list[Invite]:
        """The guild's live invites (expired ones are left out), ordered by code."""
        ...
