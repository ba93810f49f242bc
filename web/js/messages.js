// The chat of one channel: history (older pages load when scrolled to the top), live messages,
// edit, delete, reply, reactions, attachments (upload progress, image previews), embeds,
// components on bot messages, typing indicators and the composer (with the slash-command picker).
import { api, upload, ApiError } from "./api.js";
import { h, clear, displayName, snowflakeTime } from "./dom.js";
import { render, mentionsMe } from "./markdown.js";
import { state, channelMessages, addHistory, upsertMessage, typers, changed, channelLabel } from "./store.js";
import { CommandPicker, pressComponent } from "./commands.js";
import { toast } from "./app.js";
import { can, MANAGE_MESSAGES } from "./perms.js";

const PAGE = 50;
const TYPING_EVERY_MS = 8000;
const REACTIONS = ["👍", "❤️", "😂", "🎉"];

export class ChatView {
  constructor(el, gateway) {
    this.el = el;
    this.gateway = gateway;
    this.channelId = null;
    this.replyTo = null;
    this.loading = false;
    this.lastTyping = 0;
  }

  get channel() { return state.channels.get(this.channelId); }

  show(channelId) {
    this.channelId = channelId;
    this.replyTo = null;
    if (!channelId || !this.channel) {
      clear(this.el, h("div", { class: "empty" }, state.guilds.size ? "Pick a channel." : "Create a server with + or open an invite link."));
      return;
    }
    const c = this.channel;
    const label = channelLabel(c);
    this.list = h("ol", { class: "messages", role: "log", "aria-label": `Messages in ${label}`, tabindex: "0" });
    this.list.addEventListener("scroll", () => { if (this.list.scrollTop < 80) this.loadOlder(); });
    this.typingEl = h("div", { class: "typing", "aria-live": "polite" });
    this.replyEl = h("div", { class: "reply-bar", hidden: true });
    this.progress = h("progress", { class: "upload", max: "1", value: "0", hidden: true, "aria-label": "Upload progress" });
    this.input = h("textarea", { rows: "1", "aria-label": `Message ${label}`, placeholder: `Message ${label}` });
    this.file = h("input", { type: "file", id: "attach", multiple: true, class: "sr-only", onchange: () => this.sendFiles() });
    this.picker = new CommandPicker(this.input, () => this.channel, this.gateway);
    this.input.addEventListener("keydown", (e) => {
      if (this.picker.handleKey(e)) return;
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.send(); }
      if (e.key === "Escape" && this.replyTo) this.setReply(null);
      if (e.key === "ArrowUp" && !this.input.value) this.editLast(e);
    });
    // Typing is announced for what a person types (keys), not for text set by a script.
    this.input.addEventListener("keydown", (e) => { this.keyed = e.key.length === 1 || e.key === "Backspace"; }, true);
    this.input.addEventListener("input", () => {
      this.picker.update();
      if (this.keyed) this.typing();
      this.keyed = false;
    });
    clear(this.el,
      h("header", { class: "chat-header" }, h("h2", {}, label), c.topic ? h("p", { class: "topic" }, c.topic) : null),
      this.list, this.typingEl,
      h("form", { class: "composer", "aria-label": "Send a message", onsubmit: (e) => { e.preventDefault(); this.send(); } },
        this.replyEl, this.picker.el, this.progress,
        h("div", { class: "composer-row" },
          h("label", { for: "attach", class: "attach", title: "Upload a file" }, "+", h("span", { class: "sr-only" }, "Upload a file")),
          this.file, this.input,
          h("button", { type: "submit", class: "send", "aria-label": "Send" }, "Send"))));
    const box = channelMessages(channelId);
    this.drawMessages();
    if (!box.loaded) this.loadOlder();
    this.input.focus();
  }

  refresh() {
    const box = channelMessages(this.channelId);
    box.loaded = false; box.complete = false;
    if (this.channelId) this.loadOlder(true);
  }

  async loadOlder(latest = false) {
    const box = channelMessages(this.channelId);
    if (this.loading || (!latest && box.complete && box.loaded)) return;
    this.loading = true;
    const channelId = this.channelId;
    const before = !latest && box.list.length ? `&before=${box.list[0].id}` : "";
    try {
      const page = await api("GET", `/channels/${channelId}/messages?limit=${PAGE}${before}`);
      const keepFromBottom = this.list.scrollHeight - this.list.scrollTop;
      addHistory(channelId, page, PAGE);
      if (before) this.list.scrollTop = this.list.scrollHeight - keepFromBottom;
    } catch (err) {
      toast(err instanceof ApiError ? err.detail : String(err));
    } finally {
      this.loading = false;
    }
  }

  onDispatch(t, d) {
    if (t === "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE") this.picker.autocompleted(d);
  }

  drawMessages() {
    if (!this.list || !this.channelId) return;
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    const box = channelMessages(this.channelId);
    const items = box.list.filter((m) => !(m.flags & 64) || !m.interaction_metadata || m.interaction_metadata.user?.id === state.me.id);
    clear(this.list,
      box.complete ? h("li", { class: "start" }, `This is the beginning of ${channelLabel(this.channel)}.`) : null,
      items.map((m) => this.messageEl(m)));
    if (atBottom || !this.drawn) this.list.scrollTop = this.list.scrollHeight;
    this.drawn = true;
  }

  drawTyping() {
    if (!this.typingEl) return;
    const who = typers(this.channelId).map((id) => this.name(id));
    this.typingEl.textContent = who.length === 0 ? "" : who.length === 1 ? `${who[0]} is typing…` : `${who.join(", ")} are typing…`;
  }

  name(userId) {
    const members = state.members.get(this.channel?.guild_id);
    const member = members && members.get(userId);
    return displayName(member?.user, member) || userId;
  }

  names() {
    const guildId = this.channel?.guild_id;
    const myRoles = state.members.get(guildId)?.get(state.me.id)?.roles || [];
    return {
      me: state.me.id, myRoles,
      user: (id) => this.name(id),
      channel: (id) => state.channels.get(id)?.name || "unknown-channel",
      role: (id) => state.guilds.get(guildId)?.roles.get(id)?.name || "unknown-role",
    };
  }

  messageEl(m) {
    const names = this.names();
    const mine = m.author.id === state.me.id;
    const member = state.members.get(this.channel?.guild_id)?.get(m.author.id);
    const when = m.timestamp ? new Date(m.timestamp) : snowflakeTime(m.id);
    const ref = m.referenced_message;
    const used = m.interaction && m.interaction.name ? m.interaction : null;
    const el = h("li", {
      class: `message${mentionsMe(m, state.me.id, names.myRoles) ? " mentioned" : ""}${m.pending ? " pending" : ""}`,
      dataset: { id: m.id }, tabindex: "-1",
    },
      ref ? h("div", { class: "reference" }, "↪ ", h("strong", {}, displayName(ref.author)), " ", (ref.content || "").slice(0, 80)) : null,
      used ? h("div", { class: "reference" }, "↪ ", h("strong", {}, displayName(used.user)), ` used /${used.name}`) : null,
      h("div", { class: "meta" },
        h("span", { class: "avatar", "aria-hidden": "true" }, displayName(m.author, member).slice(0, 1).toUpperCase()),
        h("span", { class: "author" }, displayName(m.author, member)),
        m.author.bot ? h("span", { class: "tag" }, "BOT") : null,
        h("time", { datetime: when.toISOString(), title: when.toLocaleString() }, when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
        m.edited_timestamp ? h("span", { class: "edited" }, "(edited)") : null,
        m.flags & 64 ? h("span", { class: "ephemeral" }, "Only you can see this") : null),
      h("div", { class: "content" }, render(m.content || "", names)),
      (m.attachments || []).map(attachmentEl),
      (m.embeds || []).map((e) => embedEl(e, names)),
      (m.components || []).length ? h("div", { class: "components" }, m.components.map((row) => h("div", { class: "action-row" }, (row.components || []).map((c) => componentEl(c, m, this))))) : null,
      (m.reactions || []).length ? h("div", { class: "reactions" }, m.reactions.map((r) => this.reactionButton(m, r))) : null,
      m.pending ? null : h("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" },
        h("button", { "aria-label": "Reply", title: "Reply", onclick: () => this.setReply(m) }, "↩"),
        REACTIONS.map((emoji) => h("button", { "aria-label": `React with ${emoji}`, title: `React ${emoji}`, onclick: () => this.react(m, emoji, true) }, emoji)),
        mine ? h("button", { "aria-label": "Edit", title: "Edit", onclick: () => this.edit(el, m) }, "✎") : null,
        mine || this.canManage() ? h("button", { "aria-label": "Delete", title: "Delete", onclick: () => this.remove(m) }, "🗑") : null));
    return el;
  }

  canManage() {
    return can(this.channel?.guild_id, MANAGE_MESSAGES);
  }

  reactionButton(m, r) {
    const key = r.emoji.id ? `${r.emoji.name}:${r.emoji.id}` : r.emoji.name;
    return h("button", {
      class: r.me ? "reaction me" : "reaction", "aria-pressed": r.me ? "true" : "false",
      "aria-label": `${r.emoji.name} reaction, ${r.count}`, onclick: () => this.react(m, key, !r.me),
    }, `${r.emoji.name} ${r.count}`);
  }

  async react(m, emoji, add) {
    const path = `/channels/${m.channel_id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}/@me`;
    try { await api(add ? "PUT" : "DELETE", path); } catch (err) { toast(err instanceof ApiError ? err.detail : String(err)); }
  }

  setReply(m) {
    this.replyTo = m;
    this.replyEl.hidden = !m;
    if (m) {
      clear(this.replyEl, "Replying to ", h("strong", {}, displayName(m.author)), " ",
        h("button", { type: "button", "aria-label": "Cancel reply", onclick: () => this.setReply(null) }, "✕"));
      this.input.focus();
    }
  }

  // ArrowUp in an empty composer edits one's last message, as in Discord.
  editLast(e) {
    const mine = channelMessages(this.channelId).list.filter((m) => m.author.id === state.me.id && !m.pending);
    const last = mine[mine.length - 1];
    const el = last && this.list.querySelector(`li[data-id="${last.id}"]`);
    if (!el) return;
    e.preventDefault();
    this.edit(el, last);
  }

  edit(el, m) {
    const area = h("textarea", { "aria-label": "Edit message", value: m.content });
    const save = async () => {
      const content = area.value.trim();
      if (!content || content === m.content) { this.drawMessages(); return this.input.focus(); }
      try {
        upsertMessage(await api("PATCH", `/channels/${m.channel_id}/messages/${m.id}`, { content }));
        this.input.focus();
      } catch (err) { toast(err instanceof ApiError ? err.detail : String(err)); this.drawMessages(); }
    };
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); save(); }
      if (e.key === "Escape") { this.drawMessages(); this.input.focus(); }
    });
    el.querySelector(".content").replaceWith(h("div", { class: "editing" }, area, h("small", {}, "Enter to save, Escape to cancel")));
    area.focus();
  }

  async remove(m) {
    try {
      await api("DELETE", `/channels/${m.channel_id}/messages/${m.id}`);
      const box = channelMessages(m.channel_id);
      box.list = box.list.filter((x) => x.id !== m.id);
      changed(`messages:${m.channel_id}`);
    } catch (err) { toast(err instanceof ApiError ? err.detail : String(err)); }
  }

  typing() {
    const now = Date.now();
    if (!this.input.value || this.input.value.startsWith("/") || now - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = now;
    api("POST", `/channels/${this.channelId}/typing`).catch(() => {});
  }

  // "@name" of a member of this guild becomes the mention "<@id>", as Discord's client sends it.
  mentions(text) {
    const members = [...(state.members.get(this.channel?.guild_id) || new Map()).values()];
    return text.replace(/(^|\s)@([\w.]{2,32})/g, (all, space, name) => {
      const found = members.find((m) => m.user.username.toLowerCase() === name.toLowerCase());
      return found ? `${space}<@${found.user.id}>` : all;
    });
  }

  payload(content) {
    const nonce = (BigInt(Date.now() - 1420070400000) << 22n) | BigInt(Math.floor(Math.random() * 4096));
    const body = { content, nonce: String(nonce) };
    if (this.replyTo) body.message_reference = { message_id: this.replyTo.id, channel_id: this.replyTo.channel_id };
    return body;
  }

  async send() {
    if (this.picker.active) return this.picker.invoke();
    const content = this.mentions(this.input.value.trim());
    if (!content) return;
    const body = this.payload(content);
    const channelId = this.channelId;
    this.input.value = "";
    this.lastTyping = 0;
    const reply = this.replyTo;
    this.setReply(null);
    upsertMessage({ id: body.nonce, nonce: body.nonce, channel_id: channelId, content, author: state.me, pending: true, referenced_message: reply, attachments: [], embeds: [] });
    try {
      upsertMessage({ ...(await api("POST", `/channels/${channelId}/messages`, body)), nonce: body.nonce });
    } catch (err) {
      const box = channelMessages(channelId);
      box.list = box.list.filter((m) => m.id !== body.nonce);
      changed(`messages:${channelId}`);
      this.input.value = content;
      toast(err instanceof ApiError ? err.detail : String(err));
    }
  }

  async sendFiles() {
    const files = [...this.file.files];
    if (!files.length) return;
    const body = this.payload(this.input.value.trim());
    this.input.value = "";
    this.progress.hidden = false;
    this.progress.value = 0;
    try {
      upsertMessage(await upload(this.channelId, body, files, (fraction) => { this.progress.value = fraction; }));
    } catch (err) {
      toast(err instanceof ApiError ? err.detail : String(err));
    } finally {
      this.progress.hidden = true;
      this.file.value = "";
      this.setReply(null);
    }
  }
}

function attachmentEl(a) {
  const isImage = (a.content_type || "").startsWith("image/") || /\.(png|jpe?g|gif|webp)$/i.test(a.filename || "");
  if (isImage) {
    return h("a", { class: "attachment image", href: a.url, target: "_blank", rel: "noopener noreferrer" },
      h("img", { src: a.proxy_url || a.url, alt: a.description || a.filename, loading: "lazy", width: a.width, height: a.height }));
  }
  return h("a", { class: "attachment file", href: a.url, download: a.filename }, `📎 ${a.filename} (${Math.ceil((a.size || 0) / 1024)} KB)`);
}

function embedEl(e, names) {
  const color = typeof e.color === "number" ? `#${e.color.toString(16).padStart(6, "0")}` : null;
  const el = h("article", { class: "embed", "aria-label": e.title || "Embed" },
    e.author ? h("div", { class: "embed-author" }, e.author.name) : null,
    e.title ? h("div", { class: "embed-title" }, e.url && /^https?:/.test(e.url) ? h("a", { href: e.url, target: "_blank", rel: "noopener noreferrer" }, e.title) : e.title) : null,
    e.description ? h("div", { class: "embed-description" }, render(e.description, names)) : null,
    (e.fields || []).length ? h("dl", { class: "embed-fields" }, e.fields.map((f) => h("div", { class: f.inline ? "inline" : "" }, h("dt", {}, f.name), h("dd", {}, render(f.value, names))))) : null,
    e.image && /^(https?:|\/)/.test(e.image.url) ? h("img", { src: e.image.url, alt: "" }) : null,
    e.footer ? h("footer", {}, e.footer.text) : null);
  if (color) el.style.borderLeftColor = color;
  return el;
}

function componentEl(c, m, view) {
  if (c.type === 2) {
    if (c.style === 5) return h("a", { class: "button link", href: c.url, target: "_blank", rel: "noopener noreferrer" }, c.label || "Link");
    return h("button", { class: `button style-${c.style || 1}`, disabled: c.disabled, onclick: () => pressComponent(m, c, null, view.gateway) },
      c.emoji ? `${c.emoji.name} ` : "", c.label || "");
  }
  if (c.type === 3) {
    const select = h("select", { "aria-label": c.placeholder || "Choose an option", disabled: c.disabled },
      h("option", { value: "" }, c.placeholder || "Make a selection"),
      (c.options || []).map((o) => h("option", { value: o.value }, o.label)));
    select.addEventListener("change", () => select.value && pressComponent(m, c, [select.value], view.gateway));
    return select;
  }
  return null;
}
