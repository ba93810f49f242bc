"""rayguild's storage: the ``Storage`` protocol, its records, and the two backends behind it.

``open_storage(config)`` returns the backend the configuration names, not yet started.
"""

from __future__ import annotations

import typing

from rayguild.storage.credentials import Credential, CredentialStore
from rayguild.storage.models import (
    Channel,
    Device,
    Guild,
    Invite,
    Member,
    Message,
    MessageReference,
    Overwrite,
    PendingPush,
    Pin,
    ReactionCount,
    Role,
    SessionStarts,
    User,
)
from rayguild.storage.protocol import (
    MAX_HISTORY_LIMIT,
    MAX_MEMBERS_LIMIT,
    AccountStore,
    GuildStore,
    HistoryQuery,
    MessageStore,
    PushStore,
    ReactionStore,
    SessionStartStore,
    Storage,
)
from rayguild.storage.scylla import ScyllaStorage
from rayguild.storage.sqlite import SqliteStorage

if typing.TYPE_CHECKING:
    from rayguild.config import Config

__all__ = [
    "MAX_HISTORY_LIMIT",
    "MAX_MEMBERS_LIMIT",
    "AccountStore",
    "Channel",
    "Credential",
    "CredentialStore",
    "Device",
    "Guild",
    "GuildStore",
    "HistoryQuery",
    "Invite",
    "Member",
    "Message",
    "MessageReference",
    "MessageStore",
    "Overwrite",
    "PendingPush",
    "Pin",
    "PushStore",
    "ReactionCount",
    "ReactionStore",
    "Role",
    "ScyllaStorage",
    "SessionStartStore",
    "SessionStarts",
    "SqliteStorage",
    "Storage",
    "User",
    "open_storage",
]


def open_storage(config: Config) -> Storage:
    """The backend ``config.storage`` names ("sqlite" or "scylla"), configured but not started."""
    if config.storage == "scylla":
        return ScyllaStorage(
            hosts=config.scylla_hosts,
            port=config.scylla_port,
            keyspace=config.scylla_keyspace,
            datacenter=config.scylla_datacenter,
            replication_factor=config.scylla_replication_factor,
            consistency=config.scylla_consistency,
        )
    return SqliteStorage(config.sqlite_path)
