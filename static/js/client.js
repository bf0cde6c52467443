// Talking to the server: the JSON API with a Bearer token, the live websocket with resume,
// the catalogue (markets, skills), and the visible error and connection displays.

import { t, setTimeZone, onLangChange } from "./i18n.js";

export const API = "/api/v1";

// The server's clock decides when an offer expires; a kiosk's clock may be off by minutes.
let skewMs = 0;
export function serverNow() { return Date.now() + skewMs; }

function learnSkew(resp) {
  const date = resp.headers.get("Date");
  if (!date) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  // The Date header has whole seconds; only trust differences beyond that.
  const diff = server + 500 - Date.now();
  skewMs = Math.abs(diff) > 1500 ? diff : 0;
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Call the API; resolves to the parsed JSON body, rejects with ApiError. */
export async function api(method, path, { token, body, idempotencyKey } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let resp;
  try {
    resp = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", t("err.network"), null);
  }
  learnSkew(resp);
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || resp.statusText, e.field || null);
  }
  return data;
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

// ---- errors shown to people -------------------------------------------------

/** A readable sentence for an error: our own words for known codes, else the server's. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t("err.generic", { message: String(err && err.message || err) });
  const key = `err.${err.code}`;
  const mine = t(key);
  if (mine !== key) return mine;
  if (err.status === 401) return t("err.unauthorized");
  if (err.status === 429) return t("err.rate_limited");
  return err.message || t("err.generic", { message: err.code });
}

let alertTimer = 0;

/**
 * Show an error in the page's alert region and, when the server named a field that the form
 * has, mark that field and move focus to it.
 */
export function showError(err, form) {
  const box = document.getElementById("alert");
  const text = errorText(err);
  if (form && err && err.field) {
    const name = String(err.field).split(".").pop();
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      setFieldError(input, text);
      input.focus();
    }
  }
  if (box) {
    box.hidden = false;
    box.className = "alert alert-error";
    box.replaceChildren(iconSpan("⚠"), document.createTextNode(" " + text));
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { box.hidden = true; }, 12000);
  }
  if (!(err instanceof ApiError)) console.error(err);
}

export function showNotice(text) {
  const box = document.getElementById("alert");
  if (!box) return;
  box.hidden = false;
  box.className = "alert alert-info";
  box.replaceChildren(iconSpan("ℹ"), document.createTextNode(" " + text));
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

export function clearAlert() {
  const box = document.getElementById("alert");
  if (box) box.hidden = true;
}

export function setFieldError(input, text) {
  input.setAttribute("aria-invalid", "true");
  const id = `${input.id || input.name}-error`;
  let msg = document.getElementById(id);
  if (!msg) {
    msg = document.createElement("p");
    msg.id = id;
    msg.className = "field-error";
    input.insertAdjacentElement("afterend", msg);
  }
  msg.textContent = `⚠ ${text}`;
  msg.hidden = false;
  const described = new Set((input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  described.add(id);
  input.setAttribute("aria-describedby", [...described].join(" "));
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const msg of form.querySelectorAll(".field-error")) msg.hidden = true;
}

function iconSpan(glyph) {
  const s = document.createElement("span");
  s.setAttribute("aria-hidden", "true");
  s.textContent = glyph;
  return s;
}

// ---- small DOM builder --------------------------------------------------------

/** h("div", {class: "x", onclick: fn}, child, "text") — children may be nodes, strings or arrays. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    // Through the CSSOM: a style attribute would break the Content-Security-Policy.
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendAll(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An emoji or symbol that a screen reader skips because words stand beside it. */
export function icon(glyph, cls = "icon") {
  return h("span", { class: cls, "aria-hidden": "true" }, glyph);
}

/**
 * Insert the server's QR code SVG. It is our own server's output, but it is still parsed as
 * SVG and stripped of scripts and handlers, so a bad payload can only fail to draw.
 */
export function insertQr(container, svgText, label) {
  container.replaceChildren();
  const doc = new DOMParser().parseFromString(svgText || "", "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg" || doc.querySelector("parsererror")) {
    container.append(h("p", { class: "muted" }, "QR —"));
    return;
  }
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  for (const el of [svg, ...svg.querySelectorAll("*")]) {
    for (const a of [...el.attributes]) if (/^on/i.test(a.name)) el.removeAttribute(a.name);
  }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  if (!svg.getAttribute("viewBox")) svg.setAttribute("viewBox", "0 0 100 100");
  svg.classList.add("qr-svg");
  container.append(document.importNode(svg, true));
}

// ---- catalogue ----------------------------------------------------------------

let catalogue = null;

/** Markets and skills, fetched once per page. */
export async function loadCatalogue() {
  if (catalogue) return catalogue;
  const [markets, skills] = await Promise.all([api("GET", "/markets"), api("GET", "/skills")]);
  const skillByCode = new Map(skills.map((s) => [s.code, s]));
  catalogue = { markets, skills, skillByCode };
  if (markets[0]) setTimeZone(markets[0].timezone);
  return catalogue;
}

/** The service circle's radius in straight-line km (mirrors core.market.Rules.reach_km). */
export function reachKm(rules) {
  const limits = [];
  if (rules && rules.max_travel_minutes != null) {
    limits.push((rules.max_travel_minutes / 60) * (rules.speed_kmh || 15) / (rules.detour_factor || 1.3));
  }
  if (rules && rules.max_distance_km != null) limits.push(rules.max_distance_km);
  return limits.length ? Math.min(...limits) : null;
}

export function distanceKm(a, b) {
  const r = 6371.0088;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(s));
}

// ---- signed-in sessions -------------------------------------------------------

/** A token kept in localStorage under a page's own key (never used by the kiosk for workers). */
export class StoredSession {
  constructor(key) { this.key = `gm.session.${key}`; }
  get() {
    try { return JSON.parse(localStorage.getItem(this.key) || "null"); } catch { return null; }
  }
  set(value) { localStorage.setItem(this.key, JSON.stringify(value)); }
  clear() { localStorage.removeItem(this.key); }
}

// ---- live websocket -------------------------------------------------------------

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;

/**
 * The live channel. Authenticates, remembers the last seq per recipient in localStorage,
 * resumes after every reconnect (exponential backoff with jitter), drops duplicates, asks
 * again on a gap, and shows its state in an indicator element.
 *
 * onMessage(msg) gets every server message except ready/pong; onSnapshot(msg) gets a
 * snapshot (history gone: reload from the API); onAuthFailed() when the token is refused.
 */
export class Live {
  constructor({ token, recipient, authExtra, onMessage, onSnapshot, onAuthFailed, onReady, indicator }) {
    this.token = token;
    this.authExtra = authExtra || {};
    this.seqKey = `gm.seq.${recipient}`;
    this.onMessage = onMessage || (() => {});
    this.onSnapshot = onSnapshot || (() => {});
    this.onAuthFailed = onAuthFailed || (() => {});
    this.onReady = onReady || (() => {});
    this.indicator = indicator;
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.countdownTimer = 0;
    this.state = "offline";
    this.retryAt = 0;
    this.resuming = false;
    this.readySeq = 0;
    this._online = () => { if (!this.stopped && this.state === "offline") this._connectNow(); };
    onLangChange(() => this._render());
  }

  get lastSeq() {
    const v = Number(localStorage.getItem(this.seqKey));
    return Number.isFinite(v) && v > 0 ? v : 0;
  }

  set lastSeq(v) { localStorage.setItem(this.seqKey, String(v)); }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this._online);
    this._connectNow();
  }

  /** Close for good (sign-out). */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._online);
    clearTimeout(this.retryTimer);
    this._clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this._setState("signedout");
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.state === "live") {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  _connectNow() {
    clearTimeout(this.retryTimer);
    this._setState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/ws`);
    } catch {
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ ...this.authExtra, type: "auth", token: this.token }));
    ws.onmessage = (ev) => this._receive(ev);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._clearTimers();
      if (this.stopped) return;
      if (ev.code === 4401) {
        this.stopped = true;
        this._setState("signedout");
        this.onAuthFailed();
        return;
      }
      this._scheduleRetry();
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  _receive(ev) {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    this._armPong();
    switch (msg.type) {
      case "ready": {
        this.attempt = 0;
        // The server names the recipient whose numbering this is (a worker, a manager's market).
        if (msg.recipient) this.seqKey = `gm.seq.${msg.recipient}`;
        this._setState("live");
        this._startPing();
        const last = this.lastSeq;
        this.readySeq = msg.seq || 0;
        this.resuming = false;
        if (last > 0 && msg.seq > last) {
          this.resuming = true;
          this.ws.send(JSON.stringify({ type: "resume", after: last }));
        } else if (last === 0 || msg.seq < last) {
          // First visit, or the server's numbering restarted: start from now; the page loads
          // the current state through the API.
          this.lastSeq = msg.seq || 0;
        }
        this.onReady(msg);
        return;
      }
      case "pong":
        return;
      case "snapshot":
        this.lastSeq = msg.seq || 0;
        this.resuming = false;
        this.onSnapshot(msg);
        return;
      case "stats":
        // Stats carry the current seq but are never replayed; they must not move our mark.
        this.onMessage(msg);
        return;
      case "error":
        this.onMessage(msg);
        return;
      default:
        break;
    }
    if (typeof msg.seq === "number") {
      const last = this.lastSeq;
      if (msg.seq <= last) return; // seen already (a resume overlaps what we had)
      if (msg.seq > last + 1 && last > 0 && !this.resuming) {
        // A gap: ask for what is missing; the replay brings this message again, in order.
        this.resuming = true;
        this.readySeq = msg.seq;
        this.ws.send(JSON.stringify({ type: "resume", after: last }));
        return;
      }
      this.lastSeq = msg.seq;
      if (this.resuming && msg.seq >= this.readySeq) this.resuming = false;
    }
    this.onMessage(msg);
  }

  _startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ type: "ping" }));
        this._armPong();
      }
    }, PING_EVERY_MS);
  }

  _armPong() {
    clearTimeout(this.pongTimer);
    // A half-open connection (Wi-Fi dropped) never closes by itself: give up on silence.
    this.pongTimer = setTimeout(() => {
      if (this.ws) this.ws.close(4000);
    }, PING_EVERY_MS + PONG_WITHIN_MS);
  }

  _clearTimers() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  _scheduleRetry() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this._setState("offline");
    this.retryTimer = setTimeout(() => this._connectNow(), delay);
  }

  _setState(state) {
    this.state = state;
    this._render();
    clearInterval(this.countdownTimer);
    if (state === "offline") this.countdownTimer = setInterval(() => this._render(), 1000);
  }

  _render() {
    const el = this.indicator;
    if (!el) return;
    el.dataset.state = this.state;
    let glyph;
    let text;
    switch (this.state) {
      case "live": glyph = "●"; text = t("conn.live"); break;
      case "connecting": glyph = "◌"; text = t("conn.connecting"); break;
      case "signedout": glyph = "○"; text = t("conn.signedout"); break;
      default: {
        glyph = "✕";
        const s = Math.max(0, Math.ceil((this.retryAt - Date.now()) / 1000));
        text = s > 0 ? t("conn.offline", { s }) : t("conn.offline.now");
      }
    }
    el.replaceChildren(iconSpan(glyph), document.createTextNode(` ${text}`));
  }
}

/** An indicator for pages that poll instead of holding a websocket (the public board). */
export function showPollState(indicator, ok) {
  indicator.dataset.state = ok ? "live" : "offline";
  indicator.replaceChildren(
    iconSpan(ok ? "●" : "✕"),
    document.createTextNode(` ${ok ? t("conn.live") : t("conn.offline.now")}`),
  );
}
