// The hall board (大屏): public, anonymised, very large type; open jobs scroll by themselves
// and today's figures refresh every few seconds. No login, so it polls the public API.

import {
  t, addStrings, applyI18n, mountLangSwitch, onLangChange, fmtMoney, fmtWhen, fmtHours,
  fmtNumber, fmtClock, pick,
} from "./i18n.js";
import { api, loadCatalogue, showPollState, h, icon } from "./client.js";

addStrings({
  zh: {
    "b.title": "零工市场 · 招工大屏",
    "b.today": "今天",
    "b.posted": "今天发布的招工",
    "b.filled": "今天已上岗人数",
    "b.waiting": "正在等活的人",
    "b.jobs": "正在招人的工作",
    "b.col.job": "工作",
    "b.col.pay": "工钱",
    "b.col.slots": "还要几人",
    "b.col.when": "开工",
    "b.col.where": "地点",
    "b.slots": "{n} 人",
    "b.slots.of": "共 {k} 人",
    "b.claim": "可抢单",
    "b.empty": "现在没有招人的工作，有新工作会马上显示。",
    "b.updated": "更新于 {time}",
    "b.foot": "想接活？到自助服务机刷身份证签到，或用手机扫右上角的二维码（{url}）登记。",
    "b.qr": "手机扫码接活",
    "b.qr.alt": "扫码打开手机找活页面",
  },
  en: {
    "b.title": "Gig market · jobs board",
    "b.today": "Today",
    "b.posted": "jobs posted today",
    "b.filled": "workers placed today",
    "b.waiting": "people waiting for work",
    "b.jobs": "Jobs hiring now",
    "b.col.job": "Work",
    "b.col.pay": "Pay",
    "b.col.slots": "People needed",
    "b.col.when": "Starts",
    "b.col.where": "Where",
    "b.slots": "{n}",
    "b.slots.of": "of {k}",
    "b.claim": "open to claim",
    "b.empty": "No jobs hiring right now. New jobs appear here at once.",
    "b.updated": "updated {time}",
    "b.foot": "Want work? Check in at a kiosk with your ID card, or scan the QR code at the top right ({url}) with your phone.",
    "b.qr": "Scan for work",
    "b.qr.alt": "QR code that opens the worker page on a phone",
  },
});

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
const SCROLL_PX_PER_S = 40;
const PAUSE_MS = 4000;
const PAGE_MS = 10000;

const marketId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const state = { cat: null, market: null, board: null, offset: 0, pauseUntil: 0, lastFrame: 0, lastOk: 0 };
const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

async function boot() {
  applyI18n();
  mountLangSwitch($("lang"));
  onLangChange(render);
  setInterval(() => { $("clock").textContent = fmtClock(new Date()); }, 1000);
  $("clock").textContent = fmtClock(new Date());
  try {
    state.cat = await loadCatalogue();
    state.market = state.cat.markets.find((m) => m.id === marketId) || null;
  } catch { /* retried by the refresh loop */ }
  await refresh();
  setInterval(refresh, REFRESH_MS);
  if (reduceMotion) setInterval(flipPage, PAGE_MS);
  else requestAnimationFrame(scrollFrame);
}

async function refresh() {
  try {
    if (!state.cat) {
      state.cat = await loadCatalogue();
      state.market = state.cat.markets.find((m) => m.id === marketId) || null;
    }
    state.board = await api("GET", `/markets/${encodeURIComponent(marketId)}/board`);
    state.lastOk = Date.now();
    showPollState($("conn"), true);
    render();
  } catch {
    showPollState($("conn"), false);
  }
}

/** Workers away from any screen with an offer waiting, called to a kiosk by masked name. */
function renderCalls(calls) {
  const box = $("calls");
  box.hidden = !calls.length;
  box.replaceChildren(...calls.map((c) => h("p", { class: "board-call", "data-call": c.name }, icon("📣"), ` ${pick(c.text)}`)));
}

function render() {
  const title = state.market ? `${state.market.name} · ${t("b.title").split("·").pop().trim()}` : t("b.title");
  $("b-heading").textContent = title;
  document.title = title;
  $("foot").textContent = t("b.foot", { url: `${location.host}/m/worker` });
  // Drawn by the server (qrcode, SVG) for the host this board was opened on (issue 10).
  const qr = $("board-qr");
  if (!qr.getAttribute("src")) qr.src = `/api/v1/markets/${encodeURIComponent(marketId)}/board/qr.svg`;
  qr.alt = t("b.qr.alt");
  const b = state.board;
  if (!b) return;
  const today = b.today || {};
  $("f-posted").textContent = fmtNumber(today.jobs_posted);
  $("f-filled").textContent = fmtNumber(today.slots_filled);
  $("f-waiting").textContent = fmtNumber(today.workers_waiting);
  $("updated").textContent = t("b.updated", { time: fmtClock(new Date(state.lastOk)) });
  renderCalls(b.calls || []);
  const jobs = (b.jobs || []).filter((j) => (j.open_slots ?? (j.headcount - j.accepted)) > 0);
  const list = $("jobs");
  if (!jobs.length) {
    list.replaceChildren(h("li", { class: "board-empty" }, t("b.empty")));
    return;
  }
  list.replaceChildren(...jobs.map((j) => {
    const skills = (j.skills || []).map((c) => state.cat && state.cat.skillByCode.get(c)).filter(Boolean);
    const open = j.open_slots ?? (j.headcount - j.accepted);
    return h("li", { class: "board-row", "data-job": j.id },
      h("span", { class: "title" }, skills.map((s) => icon(s.icon)), j.title,
        j.claimable ? h("span", { class: "board-claim" }, `⚡ ${t("b.claim")}`) : null),
      h("span", { class: "wage" }, fmtMoney(j.wage)),
      h("span", { class: "slots" }, h("b", {}, t("b.slots", { n: fmtNumber(open) })), " ", h("span", { class: "small" }, t("b.slots.of", { k: fmtNumber(j.headcount) }))),
      h("span", {}, fmtWhen(j.start_at), h("br"), h("span", { class: "small" }, fmtHours(j.duration_hours))),
      h("span", { class: "addr" }, j.address));
  }));
}

/** Scroll down slowly, pause at the bottom, jump back to the top, pause, repeat. */
function scrollFrame(now) {
  const dt = state.lastFrame ? (now - state.lastFrame) / 1000 : 0;
  state.lastFrame = now;
  const list = $("jobs");
  const max = Math.max(0, list.scrollHeight - $("viewport").clientHeight);
  if (max === 0) state.offset = 0;
  else if (Date.now() >= state.pauseUntil) {
    if (state.offset >= max) {
      state.offset = 0;
      state.pauseUntil = Date.now() + PAUSE_MS;
    } else {
      state.offset = Math.min(max, state.offset + SCROLL_PX_PER_S * dt);
      if (state.offset >= max) state.pauseUntil = Date.now() + PAUSE_MS;
    }
  }
  list.style.transform = `translateY(${-state.offset}px)`;
  requestAnimationFrame(scrollFrame);
}

/** Without motion: turn a page every few seconds. */
function flipPage() {
  const list = $("jobs");
  const view = $("viewport").clientHeight;
  const max = Math.max(0, list.scrollHeight - view);
  state.offset = state.offset >= max ? 0 : Math.min(max, state.offset + view);
  list.style.transform = `translateY(${-state.offset}px)`;
}

boot();
