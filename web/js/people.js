// The member list of the guild in view: online first, each with presence and roles (name in the
// colour of the highest coloured role); "Message" opens a DM (POST /users/@me/channels).
import { api, ApiError } from "./api.js";
import { h, clear, displayName } from "./dom.js";
import { state, apply } from "./store.js";
import { toast } from "./app.js";

export function renderMembers(el, guildId) {
  const guild = state.guilds.get(guildId);
  if (!guild) return clear(el);
  const members = [...(state.members.get(guildId) || new Map()).values()];
  const status = (m) => state.presences.get(m.user.id) || "offline";
  const roles = (m) => (m.roles || []).map((id) => guild.roles.get(id)).filter(Boolean).sort((a, b) => b.position - a.position);
  const byName = (a, b) => displayName(a.user, a).localeCompare(displayName(b.user, b));
  const online = members.filter((m) => status(m) !== "offline").sort(byName);
  const offline = members.filter((m) => status(m) === "offline").sort(byName);
  const row = (m) => {
    const mine = roles(m);
    const colour = mine.find((r) => r.color);
    const name = h("span", { class: "member-name" }, displayName(m.user, m));
    if (colour) name.style.color = `#${colour.color.toString(16).padStart(6, "0")}`;
    return h("li", { class: `member ${status(m)}`, dataset: { user: m.user.id } },
      h("span", { class: `status-dot ${status(m)}`, role: "img", "aria-label": status(m) }),
      name, m.user.bot ? h("span", { class: "tag" }, "BOT") : null,
      m.user.id !== state.me?.id ? h("button", { class: "dm", "aria-label": `Message ${displayName(m.user, m)}`, onclick: () => openDm(m.user) }, "✉") : null,
      mine.length ? h("span", { class: "roles" }, mine.map((r) => h("span", { class: "role" }, r.name))) : null);
  };
  clear(el,
    h("h2", {}, `Online — ${online.length}`), h("ul", {}, online.map(row)),
    h("h2", {}, `Offline — ${offline.length}`), h("ul", {}, offline.map(row)));
}

async function openDm(user) {
  try {
    const channel = await api("POST", "/users/@me/channels", { recipient_id: user.id });
    apply("CHANNEL_CREATE", channel);
    location.assign(`/channels/@me/${channel.id}`);
  } catch (err) {
    toast(err instanceof ApiError ? err.detail : String(err));
  }
}
