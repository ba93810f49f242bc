// Entry point: the sign-in / register page, or the app once a token is kept. `/invite/<code>`
// shows the invite and joins (after signing in when needed).
import { api, ApiError, getToken, setToken } from "./api.js";
import { h, clear } from "./dom.js";
import { startApp } from "./app.js";

const root = document.getElementById("app");
const inviteCode = (location.pathname.match(/^\/invite\/([\w-]+)/) || [])[1] || null;
if (inviteCode) sessionStorage.setItem("rayguild.invite", inviteCode);

function field(label, name, type, autocomplete) {
  const id = `f-${name}`;
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name, type, required: true, autocomplete }));
}

function authPage(mode) {
  const registering = mode === "register";
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "auth-card", "aria-label": registering ? "Create an account" : "Sign in" },
    h("h1", {}, registering ? "Create an account" : "Welcome back"),
    inviteCode ? h("p", { class: "hint" }, `Sign in to accept the invite ${inviteCode}.`) : null,
    field("Username", "login", "text", "username"),
    field("Password", "password", "password", registering ? "new-password" : "current-password"),
    error,
    h("button", { type: "submit", class: "primary" }, registering ? "Continue" : "Log In"),
    h("p", { class: "switch" },
      registering ? "Already have an account? " : "Need an account? ",
      h("a", { href: registering ? "/login" : "/register", onclick: (e) => { e.preventDefault(); history.pushState({}, "", registering ? "/login" : "/register"); authPage(registering ? "login" : "register"); } },
        registering ? "Log In" : "Register")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const login = form.elements.login.value.trim();
    const password = form.elements.password.value;
    error.textContent = "";
    form.querySelector("button").disabled = true;
    try {
      const body = registering
        ? await api("POST", "/auth/register", { username: login, password })
        : await api("POST", "/auth/login", { login, password });
      setToken(body.token);
      boot();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.detail : String(err);
    } finally {
      form.querySelector("button").disabled = false;
    }
  });
  clear(root, h("main", { class: "auth" }, form));
  form.elements.login.focus();
}

export async function signOut() {
  try { await api("POST", "/auth/logout"); } catch { /* the token may already be gone */ }
  setToken(null);
  sessionStorage.clear();
  location.assign("/login");
}

async function acceptInvite(code) {
  sessionStorage.removeItem("rayguild.invite");
  try {
    const invite = await api("POST", `/invites/${code}`);
    return invite && invite.guild ? invite.guild.id : null;
  } catch (err) {
    alertBanner(`Could not join with invite ${code}: ${err instanceof ApiError ? err.detail : err}`);
    return null;
  }
}

function alertBanner(text) {
  document.body.append(h("div", { class: "toast", role: "alert" }, text));
}

async function boot() {
  const token = getToken();
  if (!token) return authPage(location.pathname === "/register" ? "register" : "login");
  const code = sessionStorage.getItem("rayguild.invite");
  const joined = code ? await acceptInvite(code) : null;
  if (location.pathname.startsWith("/invite/") || location.pathname === "/login" || location.pathname === "/register" || location.pathname === "/") {
    history.replaceState({}, "", joined ? `/channels/${joined}` : "/channels/@me");
  }
  startApp(root, token, { signOut, openGuild: joined });
}

boot();
