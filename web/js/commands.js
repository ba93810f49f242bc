// Application commands in the composer: typing "/" lists the commands available in the channel
// (GET /channels/{id}/application-command-index), picking one shows its options (with
// autocomplete through type 4 interactions), and Enter invokes it with POST /interactions.
// Buttons and selects on bot messages are component interactions (type 3).
import { api, ApiError } from "./api.js";
import { h, clear } from "./dom.js";
import { toast } from "./app.js";

let increment = 0;
const snowflake = () => String((BigInt(Date.now() - 1420070400000) << 22n) | BigInt(increment++ & 0xfff));

// POST /interactions; returns the nonce the answer (e.g. an autocomplete response) will carry.
function interact(body, gateway) {
  const nonce = snowflake();
  api("POST", "/interactions", { ...body, session_id: gateway.sessionId, nonce }).catch((err) => {
    toast(err instanceof ApiError ? err.detail : String(err));
  });
  return nonce;
}

export function pressComponent(message, component, values, gateway) {
  const data = { component_type: component.type, custom_id: component.custom_id };
  if (values) data.values = values;
  return interact({
    type: 3, application_id: message.application_id || message.author.id, guild_id: message.guild_id,
    channel_id: message.channel_id, message_id: message.id, message_flags: message.flags || 0, data,
  }, gateway);
}

export class CommandPicker {
  constructor(input, channelOf, gateway) {
    this.input = input;
    this.channelOf = channelOf;
    this.gateway = gateway;
    this.commands = null;
    this.matches = [];
    this.index = 0;
    this.chosen = null;
    this.el = h("div", { class: "command-picker", hidden: true });
  }

  get active() { return Boolean(this.chosen); }

  async load() {
    const channel = this.channelOf();
    if (this.commands || !channel) return;
    this.commands = [];
    try {
      const found = await api("GET", `/channels/${channel.id}/application-command-index`);
      this.commands = (found.application_commands || []).filter((c) => (c.type || 1) === 1);
    } catch {
      this.commands = [];
    }
  }

  async update() {
    if (this.chosen) return;
    const text = this.input.value;
    if (!text.startsWith("/") || text.includes(" ")) return this.hide();
    await this.load();
    const word = text.slice(1).toLowerCase();
    this.matches = this.commands.filter((c) => c.name.startsWith(word));
    this.index = 0;
    this.drawList();
  }

  hide() {
    this.el.hidden = true;
    this.matches = [];
  }

  drawList() {
    this.el.hidden = !this.matches.length;
    clear(this.el, h("ul", { role: "listbox", "aria-label": "Commands" }, this.matches.map((c, i) =>
      h("li", { role: "option", "aria-selected": i === this.index ? "true" : "false", class: i === this.index ? "selected" : "", onclick: () => this.choose(c) },
        h("strong", {}, `/${c.name}`), " ", h("span", {}, c.description || "")))));
  }

  handleKey(e) {
    if (this.chosen && e.key === "Escape") { this.reset(); return true; }
    if (!this.matches.length || this.el.hidden) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      this.index = (this.index + (e.key === "ArrowDown" ? 1 : this.matches.length - 1)) % this.matches.length;
      this.drawList();
    } else if (e.key === "Enter" || e.key === "Tab") this.choose(this.matches[this.index]);
    else if (e.key === "Escape") this.hide();
    else return false;
    e.preventDefault();
    return true;
  }

  choose(command) {
    this.chosen = command;
    this.matches = [];
    this.input.value = `/${command.name}`;
    this.input.readOnly = true;
    this.fields = (command.options || []).map((o) => {
      const id = `opt-${o.name}`;
      const input = h("input", { id, name: o.name, required: o.required, autocomplete: "off", type: [4, 10].includes(o.type) ? "number" : "text", list: o.autocomplete || o.choices ? `${id}-list` : null });
      const list = h("datalist", { id: `${id}-list` }, (o.choices || []).map((c) => h("option", { value: String(c.value) }, c.name)));
      if (o.autocomplete) input.addEventListener("input", () => this.autocomplete(o, input));
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") { e.preventDefault(); this.invoke(); }
        if (e.key === "Escape") { this.reset(); this.input.focus(); }
      });
      return { option: o, input, list };
    });
    this.el.hidden = false;
    clear(this.el, h("div", { class: "command-form", role: "group", "aria-label": `Options of /${command.name}` },
      h("strong", {}, `/${command.name}`), " ",
      this.fields.map((f) => h("span", { class: "option" }, h("label", { for: f.input.id, title: f.option.description }, f.option.name + (f.option.required ? "*" : "")), f.input, f.list)),
      h("button", { type: "button", class: "primary", onclick: () => this.invoke() }, "Run"),
      h("button", { type: "button", "aria-label": "Cancel command", onclick: () => this.reset() }, "✕")));
    (this.fields[0] ? this.fields[0].input : this.input).focus();
  }

  reset() {
    this.chosen = null;
    this.input.readOnly = false;
    this.input.value = "";
    this.hide();
    clear(this.el);
  }

  options(focused) {
    return this.fields.filter((f) => f.input.value !== "").map((f) => {
      const number = [4, 10].includes(f.option.type);
      const out = { name: f.option.name, type: f.option.type, value: number ? Number(f.input.value) : f.input.value };
      if (focused === f.option) out.focused = true;
      return out;
    });
  }

  body(type, focused) {
    const c = this.chosen;
    const channel = this.channelOf();
    return {
      type, application_id: c.application_id, guild_id: channel.guild_id, channel_id: channel.id,
      data: { version: c.version, id: c.id, name: c.name, type: 1, options: this.options(focused) },
    };
  }

  autocomplete(option, input) {
    this.pending = input;
    this.pendingNonce = interact(this.body(4, option), this.gateway);
  }

  // Only the answer to the latest keystroke counts: earlier ones may arrive after it.
  autocompleted(d) {
    if (d.nonce !== this.pendingNonce) return;
    const list = this.pending && document.getElementById(`${this.pending.id}-list`);
    if (list) clear(list, (d.choices || []).map((c) => h("option", { value: String(c.value) }, c.name)));
  }

  async invoke() {
    if (!this.chosen) return;
    const missing = this.fields.find((f) => f.option.required && f.input.value === "");
    if (missing) { missing.input.focus(); toast(`${missing.option.name} is required`); return; }
    const body = this.body(2);
    this.reset();
    this.input.focus();
    interact(body, this.gateway);
  }
}
