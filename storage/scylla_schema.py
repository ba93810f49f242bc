"""The CQL of the Scylla backend: tables created idempotently (IF NOT EXISTS) and its statements.

Messages follow Discord's layout: partition ``(channel_id, bucket)`` with 10-day buckets and
``message_id`` clustering DESC; ``message_buckets`` records which buckets of a channel hold
messages so history skips the empty ones. Every other table is keyed for the one query that
reads it (members clustered by ``user_id`` ASC for paging).
"""

from __future__ import annotations

_MSG = (
    "channel_id, bucket, message_id, author_id, content, guild_id, type, nonce, edited_at_ms, "
    "mention_ids, mention_everyone, rich"
)
_CHAN = "channel_id, guild_id, name, type, position, topic, parent_id, overwrites"
_INVITE = "code, guild_id, channel_id, inviter_id, created_at_ms, max_age_s, max_uses, uses"
# (``token`` is a CQL function name: the columns say ``device_token`` and ``push_key``.)
_PUSH = "shard, push_key, user_id, provider, device_token, body, created_at_ms"
# Every statement the backend runs, prepared once at start-up.
STATEMENTS = {
    "msg_put": f"INSERT INTO messages ({_MSG}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
    "msg_get": f"SELECT {_MSG}, pinned, reacted FROM messages WHERE channel_id=? AND bucket=? "
    "AND message_id=?",
    "msg_edit": "UPDATE messages SET content=?, edited_at_ms=?, mention_ids=?, mention_everyone=?, "
    "rich=? WHERE channel_id=? AND bucket=? AND message_id=?",
    "msg_del": "DELETE FROM messages WHERE channel_id=? AND bucket=? AND message_id=?",
    "msg_older": f"SELECT {_MSG}, pinned, reacted FROM messages WHERE channel_id=? AND bucket=? AND message_id<? LIMIT ?",
    "msg_newer": f"SELECT {_MSG}, pinned, reacted FROM messages WHERE channel_id=? AND bucket=? AND message_id>? "
    "ORDER BY message_id ASC LIMIT ?",
    "react_get": "SELECT user_id FROM reactions WHERE channel_id=? AND message_id=? AND emoji=? AND user_id=?",
    "react_put": "INSERT INTO reactions (channel_id, message_id, emoji, user_id) VALUES (?,?,?,?)",
    "react_del": "DELETE FROM reactions WHERE channel_id=? AND message_id=? AND emoji=? AND user_id=?",
    "react_del_emoji": "DELETE FROM reactions WHERE channel_id=? AND message_id=? AND emoji=?",
    "react_drop": "DELETE FROM reactions WHERE channel_id=? AND message_id=?",
    "react_counts": "SELECT emoji, COUNT(*) AS n FROM reactions WHERE channel_id=? AND message_id=? GROUP BY emoji",
    "react_users": "SELECT user_id FROM reactions WHERE channel_id=? AND message_id=? AND emoji=? AND user_id>? "
    "LIMIT ?",
    "msg_reacted": "UPDATE messages SET reacted=true WHERE channel_id=? AND bucket=? AND message_id=?",
    "msg_pinned": "UPDATE messages SET pinned=? WHERE channel_id=? AND bucket=? AND message_id=?",
    "pin_get": "SELECT message_id FROM pins WHERE channel_id=? AND message_id=?",
    "pin_put": "INSERT INTO pins (channel_id, message_id, pinned_at_ms) VALUES (?,?,?)",
    "pin_del": "DELETE FROM pins WHERE channel_id=? AND message_id=?",
    "pin_list": "SELECT message_id, pinned_at_ms FROM pins WHERE channel_id=?",
    "bucket_put": "INSERT INTO message_buckets (channel_id, bucket) VALUES (?,?)",
    "buckets_down": "SELECT bucket FROM message_buckets WHERE channel_id=? AND bucket<=?",
    "buckets_up": "SELECT bucket FROM message_buckets WHERE channel_id=? AND bucket>=? ORDER BY bucket ASC",
    "nonce_claim": "INSERT INTO message_nonces (channel_id, author_id, nonce, message_id) "
    "VALUES (?,?,?,?) IF NOT EXISTS",
    "nonce_del": "DELETE FROM message_nonces WHERE channel_id=? AND author_id=? AND nonce=? IF EXISTS",
    "user_put": "INSERT INTO users (user_id, username, bot, global_name, avatar, discriminator) "
    "VALUES (?,?,?,?,?,?)",
    "user_get": "SELECT * FROM users WHERE user_id=?",
    "token_put": "INSERT INTO users_by_token (token_hash, user_id) VALUES (?,?)",
    "token_get": "SELECT user_id FROM users_by_token WHERE token_hash=?",
    "guild_put": "INSERT INTO guilds (guild_id, name, owner_id, icon, description) VALUES (?,?,?,?,?)",
    "guild_get": "SELECT * FROM guilds WHERE guild_id=?",
    "guild_del": "DELETE FROM guilds WHERE guild_id=?",
    "chan_put": f"INSERT INTO channels ({_CHAN}) VALUES (?,?,?,?,?,?,?,?)",
    "gchan_put": f"INSERT INTO guild_channels ({_CHAN}) VALUES (?,?,?,?,?,?,?,?)",
    "chan_get": f"SELECT {_CHAN} FROM channels WHERE channel_id=?",
    "chan_list": f"SELECT {_CHAN} FROM guild_channels WHERE guild_id=?",
    "chan_del": "DELETE FROM channels WHERE channel_id=?",
    "gchan_del": "DELETE FROM guild_channels WHERE guild_id=? AND channel_id=?",
    "gchan_drop": "DELETE FROM guild_channels WHERE guild_id=?",
    "role_put": "INSERT INTO roles (guild_id, role_id, name, permissions, position, color, hoist, "
    "mentionable) VALUES (?,?,?,?,?,?,?,?)",
    "role_list": "SELECT * FROM roles WHERE guild_id=?",
    "role_del": "DELETE FROM roles WHERE guild_id=? AND role_id=?",
    "role_drop": "DELETE FROM roles WHERE guild_id=?",
    "member_put": "INSERT INTO members (guild_id, user_id, joined_at_ms, roles, nick) VALUES (?,?,?,?,?)",
    "member_get": "SELECT * FROM members WHERE guild_id=? AND user_id=?",
    "member_page": "SELECT * FROM members WHERE guild_id=? AND user_id>? LIMIT ?",
    "member_del": "DELETE FROM members WHERE guild_id=? AND user_id=?",
    "member_cas": "UPDATE members SET roles=?, nick=? WHERE guild_id=? AND user_id=? IF roles=? AND nick=?",
    "member_drop": "DELETE FROM members WHERE guild_id=?",
    "ug_put": "INSERT INTO guilds_by_user (user_id, guild_id) VALUES (?,?)",
    "ug_list": "SELECT guild_id FROM guilds_by_user WHERE user_id=?",
    "ug_del": "DELETE FROM guilds_by_user WHERE user_id=? AND guild_id=?",
    "inv_put": f"INSERT INTO invites ({_INVITE}) VALUES (?,?,?,?,?,?,?,?)",
    "inv_get": f"SELECT {_INVITE} FROM invites WHERE code=?",
    "inv_use": "UPDATE invites SET uses=? WHERE code=? IF uses=?",
    "inv_del": "DELETE FROM invites WHERE code=? IF EXISTS",
    "ginv_put": "INSERT INTO invites_by_guild (guild_id, code) VALUES (?,?)",
    "ginv_list": "SELECT code FROM invites_by_guild WHERE guild_id=?",
    "ginv_drop": "DELETE FROM invites_by_guild WHERE guild_id=?",
    "dev_put": "INSERT INTO devices (user_id, device_token, provider, created_at_ms) VALUES (?,?,?,?)",
    "dev_list": "SELECT user_id, provider, device_token, created_at_ms FROM devices WHERE user_id=?",
    "dev_get": "SELECT device_token FROM devices WHERE user_id=? AND device_token=?",
    "dev_del": "DELETE FROM devices WHERE user_id=? AND device_token=?",
    "push_put": f"INSERT INTO push_outbox ({_PUSH}) VALUES (?,?,?,?,?,?,?)",
    "push_page": f"SELECT {_PUSH} FROM push_outbox WHERE shard=? AND push_key>? LIMIT ?",
    "push_del": "DELETE FROM push_outbox WHERE shard=? AND push_key=?",
    "starts_get": "SELECT user_id, version, window_start_ms, used, buckets FROM session_starts WHERE user_id=?",
    "starts_new": "INSERT INTO session_starts (version, window_start_ms, used, buckets, user_id) "
    "VALUES (?,?,?,?,?) IF NOT EXISTS",
    "starts_swap": "UPDATE session_starts SET version=?, window_start_ms=?, used=?, buckets=? "
    "WHERE user_id=? IF version=?",
}
INVITE_COLUMNS = tuple(_INVITE.split(", "))
# Columns messages gained after the first release: added at start to a table created before.
ADDED_MESSAGE_COLUMNS = {"rich": "text", "pinned": "boolean", "reacted": "boolean"}

TABLES = (
    """CREATE TABLE IF NOT EXISTS messages (
        channel_id bigint, bucket int, message_id bigint, author_id bigint, content text,
        guild_id bigint, type int, nonce text, edited_at_ms bigint, mention_ids list<bigint>,
        mention_everyone boolean, rich text, pinned boolean, reacted boolean,
        PRIMARY KEY ((channel_id, bucket), message_id)
    ) WITH CLUSTERING ORDER BY (message_id DESC)""",
    # One partition per message: its reactions clustered by emoji then user (counted per emoji).
    """CREATE TABLE IF NOT EXISTS reactions (
        channel_id bigint, message_id bigint, emoji text, user_id bigint,
        PRIMARY KEY ((channel_id, message_id), emoji, user_id)
    )""",
    # A channel's pins (at most 50) in one partition.
    """CREATE TABLE IF NOT EXISTS pins (
        channel_id bigint, message_id bigint, pinned_at_ms bigint, PRIMARY KEY (channel_id, message_id)
    )""",
    """CREATE TABLE IF NOT EXISTS message_buckets (
        channel_id bigint, bucket int, PRIMARY KEY (channel_id, bucket)
    ) WITH CLUSTERING ORDER BY (bucket DESC)""",
    """CREATE TABLE IF NOT EXISTS message_nonces (
        channel_id bigint, author_id bigint, nonce text, message_id bigint,
        PRIMARY KEY ((channel_id, author_id, nonce))
    )""",
    """CREATE TABLE IF NOT EXISTS users (
        user_id bigint PRIMARY KEY, username text, bot boolean, global_name text, avatar text,
        discriminator text
    )""",
    "CREATE TABLE IF NOT EXISTS users_by_token (token_hash text PRIMARY KEY, user_id bigint)",
    """CREATE TABLE IF NOT EXISTS guilds (
        guild_id bigint PRIMARY KEY, name text, owner_id bigint, icon text, description text
    )""",
    # A channel is written twice: by id (get_channel) and in its guild's partition (list).
    """CREATE TABLE IF NOT EXISTS channels (
        channel_id bigint PRIMARY KEY, guild_id bigint, name text, type int, position int,
        topic text, parent_id bigint, overwrites list<frozen<tuple<bigint, int, bigint, bigint>>>
    )""",
    """CREATE TABLE IF NOT EXISTS guild_channels (
        guild_id bigint, channel_id bigint, name text, type int, position int, topic text,
        parent_id bigint, overwrites list<frozen<tuple<bigint, int, bigint, bigint>>>,
        PRIMARY KEY (guild_id, channel_id)
    )""",
    """CREATE TABLE IF NOT EXISTS roles (
        guild_id bigint, role_id bigint, name text, permissions bigint, position int, color int,
        hoist boolean, mentionable boolean, PRIMARY KEY (guild_id, role_id)
    )""",
    """CREATE TABLE IF NOT EXISTS members (
        guild_id bigint, user_id bigint, joined_at_ms bigint, roles list<bigint>, nick text,
        PRIMARY KEY (guild_id, user_id)
    ) WITH CLUSTERING ORDER BY (user_id ASC)""",
    """CREATE TABLE IF NOT EXISTS guilds_by_user (
        user_id bigint, guild_id bigint, PRIMARY KEY (user_id, guild_id)
    )""",
    """CREATE TABLE IF NOT EXISTS invites (
        code text PRIMARY KEY, guild_id bigint, channel_id bigint, inviter_id bigint,
        created_at_ms bigint, max_age_s int, max_uses int, uses int
    )""",
    """CREATE TABLE IF NOT EXISTS invites_by_guild (
        guild_id bigint, code text, PRIMARY KEY (guild_id, code)
    )""",
    """CREATE TABLE IF NOT EXISTS devices (
        user_id bigint, device_token text, provider text, created_at_ms bigint,
        PRIMARY KEY (user_id, device_token)
    )""",
    # One partition per push shard: its outbox is small (bounded by the shard's buffer) and is
    # read whole only when the shard restarts.
    """CREATE TABLE IF NOT EXISTS push_outbox (
        shard int, push_key text, user_id bigint, provider text, device_token text, body text,
        created_at_ms bigint, PRIMARY KEY (shard, push_key)
    ) WITH CLUSTERING ORDER BY (push_key ASC)""",
    # Identify limits: one row per user, written by compare-and-set (lightweight transactions).
    """CREATE TABLE IF NOT EXISTS session_starts (
        user_id bigint PRIMARY KEY, version int, window_start_ms bigint, used int, buckets text
    )""",
)


def keyspace_cql(keyspace: str, datacenter: str, replication_factor: int) -> str:
    """CREATE KEYSPACE with NetworkTopologyStrategy: ``replication_factor`` copies in ``datacenter``."""
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'NetworkTopologyStrategy', '{datacenter}': {replication_factor}}}"
    )
