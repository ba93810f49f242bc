// Discord's common markdown to DOM nodes. Every piece of user text ends up in a text node or an
// attribute set through the DOM (never innerHTML), so markup in a message is shown, not run.
// Links are only http(s); mentions are resolved by the `names` callbacks.
import { h } from "./dom.js";

const RULES = [
  { name: "codeblock", re: /^```(?:([a-z0-9_+-]+)\n)?\n?([\s\S]*?)```/i },
  { name: "code", re: /^(`+)([\s\S]*?[^`])\1(?!`)/ },
  { name: "spoiler", re: /^\|\|([\s\S]+?)\|\|/ },
  { name: "strong", re: /^\*\*([\s\S]+?)\*\*(?!\*)/ },
  { name: "underline", re: /^__([\s\S]+?)__(?!_)/ },
  { name: "em", re: /^\*(?=\S)([\s\S]*?\S)\*(?!\*)/ },
  { name: "em", re: /^_([\s\S]+?)_(?![a-z0-9_])/i },
  { name: "strike", re: /^~~([\s\S]+?)~~/ },
  { name: "masked", re: /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/ },
  { name: "url", re: /^https?:\/\/[^\s<]+[^\s<.,:;"')\]!?]/ },
  { name: "user", re: /^<@!?(\d+)>/ },
  { name: "channel", re: /^<#(\d+)>/ },
  { name: "role", re: /^<@&(\d+)>/ },
  { name: "everyone", re: /^@(everyone|here)\b/ },
  { name: "escape", re: /^\\([^0-9A-Za-z\s])/ },
];
const SPECIAL = /[`|*_~[h<@\\]/;

export function render(text, names = {}) {
  const nodes = [];
  let plain = "";
  const flush = () => { if (plain) { nodes.push(document.createTextNode(plain)); plain = ""; } };
  let rest = text;
  outer: while (rest.length) {
    if (SPECIAL.test(rest[0])) {
      for (const rule of RULES) {
        const m = rule.re.exec(rest);
        if (!m) continue;
        flush();
        nodes.push(node(rule.name, m, names));
        rest = rest.slice(m[0].length);
        continue outer;
      }
    }
    plain += rest[0];
    rest = rest.slice(1);
  }
  flush();
  return nodes;
}

function node(kind, m, names) {
  switch (kind) {
    case "codeblock": return h("pre", { class: "codeblock" }, h("code", { "data-lang": m[1] || "" }, m[2]));
    case "code": return h("code", { class: "inline" }, m[2]);
    case "spoiler": {
      const el = h("span", { class: "spoiler", role: "button", tabindex: "0", "aria-label": "Spoiler, press to reveal" }, render(m[1], names));
      const reveal = () => { el.classList.add("revealed"); el.removeAttribute("role"); el.setAttribute("aria-label", "Spoiler"); };
      el.addEventListener("click", reveal);
      el.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && reveal());
      return el;
    }
    case "strong": return h("strong", {}, render(m[1], names));
    case "underline": return h("u", {}, render(m[1], names));
    case "em": return h("em", {}, render(m[1], names));
    case "strike": return h("s", {}, render(m[1], names));
    case "masked": return link(m[2], m[1]);
    case "url": return link(m[0], m[0]);
    case "user": return mention(`@${names.user ? names.user(m[1]) : m[1]}`, names.me === m[1]);
    case "channel": return mention(`#${names.channel ? names.channel(m[1]) : m[1]}`, false);
    case "role": return mention(`@${names.role ? names.role(m[1]) : m[1]}`, Boolean(names.myRoles && names.myRoles.includes(m[1])));
    case "everyone": return mention(`@${m[1]}`, true);
    case "escape": return document.createTextNode(m[1]);
    default: return document.createTextNode(m[0]);
  }
}

function link(href, label) {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
}

function mention(label, me) {
  return h("span", { class: me ? "mention me" : "mention" }, label);
}

// Whether a message mentions the signed-in user (for highlighting the whole message).
export function mentionsMe(message, meId, myRoles = []) {
  return Boolean(
    message.mention_everyone ||
    (message.mentions || []).some((u) => u.id === meId) ||
    new RegExp(`<@!?${meId}>`).test(message.content || "") ||
    (message.mention_roles || []).some((r) => myRoles.includes(r)),
  );
}
