"""Discord's permission arithmetic: scalar for one member (REST checks), columnar for many (fan-out).

Order as Discord computes it: owner and ADMINISTRATOR get everything; otherwise base = @everyone
| roles; then the channel's @everyone overwrite, the OR of the member's role overwrites (deny then
allow), then the member's own overwrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | CHANGE_NICKNAME
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


@dataclass(frozen=True, slots=True)
class PermissionOverwrite:
    id: int
    type: int
    allow: int
    deny: int


def base_permissions(
    guild_id: int,
    owner_id: int,
    user_id: int,
    role_permissions: Mapping[int, int],
    member_roles: Iterable[int],
) -> int:
    """Guild-level permissions of a member; ``role_permissions`` includes @everyone (id = guild id)."""
    if user_id == owner_id:
        return ALL_PERMISSIONS
    perms = role_permissions.get(guild_id, 0)
    for role_id in member_roles:
        perms |= role_permissions.get(role_id, 0)
    return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms


def channel_permissions(
    base: int,
    guild_id: int,
    user_id: int,
    member_roles: Iterable[int],
    overwrites: Sequence[PermissionOverwrite],
) -> int:
    """Apply a channel's overwrites to guild-level permissions ``base``."""
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    by_id = {(o.type, o.id): o for o in overwrites}
    perms = base
    everyone = by_id.get((ROLE_OVERWRITE, guild_id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member_roles:
        role = by_id.get((ROLE_OVERWRITE, role_id))
        if role is not None:
            allow, deny = allow | role.allow, deny | role.deny
    perms = (perms & ~deny) | allow
    member = by_id.get((MEMBER_OVERWRITE, user_id))
    if member is not None:
        perms = (perms & ~member.deny) | member.allow
    return perms


def can_view_columnar(
    role_bits: npt.NDArray[np.uint64],
    user_ids: npt.NDArray[np.int64],
    bit_roles: Sequence[int],
    guild_id: int,
    owner_id: int,
    role_permissions: Mapping[int, int],
    overwrites: Sequence[PermissionOverwrite],
) -> npt.NDArray[np.bool_]:
    """VIEW_CHANNEL for every member at once.

    Members are grouped by their role set (few distinct sets even in huge guilds), the scalar rule
    runs once per set, and the answer is broadcast back; member overwrites and the owner are then
    applied to their rows only. Cost: one np.unique over the members, no per-member Python.
    """
    unique_sets, inverse = np.unique(role_bits, return_inverse=True)
    answers = np.empty(unique_sets.size, dtype=np.bool_)
    for i, bits in enumerate(unique_sets.tolist()):
        roles = [role for bit, role in enumerate(bit_roles) if bits >> bit & 1]
        base = base_permissions(guild_id, -1, 0, role_permissions, roles)
        perms = channel_permissions(base, guild_id, 0, roles, overwrites)
        answers[i] = bool(perms & VIEW_CHANNEL)
    result = answers[inverse.reshape(-1)]
    special = {o.id for o in overwrites if o.type == MEMBER_OVERWRITE} | {owner_id}
    if special:
        rows = np.flatnonzero(np.isin(user_ids, np.fromiter(special, dtype=np.int64)))
        for row in rows.tolist():
            bits = int(role_bits[row])
            roles = [role for bit, role in enumerate(bit_roles) if bits >> bit & 1]
            user = int(user_ids[row])
            base = base_permissions(guild_id, owner_id, user, role_permissions, roles)
            result[row] = bool(channel_permissions(base, guild_id, user, roles, overwrites) & VIEW_CHANNEL)
    return result
