// The client's state, changed only by gateway dispatches and REST answers through `apply`; each
// change names what it touched ("guilds", "channels", "messages:<channel>", "members", "typing")
// so the views redraw only that. Unread markers compare a channel's last_message_id with the
// last message read, kept per account in localStorage.
import { compareIds } from "./dom.js";

const SNAPSHOT = "rayguild.state";
const TYPING_MS = 10000;

export const state = {
  me: null,
  guilds: new Map(),      // id -> guild (name, owner_id, roles: Map)
  channels: new Map(),    // id -> channel (guild and DM channels)
  members: new Map(),     // guild id -> Map(user id -> member)
  presences: new Map(),   // user id -> status
  messages: new Map(),    // channel id -> { list: [], complete: false }
  typing: new Map(),      // channel id -> Map(user id -> expiry ms)
  lastRead: {},
  view: { guildId: null, channelId: null },
};

const listeners = new Set();
export function subscribe(fn) { listeners.add(fn); }
export function changed(what) { for (const fn of listeners) fn(what); }

export function saveSnapshot() {
  const plain = {
    me: state.me,
    guilds: [...state.guilds.values()].map((g) => ({ ...g, roles: [...g.roles.values()] })),
    channels: [...state.channels.values()],
    members: [...state.members].map(([gid, m]) => [gid, [...m.values()]]),
    presences: [...state.presences],
  };
  sessionStorage.setItem(SNAPSHOT, JSON.stringify(plain));
}

export function loadSnapshot() {
  const plain = JSON.parse(sessionStorage.getItem(SNAPSHOT) || "null");
  if (!plain) return false;
  state.me = plain.me;
  for (const g of plain.guilds) state.guilds.set(g.id, { ...g, roles: new Map(g.roles.map((r) => [r.id, r])) });
  for (const c of plain.channels) state.channels.set(c.id, c);
  for (const [gid, list] of plain.members) state.members.set(gid, new Map(list.map((m) => [m.user.id, m])));
  for (const [uid, status] of plain.presences) state.presences.set(uid, status);
  loadLastRead();
  return true;
}

export function clearSnapshot() { sessionStorage.removeItem(SNAPSHOT); }

function loadLastRead() {
  state.lastRead = JSON.parse(localStorage.getItem(`rayguild.read.${state.me.id}`) || "{}");
}

export function markRead(channelId) {
  const channel = state.channels.get(channelId);
  if (!channel || !channel.last_message_id || !state.me) return;
  if (state.lastRead[channelId] === channel.last_message_id) return;
  state.lastRead[channelId] = channel.last_message_id;
  localStorage.setItem(`rayguild.read.${state.me.id}`, JSON.stringify(state.lastRead));
  changed("channels");
}

export function isUnread(channel) {
  if (!channel.last_message_id) return false;
  const read = state.lastRead[channel.id];
  return !read || compareIds(channel.last_message_id, read) > 0;
}

function putGuild(g) {
  state.guilds.set(g.id, { id: g.id, name: g.name, owner_id: g.owner_id, icon: g.icon, roles: new Map((g.roles || []).map((r) => [r.id, r])) });
  for (const c of g.channels || []) state.channels.set(c.id, { ...c, guild_id: g.id });
  const members = new Map((g.members || []).map((m) => [m.user.id, m]));
  state.members.set(g.id, members);
  for (const p of g.presences || []) state.presences.set(p.user.id, p.status);
}

function removeGuild(id) {
  state.guilds.delete(id);
  state.members.delete(id);
  for (const [cid, c] of state.channels) if (c.guild_id === id) state.channels.delete(cid);
}

// "#name" for a guild channel, "@name" of the other person for a DM.
export function channelLabel(c) {
  if (c.guild_id || c.type === 0) return `#${c.name}`;
  const other = (c.recipients || []).find((u) => u.id !== state.me?.id) || (c.recipients || [])[0];
  return `@${other ? other.global_name || other.username : "unknown"}`;
}

export function channelMessages(channelId) {
  if (!state.messages.has(channelId)) state.messages.set(channelId, { list: [], complete: false, loaded: false });
  return state.messages.get(channelId);
}

// Older messages from GET /channels/{id}/messages (newest first) go in front.
export function addHistory(channelId, newestFirst, limit) {
  const box = channelMessages(channelId);
  const known = new Set(box.list.map((m) => m.id));
  const older = newestFirst.filter((m) => !known.has(m.id)).reverse();
  box.list = [...older, ...box.list].sort((a, b) => compareIds(a.id, b.id));
  box.loaded = true;
  if (newestFirst.length < limit) box.complete = true;
  changed(`messages:${channelId}`);
}

export function upsertMessage(message) {
  const box = channelMessages(message.channel_id);
  const at = box.list.findIndex((m) => m.id === message.id || (message.nonce && m.nonce === message.nonce && m.pending));
  if (at >= 0) box.list[at] = { ...box.list[at], ...message, pending: false };
  else box.list.push(message);
  box.list.sort((a, b) => compareIds(a.id, b.id));
  changed(`messages:${message.channel_id}`);
}

function reaction(d, delta) {
  const box = channelMessages(d.channel_id);
  const message = box.list.find((m) => m.id === d.message_id);
  if (!message) return;
  const key = d.emoji.id || d.emoji.name;
  const reactions = (message.reactions || []).map((r) => ({ ...r }));
  let r = reactions.find((x) => (x.emoji.id || x.emoji.name) === key);
  if (!r) { r = { emoji: d.emoji, count: 0, me: false }; reactions.push(r); }
  r.count += delta;
  if (d.user_id === state.me.id) r.me = delta > 0;
  message.reactions = reactions.filter((x) => x.count > 0);
  changed(`messages:${d.channel_id}`);
}

export function typers(channelId) {
  const now = Date.now();
  const map = state.typing.get(channelId) || new Map();
  return [...map].filter(([uid, until]) => until > now && uid !== state.me.id).map(([uid]) => uid);
}

export function apply(t, d) {
  switch (t) {
    case "READY":
      state.me = d.user;
      state.presences.set(d.user.id, "online");
      loadLastRead();
      for (const c of d.private_channels || []) state.channels.set(c.id, c);
      changed("guilds");
      return;
    case "GUILD_CREATE": putGuild(d); changed("guilds"); changed("channels"); changed("members"); return;
    case "GUILD_UPDATE": { const g = state.guilds.get(d.id); if (g) g.name = d.name; changed("guilds"); return; }
    case "GUILD_DELETE": removeGuild(d.id); changed("guilds"); changed("channels"); return;
    case "CHANNEL_CREATE": case "CHANNEL_UPDATE": {
      const old = state.channels.get(d.id) || {};
      state.channels.set(d.id, { ...old, ...d });
      changed("channels"); return;
    }
    case "CHANNEL_DELETE": state.channels.delete(d.id); changed("channels"); return;
    case "GUILD_MEMBER_ADD": case "GUILD_MEMBER_UPDATE": {
      const members = state.members.get(d.guild_id);
      if (members) members.set(d.user.id, { ...(members.get(d.user.id) || {}), ...d });
      changed("members"); return;
    }
    case "GUILD_MEMBER_REMOVE": { const m = state.members.get(d.guild_id); if (m) m.delete(d.user.id); changed("members"); return; }
    case "GUILD_MEMBERS_CHUNK": {
      const members = state.members.get(d.guild_id) || new Map();
      for (const m of d.members) members.set(m.user.id, m);
      for (const p of d.presences || []) state.presences.set(p.user.id, p.status);
      state.members.set(d.guild_id, members);
      changed("members"); return;
    }
    case "PRESENCE_UPDATE": state.presences.set(d.user.id, d.status); changed("members"); return;
    case "PRESENCES_REPLACE":
      for (const p of d) state.presences.set(p.user.id, p.status);
      changed("members"); return;
    case "GUILD_ROLE_CREATE": case "GUILD_ROLE_UPDATE": { const g = state.guilds.get(d.guild_id); if (g) g.roles.set(d.role.id, d.role); changed("members"); return; }
    case "MESSAGE_CREATE": {
      if (!state.channels.has(d.channel_id) && !d.guild_id) {
        // The first message of a DM someone opened with us names its channel.
        state.channels.set(d.channel_id, { id: d.channel_id, type: 1, recipients: [d.author] });
      }
      const channel = state.channels.get(d.channel_id);
      if (channel) channel.last_message_id = d.id;
      const typing = state.typing.get(d.channel_id);
      if (typing) typing.delete(d.author.id);
      upsertMessage(d);
      changed("channels"); changed("typing");
      return;
    }
    case "PASSIVE_UPDATE_V1": {
      // A guild not in view (large guilds send summaries to passive sessions): unread markers.
      for (const c of d.channels || []) {
        const channel = state.channels.get(c.id);
        if (channel && c.last_message_id) channel.last_message_id = c.last_message_id;
      }
      changed("channels"); return;
    }
    case "MESSAGE_UPDATE": {
      const box = channelMessages(d.channel_id);
      const old = box.list.find((m) => m.id === d.id);
      if (old) { Object.assign(old, d); changed(`messages:${d.channel_id}`); }
      return;
    }
    case "MESSAGE_DELETE": {
      const box = channelMessages(d.channel_id);
      box.list = box.list.filter((m) => m.id !== d.id);
      changed(`messages:${d.channel_id}`); return;
    }
    case "MESSAGE_REACTION_ADD": reaction(d, 1); return;
    case "MESSAGE_REACTION_REMOVE": reaction(d, -1); return;
    case "TYPING_START": {
      if (!state.typing.has(d.channel_id)) state.typing.set(d.channel_id, new Map());
      state.typing.get(d.channel_id).set(d.user_id, d.timestamp * 1000 + TYPING_MS);
      if (d.member && d.guild_id) {
        const members = state.members.get(d.guild_id);
        if (members && !members.has(d.user_id)) members.set(d.user_id, d.member);
      }
      changed("typing"); setTimeout(() => changed("typing"), TYPING_MS + 50);
      return;
    }
    default:
  }
}
