// The signed-in app: servers, channels (with categories), the chat and the member list; the
// gateway feeds the store and the views redraw what changed. Guild and channel actions offered
// are the ones the user's roles allow (perms.js); the server answers 403 to anything else.
import { api, ApiError } from "./api.js";
import { h, clear, compareIds, displayName } from "./dom.js";
import { Gateway } from "./gateway.js";
import { state, subscribe, apply, saveSnapshot, loadSnapshot, clearSnapshot, isUnread, markRead, channelLabel } from "./store.js";
import { ChatView } from "./messages.js";
import { renderMembers } from "./people.js";
import { can, MANAGE_CHANNELS } from "./perms.js";

export function ask(title, label, initial = "") {
  return new Promise((resolve) => {
    const input = h("input", { id: "ask-input", value: initial, required: true, autocomplete: "off" });
    const dialog = h("dialog", { "aria-label": title },
      h("form", { method: "dialog" },
        h("h2", {}, title),
        h("label", { for: "ask-input" }, label), input,
        h("div", { class: "buttons" },
          h("button", { value: "cancel", type: "button", onclick: () => dialog.close("cancel") }, "Cancel"),
          h("button", { value: "ok", class: "primary" }, "OK"))));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok" && input.value.trim() ? input.value.trim() : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

export function toast(text) {
  const el = h("div", { class: "toast", role: "alert" }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), 6000);
}

export async function attempt(fn) {
  try { return await fn(); } catch (err) { toast(err instanceof ApiError ? err.detail : String(err)); return null; }
}

export function startApp(root, token, { signOut, openGuild }) {
  const gateway = new Gateway(token);
  const resumed = gateway.sessionId && loadSnapshot();
  if (!resumed) clearSnapshot();
  let knownGuilds = new Set(state.guilds.keys());
  const banner = h("div", { class: "banner", role: "status", hidden: true });
  const guildNav = h("nav", { class: "guilds", "aria-label": "Servers" });
  const channelNav = h("nav", { class: "channels", "aria-label": "Channels" });
  const chatEl = h("main", { class: "chat" });
  const memberEl = h("aside", { class: "members", "aria-label": "Members" });
  clear(root, banner, h("div", { class: "layout" }, guildNav, channelNav, chatEl, memberEl));
  const chat = new ChatView(chatEl, gateway);
  window.rayguild = { state, gateway };

  const [, g0, c0] = location.pathname.match(/^\/channels\/([^/]+)(?:\/(\d+))?/) || [];
  state.view.guildId = openGuild || (g0 && g0 !== "@me" ? g0 : null);
  state.view.channelId = c0 || null;

  function navigate(guildId, channelId) {
    const guildChanged = guildId !== state.view.guildId;
    state.view.guildId = guildId;
    state.view.channelId = channelId || firstChannel(guildId);
    history.replaceState({}, "", `/channels/${guildId || "@me"}${state.view.channelId ? "/" + state.view.channelId : ""}`);
    if (guildChanged) gateway.subscribe(guildId);
    drawGuilds(); drawChannels(); renderMembers(memberEl, guildId);
    chat.show(state.view.channelId);
    markRead(state.view.channelId);
  }

  function firstChannel(guildId) {
    const list = [...state.channels.values()].filter((c) => (guildId ? c.guild_id === guildId && c.type === 0 : c.type === 1));
    list.sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || compareIds(a.id, b.id));
    return list.length ? list[0].id : null;
  }

  function drawGuilds() {
    const guilds = [...state.guilds.values()].sort((a, b) => compareIds(a.id, b.id));
    const dmUnread = [...state.channels.values()].some((c) => !c.guild_id && isUnread(c) && c.id !== state.view.channelId);
    clear(guildNav,
      h("button", {
        class: `guild${state.view.guildId ? "" : " active"}${dmUnread ? " unread" : ""}`,
        "aria-label": `Direct Messages${dmUnread ? " (unread)" : ""}`, onclick: () => navigate(null),
      }, "DM"),
      guilds.map((g) => {
        const unread = [...state.channels.values()].some((c) => c.guild_id === g.id && isUnread(c));
        return h("button", {
          class: `guild${g.id === state.view.guildId ? " active" : ""}${unread ? " unread" : ""}`,
          "aria-label": g.name + (unread ? " (unread)" : ""), "aria-current": g.id === state.view.guildId ? "page" : null,
          title: g.name, onclick: () => navigate(g.id),
        }, g.name.slice(0, 2));
      }),
      h("button", { class: "guild add", "aria-label": "Create a server", title: "Create a server", onclick: createGuild }, "+"));
  }

  async function createGuild() {
    const name = await ask("Create a server", "Server name");
    if (!name) return;
    const guild = await attempt(() => api("POST", "/guilds", { name }));
    if (!guild) return;
    if (!state.guilds.has(guild.id)) apply("GUILD_CREATE", { ...guild, channels: guild.channels || [], members: [] });
    const channels = await attempt(() => api("GET", `/guilds/${guild.id}/channels`));
    for (const c of channels || []) apply("CHANNEL_CREATE", { ...c, guild_id: guild.id });
    navigate(guild.id);
  }

  function channelButton(c) {
    const unread = isUnread(c) && c.id !== state.view.channelId;
    const label = channelLabel(c);
    const manages = can(state.view.guildId, MANAGE_CHANNELS);
    return h("li", { class: `channel${c.id === state.view.channelId ? " active" : ""}${unread ? " unread" : ""}` },
      h("a", { href: `/channels/${state.view.guildId || "@me"}/${c.id}`, "aria-current": c.id === state.view.channelId ? "page" : null,
        onclick: (e) => { e.preventDefault(); navigate(state.view.guildId, c.id); } },
        label, unread ? h("span", { class: "sr-only" }, " (unread)") : null),
      manages && c.type !== 1 ? h("span", { class: "channel-tools" },
        h("button", { "aria-label": `Rename #${c.name}`, title: "Rename", onclick: () => renameChannel(c) }, "✎"),
        h("button", { "aria-label": `Delete #${c.name}`, title: "Delete", onclick: () => deleteChannel(c) }, "✕")) : null);
  }

  function guild() { return state.guilds.get(state.view.guildId); }

  function drawChannels() {
    const g = guild();
    const me = state.me;
    const panel = h("div", { class: "me-panel" },
      h("span", { class: "status-dot online", "aria-hidden": "true" }),
      h("span", { class: "me-name" }, me ? displayName(me) : ""),
      h("button", { "aria-label": "Sign out", title: "Sign out", onclick: () => { gateway.stop(); clearSnapshot(); signOut(); } }, "⎋"));
    if (!g) {
      const dms = [...state.channels.values()].filter((c) => c.type === 1 || c.type === 3);
      clear(channelNav, h("header", {}, h("h2", {}, "Direct Messages")),
        h("ul", { class: "channel-list" }, dms.map(channelButton)), panel);
      return;
    }
    const channels = [...state.channels.values()].filter((c) => c.guild_id === g.id)
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || compareIds(a.id, b.id));
    const manages = can(g.id, MANAGE_CHANNELS);
    const isOwner = g.owner_id === me?.id;
    const text = (parent) => channels.filter((c) => c.type !== 4 && (c.parent_id || null) === parent);
    clear(channelNav,
      h("header", {}, h("h2", {}, g.name),
        h("div", { class: "guild-tools" },
          h("button", { "aria-label": "Invite people", onclick: invite }, "Invite"),
          manages ? h("button", { "aria-label": "Create a channel", onclick: () => createChannel(null) }, "+ Channel") : null,
          manages ? h("button", { "aria-label": "Create a category", onclick: () => createChannel(null, 4) }, "+ Category") : null,
          isOwner ? null : h("button", { "aria-label": `Leave ${g.name}`, onclick: leave }, "Leave"))),
      h("ul", { class: "channel-list" }, text(null).map(channelButton)),
      channels.filter((c) => c.type === 4).map((cat) => h("section", { class: "category", "aria-label": cat.name },
        h("h3", {}, cat.name,
          manages ? h("button", { "aria-label": `Create a channel in ${cat.name}`, onclick: () => createChannel(cat.id) }, "+") : null),
        h("ul", { class: "channel-list" }, text(cat.id).map(channelButton)))),
      panel);
  }

  async function invite() {
    const channelId = state.view.channelId || firstChannel(state.view.guildId);
    const made = await attempt(() => api("POST", `/channels/${channelId}/invites`, { max_age: 86400 }));
    if (!made) return;
    const link = `${location.origin}/invite/${made.code}`;
    const dialog = h("dialog", { "aria-label": "Invite link" },
      h("form", { method: "dialog" }, h("h2", {}, "Invite friends"),
        h("label", { for: "invite-link" }, "Send this link:"),
        h("input", { id: "invite-link", value: link, readonly: true }),
        h("div", { class: "buttons" }, h("button", { class: "primary" }, "Done"))));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("input").select();
  }

  async function leave() {
    const g = guild();
    if (!g || !confirm(`Leave ${g.name}?`)) return;
    try {
      await api("DELETE", `/users/@me/guilds/${g.id}`);
    } catch (err) {
      return toast(err instanceof ApiError ? err.detail : String(err));
    }
    apply("GUILD_DELETE", { id: g.id });
    navigate(null);
  }

  async function createChannel(parentId, type = 0) {
    const name = await ask(type === 4 ? "Create a category" : "Create a channel", type === 4 ? "Category name" : "Channel name");
    if (!name) return;
    const body = { name, type };
    if (parentId) body.parent_id = parentId;
    const c = await attempt(() => api("POST", `/guilds/${state.view.guildId}/channels`, body));
    if (c) { apply("CHANNEL_CREATE", c); if (type === 0) navigate(state.view.guildId, c.id); }
  }

  async function renameChannel(c) {
    const name = await ask(`Rename #${c.name}`, "New name", c.name);
    if (!name) return;
    const updated = await attempt(() => api("PATCH", `/channels/${c.id}`, { name }));
    if (updated) apply("CHANNEL_UPDATE", updated);
  }

  async function deleteChannel(c) {
    if (!confirm(`Delete #${c.name}?`)) return;
    if (await attempt(() => api("DELETE", `/channels/${c.id}`))) {
      apply("CHANNEL_DELETE", c);
      if (state.view.channelId === c.id) navigate(state.view.guildId);
    }
  }

  subscribe((what) => {
    if (what === "guilds") drawGuilds();
    else if (what === "channels") {
      drawChannels(); drawGuilds();
      if (state.view.channelId && !state.channels.has(state.view.channelId)) navigate(state.view.guildId);
      else if (!state.view.channelId && firstChannel(state.view.guildId)) navigate(state.view.guildId);
    } else if (what === "members") { renderMembers(memberEl, state.view.guildId); drawChannels(); }
    else if (what === "typing") chat.drawTyping();
    else if (what === `messages:${state.view.channelId}`) { chat.drawMessages(); markRead(state.view.channelId); }
  });

  gateway.addEventListener("dispatch", (e) => {
    const { t, d } = e.detail;
    if (t === "READY") {
      clearReadyState();
      knownGuilds = new Set(d.guilds.map((g) => g.id));
    }
    if (t === "GUILD_CREATE" && !knownGuilds.has(d.id)) {
      // A guild joined or created since Identify: re-sending our presence (op 3) makes the
      // presence service show us in it (it learns a session's guilds from its presence).
      knownGuilds.add(d.id);
      gateway.send(3, { status: "online", since: 0, activities: [], afk: false });
    }
    apply(t, d);
    if (t === "READY" || t === "RESUMED") {
      document.body.dataset.session = gateway.sessionId;
      gateway.subscribe(state.view.guildId);
    }
    if (t === "GUILD_CREATE" && d.id === state.view.guildId) navigate(d.id, state.view.channelId);
    if (t === "RESUMED") chat.refresh();
    chat.onDispatch(t, d);
  });
  gateway.addEventListener("status", (e) => {
    const { state: s, detail } = e.detail;
    banner.hidden = s === "online" || s === "connecting";
    banner.textContent = detail || (s === "reconnecting" ? "Reconnecting…" : "");
    document.body.dataset.gateway = s;
  });
  gateway.addEventListener("unauthorized", () => signOut());
  addEventListener("pagehide", saveSnapshot);
  addEventListener("popstate", () => location.reload());

  function clearReadyState() {
    for (const [id, c] of state.channels) if (c.guild_id) state.channels.delete(id);
    state.guilds.clear();
  }

  if (resumed) { drawGuilds(); navigate(state.view.guildId, state.view.channelId); }
  else { drawGuilds(); drawChannels(); }
  gateway.start();
  if (state.view.guildId) gateway.subscribe(state.view.guildId);
}
