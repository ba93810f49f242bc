// The gateway connection: Hello -> Identify (or Resume), heartbeats, dispatches; op 7 reconnects
// and resumes, op 9 re-identifies (or resumes when d is true), a dropped socket reconnects with
// backoff and resumes. The session (id, seq, resume url) is kept in sessionStorage so a reload of
// the page resumes it too: leaving the page closes with 4000, which keeps the session (a 1000 or
// 1001 close would end it, as on Discord).
import { ZlibStream } from "./inflate.js";

const SAVED = "rayguild.gateway";
const RESUBSCRIBE_MS = 60000;  // well under the server's passive_idle_s (300 s by default)
const INTENTS = (1 << 0) | (1 << 1) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 15);

export class Gateway extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.heartbeat = null;
    this.acked = true;
    const saved = JSON.parse(sessionStorage.getItem(SAVED) || "null");
    this.session = saved && saved.token === token ? saved : null;
    this.resumable = Boolean(this.session);
  }

  get sessionId() { return this.session && this.session.session_id; }

  start() {
    addEventListener("pagehide", () => this.leave());
    // Back from the back/forward cache: the socket was closed on the way out; start afresh.
    addEventListener("pageshow", (e) => e.persisted && location.reload());
    addEventListener("online", () => this.ws || this.connect());
    this.connect();
  }

  // Leaving the page: save the session and close in a way that keeps it resumable.
  leave() {
    this.save();
    this.stopped = true;
    if (this.ws) this.ws.close(4000, "page unloaded");
  }

  stop() {
    this.stopped = true;
    sessionStorage.removeItem(SAVED);
    this.session = null;
    if (this.ws) this.ws.close(1000, "signed out");
  }

  save() {
    if (this.session) sessionStorage.setItem(SAVED, JSON.stringify(this.session));
  }

  status(state, detail = "") {
    this.dispatchEvent(new CustomEvent("status", { detail: { state, detail } }));
  }

  connect() {
    if (this.stopped) return;
    const base = this.resumable && this.session.resume_gateway_url && this.attempt === 0
      ? this.session.resume_gateway_url
      : `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
    const url = new URL(base);
    url.pathname = "/";
    url.search = "v=10&encoding=json&compress=zlib-stream";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const inflater = new ZlibStream((payload) => this.onPayload(payload), () => ws.close(4000, "decode error"));
    this.ws = ws;
    this.status(this.attempt ? "reconnecting" : "connecting");
    ws.onmessage = (event) => inflater.push(event.data);
    ws.onclose = (event) => {
      inflater.close();
      if (this.ws === ws) this.ws = null;
      clearInterval(this.heartbeat);
      this.onClose(event.code);
    };
  }

  onClose(code) {
    if (this.stopped) return;
    if (code === 4004) {
      this.status("signed-out", "Your session is no longer valid; sign in again.");
      this.dispatchEvent(new Event("unauthorized"));
      return;
    }
    if ([4007, 4009].includes(code)) this.resumable = false;
    this.attempt++;
    this.status("offline", "Connection lost. Reconnecting…");
    const delay = Math.min(1000 * 2 ** Math.min(this.attempt - 1, 4), 15000) * (0.5 + Math.random() / 2);
    setTimeout(() => this.connect(), navigator.onLine === false ? 2000 : delay);
  }

  send(op, d) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op, d }));
  }

  onPayload({ op, d, s, t }) {
    if (s !== null && s !== undefined && this.session) this.session.seq = s;
    if (op === 10) return this.hello(d.heartbeat_interval);
    if (op === 11) { this.acked = true; return; }
    if (op === 1) return this.beat();
    if (op === 7) return this.ws && this.ws.close(4000, "reconnect requested");
    if (op === 9) {
      this.resumable = Boolean(d);
      if (!d) this.session = null;
      return setTimeout(() => this.login(), 1000 + Math.random() * 4000);
    }
    if (op !== 0) return;
    if (t === "READY") {
      this.session = { token: this.token, session_id: d.session_id, seq: s, resume_gateway_url: d.resume_gateway_url };
      this.resumable = true;
    }
    if (t === "READY" || t === "RESUMED") {
      this.attempt = 0;
      this.status("online");
    }
    this.dispatchEvent(new CustomEvent("dispatch", { detail: { t, d } }));
  }

  hello(intervalMs) {
    clearInterval(this.heartbeat);
    this.acked = true;
    setTimeout(() => this.beat(), intervalMs * Math.random());
    this.heartbeat = setInterval(() => {
      if (!this.acked) return this.ws && this.ws.close(4000, "zombied connection");
      this.beat();
    }, intervalMs);
    this.login();
  }

  beat() {
    this.acked = false;
    this.send(1, this.session ? this.session.seq : null);
  }

  login() {
    if (this.resumable && this.session) {
      this.send(6, { token: this.token, session_id: this.session.session_id, seq: this.session.seq });
      return;
    }
    this.send(2, {
      token: this.token, intents: INTENTS,
      properties: { os: navigator.platform || "web", browser: "rayguild-web", device: "" },
      presence: { status: "online", since: 0, activities: [], afk: false },
    });
  }

  // op 37: active in the guild in view (its events in full), passive in the rest. Sent again
  // every RESUBSCRIBE_MS: a session with no subscription traffic for a while turns passive.
  subscribe(guildId) {
    this.activeGuild = guildId;
    clearInterval(this.resubscribe);
    if (!guildId) return;
    const send = () => this.send(37, { subscriptions: { [this.activeGuild]: { typing: true, activities: true, threads: true, member_updates: true } } });
    send();
    this.resubscribe = setInterval(send, RESUBSCRIBE_MS);
  }
}
