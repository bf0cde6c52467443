// The market manager's dashboard (1920x1080): live figures, the day in charts, the map with
// the service circle, solver round timings, unmatched reasons, review queues and key groups.

import {
  t, addStrings, applyI18n, mountLangSwitch, onLangChange, fmtNumber, fmtPercent,
  fmtDuration, fmtMinutes, fmtMoney, fmtWhen, fmtClock, KEY_GROUPS, dayParts, wallTime,
  setTimeZone,
} from "./i18n.js";
import { api, Live, StoredSession, loadCatalogue, showError, showNotice, h, icon } from "./client.js";
import { skillNames } from "./skillpicker.js";
import { MarketMap } from "./map.js";
import { confirmDialog } from "./after.js";
import { lineChart, barChart, sparkline } from "./chart.js";
import { openConsole, closeConsole } from "./console.js";
import { refreshCertificateQueue } from "./cert_review.js";
import { mountKioskAdmin } from "./kiosk_admin.js";

addStrings({
  zh: {
    "m.disputes": "工钱纠纷",
    "m.disputes.none": "没有待处理的纠纷。",
    "m.reports": "举报",
    "m.reports.none": "没有待处理的举报。",
    "m.col.people": "工人 / 用工方",
    "m.col.pay": "工钱",
    "m.col.reason": "举报原因",
    "m.dispute.paid": "已付",
    "m.dispute.unpaid": "未付",
    "m.dispute.paid.title": "认定已付工钱？",
    "m.dispute.unpaid.title": "认定没付工钱？（会降低用工方信用）",
    "m.report.upheld": "属实",
    "m.report.rejected": "不属实",
    "m.report.upheld.title": "认定举报属实？（会降低用工方信用）",
    "m.report.rejected.title": "认定举报不属实？",
    "m.resolved": "已处理。",
    "m.reason.fake": "虚假招聘",
    "m.reason.not_as_described": "和说的不一样",
    "m.reason.unpaid": "不给工钱",
    "m.reason.no_show": "雇主未到场",
    "m.suspend": "暂停用工方",
    "m.suspend.label": "暂停用工方 {name}",
    "m.suspend.title": "确定暂停「{name}」？",
    "m.suspend.text": "它的账号马上停用，没开工的招工全部撤下，已接活的工人会收到通知。",
    "m.suspend.done": "已暂停「{name}」，撤下 {n} 个招工。",
    "m.suspended": "已暂停",
    "m.title": "零工市场 · 管理看板",
    "m.heading": "零工市场 · 管理看板",
    "m.market": "市场",
    "m.signout": "退出",
    "m.login": "管理员登录",
    "m.username": "用户名",
    "m.password": "密码",
    "m.signin": "登录",
    "m.figures": "主要数字",
    "m.map": "市场地图",
    "m.map.count": "{w} 人等待 · {j} 个招工",
    "m.byskill": "各工种等待人数",
    "m.byskill.none": "现在没有人等待。",
    "m.day": "今天每小时",
    "m.day.note": "来自台账，每分钟更新",
    "m.day.label": "今天每小时的签到、发布招工、发出邀请和没接的邀请（来自台账）：{summary}",
    "m.day.checkins": "签到",
    "m.day.posted": "发布招工",
    "m.day.offers": "发出邀请",
    "m.day.missed": "拒绝/超时",
    "m.day.totals": "今日合计（{date}）",
    "m.day.declined": "拒绝",
    "m.day.expired": "超时",
    "m.day.cancelled": "招工取消",
    "m.day.loading": "正在读取台账……",
    "m.perhour": "每小时成交（人）",
    "m.perhour.label": "今天每小时成交人数（来自台账），共 {n} 人：{summary}",
    "m.perhour.hour": "{h} 时 {n} 人",
    "m.rounds": "派单轮次用时",
    "m.rounds.count": "今日轮次",
    "m.rounds.last": "最近一轮",
    "m.rounds.median": "中位数",
    "m.rounds.label": "最近派单轮次的用时（毫秒）",
    "m.unmatched": "没配上的原因",
    "m.unmatched.at": "第 {time} 轮",
    "m.unmatched.none": "上一轮全部配上了。",
    "m.unmatched.worker": "工人",
    "m.unmatched.job": "招工",
    "m.review": "待处理",
    "m.review.employers": "待核实的企业",
    "m.review.jobs": "待审核的招工",
    "m.review.none": "没有待处理的。",
    "m.verify": "核实通过",
    "m.verified": "已核实：{name}",
    "m.approve": "通过",
    "m.reject": "驳回",
    "m.approved": "已通过：{title}",
    "m.rejected": "已驳回：{title}",
    "m.kg": "签到的工人 · 标记重点群体",
    "m.kg.help": "查验证件后再标记；工人自己不能申报。",
    "m.kg.none": "现在没有签到的工人。",
    "m.kg.save": "保存",
    "m.kg.saved": "已标记：{name}",
    "m.kg.label": "{name} 的重点群体",
    "m.events": "实时动态",
    "m.events.none": "打开看板后的动态会显示在这里。",
    "m.col.name": "姓名",
    "m.col.org": "单位",
    "m.col.code": "信用代码",
    "m.col.phone": "电话",
    "m.col.job": "招工",
    "m.col.skills": "工种",
    "m.col.waited": "已等",
    "m.col.state": "状态",
    "m.col.kg": "重点群体",
    "m.col.action": "操作",
    "tile.waiting": "等待的工人",
    "tile.open_jobs": "招人中的工作",
    "tile.open_slots": "空缺",
    "tile.offers": "待回复邀请",
    "tile.fills": "今日成交",
    "tile.fills.sub": "今日发布 {n} 个岗位",
    "tile.fill_rate": "招满率",
    "tile.ttf": "招满用时（中位）",
    "tile.travel": "路程（中位）",
    "tile.acceptance": "接受率",
    "tile.keygroup": "重点群体今日安置",
    "tile.changed": "{label}变为 {value}",
    "reason.no_open_jobs": "没有开放的岗位",
    "reason.no_job_in_reach": "服务圈内没有岗位",
    "reason.no_skill_match": "工种不对口",
    "reason.certificate_required": "缺少证书",
    "reason.wage_below_minimum": "工钱低于工人要求",
    "reason.cannot_arrive_in_time": "赶不上开工",
    "reason.not_available_long_enough": "可工作时间不够",
    "reason.busy_overlap": "时间冲突",
    "reason.declined_before": "之前拒绝或超时",
    "reason.outranked": "让给了更合适的人",
    "reason.no_workers_waiting": "没有等待的工人",
    "reason.no_worker_in_reach": "服务圈内没有工人",
    "reason.no_worker_with_skill": "没有对口工种的工人",
    "reason.no_worker_with_certificate": "没有持证工人",
    "reason.wage_below_worker_minimum": "工钱低于工人要求",
    "reason.no_worker_can_arrive_in_time": "工人赶不上开工",
    "reason.no_worker_available_long_enough": "工人可工作时间不够",
    "reason.no_worker_free": "合适的工人都没空",
    "reason.not_enough_workers": "人手不够",
  },
  en: {
    "m.disputes": "Wage disputes",
    "m.disputes.none": "No open disputes.",
    "m.reports": "Reports",
    "m.reports.none": "No open reports.",
    "m.col.people": "Worker / employer",
    "m.col.pay": "Pay",
    "m.col.reason": "Reason",
    "m.dispute.paid": "Paid",
    "m.dispute.unpaid": "Unpaid",
    "m.dispute.paid.title": "Find the worker was paid?",
    "m.dispute.unpaid.title": "Find the worker was not paid? (lowers the employer's reliability)",
    "m.report.upheld": "Upheld",
    "m.report.rejected": "Not upheld",
    "m.report.upheld.title": "Uphold this report? (lowers the employer's reliability)",
    "m.report.rejected.title": "Find this report not upheld?",
    "m.resolved": "Resolved.",
    "m.reason.fake": "Fake job",
    "m.reason.not_as_described": "Not as described",
    "m.reason.unpaid": "Not paid",
    "m.reason.no_show": "Employer did not show up",
    "m.suspend": "Suspend employer",
    "m.suspend.label": "Suspend employer {name}",
    "m.suspend.title": "Suspend “{name}”?",
    "m.suspend.text": "Its account stops at once; its jobs not under way are withdrawn and hired workers are told.",
    "m.suspend.done": "Suspended “{name}”; {n} jobs withdrawn.",
    "m.suspended": "Suspended",
    "m.title": "Gig market · dashboard",
    "m.heading": "Gig market · dashboard",
    "m.market": "Market",
    "m.signout": "Sign out",
    "m.login": "Manager sign-in",
    "m.username": "Username",
    "m.password": "Password",
    "m.signin": "Sign in",
    "m.figures": "Key figures",
    "m.map": "Market map",
    "m.map.count": "{w} waiting · {j} jobs",
    "m.byskill": "Workers waiting by skill",
    "m.byskill.none": "Nobody is waiting now.",
    "m.day": "Today by the hour",
    "m.day.note": "from the ledger, updated every minute",
    "m.day.label": "Check-ins, jobs posted, offers sent and offers not taken per hour today (from the ledger): {summary}",
    "m.day.checkins": "Check-ins",
    "m.day.posted": "Jobs posted",
    "m.day.offers": "Offers sent",
    "m.day.missed": "Declined/expired",
    "m.day.totals": "Totals for {date}",
    "m.day.declined": "Declined",
    "m.day.expired": "Expired",
    "m.day.cancelled": "Jobs cancelled",
    "m.day.loading": "Reading the ledger…",
    "m.perhour": "Fills per hour",
    "m.perhour.label": "Workers placed per hour today (from the ledger), {n} in all: {summary}",
    "m.perhour.hour": "{n} at {h}:00",
    "m.rounds": "Solver rounds",
    "m.rounds.count": "Rounds today",
    "m.rounds.last": "Last round",
    "m.rounds.median": "Median",
    "m.rounds.label": "Recent round durations (ms)",
    "m.unmatched": "Why not matched",
    "m.unmatched.at": "round at {time}",
    "m.unmatched.none": "Everyone was matched in the last round.",
    "m.unmatched.worker": "Worker",
    "m.unmatched.job": "Job",
    "m.review": "To review",
    "m.review.employers": "Employers to verify",
    "m.review.jobs": "Postings to review",
    "m.review.none": "Nothing waiting.",
    "m.verify": "Verify",
    "m.verified": "Verified: {name}",
    "m.approve": "Approve",
    "m.reject": "Reject",
    "m.approved": "Approved: {title}",
    "m.rejected": "Rejected: {title}",
    "m.kg": "Checked-in workers · key groups",
    "m.kg.help": "Mark only after checking papers; workers cannot declare it.",
    "m.kg.none": "No workers checked in now.",
    "m.kg.save": "Save",
    "m.kg.saved": "Marked: {name}",
    "m.kg.label": "Key group of {name}",
    "m.events": "Live events",
    "m.events.none": "Events since the dashboard opened appear here.",
    "m.col.name": "Name",
    "m.col.org": "Organisation",
    "m.col.code": "Credit code",
    "m.col.phone": "Phone",
    "m.col.job": "Job",
    "m.col.skills": "Skills",
    "m.col.waited": "Waited",
    "m.col.state": "State",
    "m.col.kg": "Key group",
    "m.col.action": "Action",
    "tile.waiting": "Workers waiting",
    "tile.open_jobs": "Open jobs",
    "tile.open_slots": "Open slots",
    "tile.offers": "Offers pending",
    "tile.fills": "Fills today",
    "tile.fills.sub": "{n} slots posted today",
    "tile.fill_rate": "Fill rate",
    "tile.ttf": "Time to fill (median)",
    "tile.travel": "Travel (median)",
    "tile.acceptance": "Acceptance",
    "tile.keygroup": "Key-group placements",
    "tile.changed": "{label} is now {value}",
    "reason.no_open_jobs": "No open jobs",
    "reason.no_job_in_reach": "No job within reach",
    "reason.no_skill_match": "No job for their skills",
    "reason.certificate_required": "Certificate needed",
    "reason.wage_below_minimum": "Pay below their minimum",
    "reason.cannot_arrive_in_time": "Cannot arrive in time",
    "reason.not_available_long_enough": "Not available long enough",
    "reason.busy_overlap": "Overlaps accepted work",
    "reason.declined_before": "Declined or let expire before",
    "reason.outranked": "Outranked",
    "reason.no_workers_waiting": "Nobody waiting",
    "reason.no_worker_in_reach": "No worker within reach",
    "reason.no_worker_with_skill": "No worker with the skill",
    "reason.no_worker_with_certificate": "No certified worker",
    "reason.wage_below_worker_minimum": "Pay below workers' minimum",
    "reason.no_worker_can_arrive_in_time": "No worker can arrive in time",
    "reason.no_worker_available_long_enough": "No worker available long enough",
    "reason.no_worker_free": "Suitable workers are busy",
    "reason.not_enough_workers": "Not enough workers",
  },
});

const $ = (id) => document.getElementById(id);
const stored = new StoredSession("manager");
const HISTORY_EVERY_MS = 60000;
const POOL_EVERY_MS = 5000;
const QUEUES_EVERY_MS = 10000;
const MAX_EVENTS = 80;
const MAX_ROUND_SAMPLES = 120;

const state = {
  session: null, live: null, cat: null, market: null, map: null, stats: null, pool: null,
  review: null, unmatched: null, history: null, events: [], rounds: [], lastRoundCount: null,
  timers: [], refreshQueued: 0, historyDue: false,
};

const TILES = [
  ["waiting", "👥", (s) => fmtNumber(s.workers_waiting)],
  ["open_jobs", "📣", (s) => fmtNumber(s.open_jobs)],
  ["open_slots", "🪑", (s) => fmtNumber(s.open_slots)],
  ["offers", "📨", (s) => fmtNumber(s.offers_pending)],
  ["fills", "🤝", (s) => fmtNumber(s.fills_today), (s) => t("tile.fills.sub", { n: fmtNumber(s.slots_posted_today) })],
  ["fill_rate", "🎯", (s) => fmtPercent(s.fill_rate)],
  ["ttf", "⏱", (s) => (s.median_time_to_fill_s == null ? "—" : fmtDuration(s.median_time_to_fill_s))],
  ["travel", "🚶", (s) => fmtMinutes(s.median_travel_minutes)],
  ["acceptance", "👍", (s) => fmtPercent(s.acceptance_rate)],
  ["keygroup", "⭐", (s) => fmtNumber(s.key_group_placements_today)],
];

async function boot() {
  applyI18n();
  mountLangSwitch($("lang"));
  $("login-form").addEventListener("submit", login);
  $("signout").addEventListener("click", signOut);
  $("market").addEventListener("change", () => selectMarket($("market").value));
  onLangChange(renderAll);
  setInterval(() => { $("clock").textContent = fmtClock(new Date()); }, 1000);
  forgetOldSamples();
  try {
    state.cat = await loadCatalogue();
  } catch (err) {
    showError(err);
  }
  const saved = stored.get();
  if (saved && saved.token) await start(saved);
  else showLogin();
}

function showLogin() {
  $("v-login").hidden = false;
  $("v-dash").hidden = true;
  closeConsole();
  $("signout").hidden = true;
  $("market").hidden = true;
  $("username").focus();
}

async function login(ev) {
  ev.preventDefault();
  try {
    const r = await api("POST", "/auth/login", {
      body: { username: $("username").value.trim(), password: $("password").value },
    });
    $("password").value = "";
    stored.set({ token: r.token, userId: r.user_id, markets: r.markets || [] });
    await start(stored.get());
  } catch (err) {
    showError(err, ev.target);
  }
}

function signOut() {
  if (state.session) api("POST", "/auth/logout", { token: state.session.token }).catch(() => {});
  if (state.live) state.live.stop();
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
  stored.clear();
  state.session = null;
  showLogin();
}

async function start(saved) {
  state.session = saved;
  let markets = saved.markets;
  if (!markets || !markets.length) {
    try {
      const me = await api("GET", "/me", { token: saved.token });
      markets = me.markets || [];
    } catch (err) {
      if (err.status === 401) { signOut(); return; }
      showError(err);
      return;
    }
  }
  const select = $("market");
  select.replaceChildren(...markets.map((id) => {
    const m = state.cat && state.cat.markets.find((x) => x.id === id);
    return h("option", { value: id }, m ? m.name : id);
  }));
  select.hidden = markets.length < 2;
  $("v-login").hidden = true;
  $("v-dash").hidden = false;
  $("signout").hidden = false;
  const preferred = localStorage.getItem("gm.manage.market");
  await selectMarket(markets.includes(preferred) ? preferred : markets[0]);
  state.timers.push(setInterval(refreshPool, POOL_EVERY_MS));
  state.timers.push(setInterval(refreshQueues, QUEUES_EVERY_MS));
  state.timers.push(setInterval(refreshHistory, HISTORY_EVERY_MS));
}

async function selectMarket(id) {
  if (!id || !state.cat) return;
  localStorage.setItem("gm.manage.market", id);
  $("market").value = id;
  state.market = state.cat.markets.find((m) => m.id === id);
  setTimeZone(state.market.timezone);
  state.history = null;
  $("m-heading").textContent = `${state.market.name} · ${t("m.heading").split("·").pop().trim()}`;
  state.map = new MarketMap($("map"), state.market, { showWorkers: true, showJobs: true, markerScale: 1.5 });
  state.rounds = loadRounds();
  state.events = [];
  renderEvents();
  // A manager's live channel is per market: switching markets means a new channel.
  if (state.live) state.live.stop();
  state.live = new Live({
    token: state.session.token,
    recipient: `manager.${state.session.userId}.${id}`,
    authExtra: { market: id },
    indicator: $("conn"),
    onMessage: onLive,
    onReady: () => refreshAll(),
    onSnapshot: () => refreshAll(),
    onAuthFailed: signOut,
  });
  state.live.start();
  // Kiosk setup and the desk (issue 10): a panel of their own, reachable at /manage#kiosks.
  mountKioskAdmin({ token: state.session.token, market: state.market, onAuthFailed: signOut });
  await Promise.all([
    refreshAll(),
    openConsole({ token: state.session.token, market: state.market, onAuthFailed: signOut }),
  ]);
}

async function refreshAll() {
  if (!state.market) return;
  await Promise.all([refreshStats(), refreshPool(), refreshQueues(), refreshHistory()]);
}

async function call(path) {
  try {
    return await api("GET", path, { token: state.session.token });
  } catch (err) {
    if (err.status === 401) signOut();
    else showError(err);
    return null;
  }
}

async function refreshStats() {
  const s = await call(`/markets/${state.market.id}/stats`);
  if (s) applyStats(s);
}

async function refreshPool() {
  if (!state.session) return;
  const p = await call(`/markets/${state.market.id}/pool`);
  if (!p) return;
  state.pool = p;
  state.map.setWorkers(p.workers);
  state.map.setJobs((p.jobs || []).filter((j) => j.state === "open"));
  renderPool();
  // Events name jobs by id; the pool brings their titles.
  renderEvents();
}

/** The day's hourly counts come from the ledger, so they survive reloads and other screens. */
async function refreshHistory() {
  if (!state.session || !state.market) return;
  const market = state.market.id;
  const history = await call(`/markets/${market}/stats/history`);
  if (!history || !state.market || history.market_id !== state.market.id) return;
  state.history = history;
  renderCharts();
}

async function refreshQueues() {
  if (!state.session) return;
  const [review, unmatched, disputes, reports] = await Promise.all([
    call(`/markets/${state.market.id}/review`),
    call(`/markets/${state.market.id}/unmatched`),
    call(`/markets/${state.market.id}/disputes`),
    call(`/markets/${state.market.id}/reports`),
  ]);
  if (disputes) { state.disputes = disputes.disputes || []; renderDisputes(); }
  if (reports) { state.reports = reports.reports || []; renderReports(); }
  if (review) { state.review = review; renderReview(); }
  if (unmatched) { state.unmatched = unmatched; renderUnmatched(); }
  await refreshCertificateQueue($("certs"), $("certs-count"), { marketId: state.market.id, token: state.session.token });
}

/** Events come in bursts; one refresh per second is enough. */
function queueRefresh() {
  if (state.refreshQueued) return;
  state.refreshQueued = setTimeout(() => {
    state.refreshQueued = 0;
    refreshPool();
    refreshQueues();
    if (state.historyDue) {
      state.historyDue = false;
      refreshHistory();
    }
  }, 1000);
}

function onLive(msg) {
  if (msg.type === "stats" && msg.stats && (!state.market || msg.stats.market_id === state.market.id)) {
    applyStats(msg.stats);
  } else if (msg.type === "event" && msg.event) {
    const e = msg.event;
    // A resume after a dropped connection may bring an event already shown.
    if (e.id && state.events.some((x) => x.id === e.id)) return;
    state.events.unshift(e);
    state.events.length = Math.min(state.events.length, MAX_EVENTS);
    if (HISTORY_TRIGGERS.has(e.type)) state.historyDue = true;
    renderEvents();
    queueRefresh();
  }
}

// ---- figures and charts --------------------------------------------------------------

function applyStats(s) {
  const before = state.stats;
  state.stats = s;
  recordRound(s);
  renderTiles(before);
  renderBySkill();
  renderCharts();
  renderRounds();
  renderUnmatched();
}

function renderAll() {
  if (!state.market) return;
  selectMarketHeading();
  renderTiles(null);
  renderBySkill();
  renderCharts();
  renderRounds();
  renderUnmatched();
  renderReview();
  renderDisputes();
  renderReports();
  renderPool();
  renderEvents();
}

function selectMarketHeading() {
  $("m-heading").textContent = `${state.market.name} · ${t("m.heading").split("·").pop().trim()}`;
}

function renderTiles(before) {
  const s = state.stats;
  if (!s) return;
  const box = $("tiles");
  if (box.children.length !== TILES.length) {
    box.replaceChildren(...TILES.map(([key]) => h("div", { class: "tile", "data-tile": key },
      h("span", { class: "tile-label" }), h("span", { class: "tile-value" }), h("span", { class: "tile-sub" }))));
  }
  TILES.forEach(([key, glyph, value, sub], i) => {
    const el = box.children[i];
    const v = value(s);
    el.querySelector(".tile-label").replaceChildren(icon(glyph), t(`tile.${key}`));
    const valueEl = el.querySelector(".tile-value");
    if (before && valueEl.textContent !== v) {
      el.dataset.changed = "false";
      void el.offsetWidth;
      el.dataset.changed = "true";
    }
    valueEl.textContent = v;
    el.querySelector(".tile-sub").textContent = sub ? sub(s) : "";
  });
}

function renderBySkill() {
  const s = state.stats;
  if (!s || !state.cat) return;
  const entries = Object.entries(s.waiting_by_skill || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  hbars($("by-skill"), entries.map(([code, n]) => [skillNames([code], state.cat.skillByCode), n]), t("m.byskill.none"));
}

function hbars(list, rows, empty) {
  if (!rows.length) {
    list.replaceChildren(h("li", { class: "muted", style: "display:block" }, empty));
    return;
  }
  const max = Math.max(...rows.map((r) => r[1]));
  list.replaceChildren(...rows.map(([label, n]) => h("li", {},
    h("span", {}, label),
    h("span", { class: "bar-track", "aria-hidden": "true" }, h("span", { class: "bar-fill", style: `width:${(n / max) * 100}%` })),
    h("span", { class: "n" }, fmtNumber(n)))));
}

/** The dashboard once kept its own samples in localStorage; the ledger's history replaced them. */
function forgetOldSamples() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith("gm.stats.")) localStorage.removeItem(key);
  } catch { /* storage blocked: nothing was kept either */ }
}

/** Round timings are not in the ledger: keep the recent ones seen live, for the sparkline. */
function recordRound(s) {
  if (s.rounds && s.rounds.count !== state.lastRoundCount && s.rounds.last_ms != null) {
    state.lastRoundCount = s.rounds.count;
    state.rounds.push(s.rounds.last_ms);
    if (state.rounds.length > MAX_ROUND_SAMPLES) state.rounds.splice(0, state.rounds.length - MAX_ROUND_SAMPLES);
    try { sessionStorage.setItem(`gm.rounds.${state.market.id}`, JSON.stringify(state.rounds)); } catch { /* ignore */ }
  }
}

function loadRounds() {
  try { return JSON.parse(sessionStorage.getItem(`gm.rounds.${state.market.id}`) || "[]"); } catch { return []; }
}

/** Feed events that change what the history charts count (a round creates offers). */
const HISTORY_TRIGGERS = new Set([
  "worker.checked_in", "job.posted", "round", "offer.accepted", "offer.declined",
  "offer.expired", "job.cancelled",
]);

function renderCharts() {
  const hist = state.history;
  if (!hist || !hist.series) {
    $("day-totals").textContent = t("m.day.loading");
    return;
  }
  const series = (type) => hist.series[type] || new Array(24).fill(0);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const checkins = series("worker.checked_in");
  const posted = series("job.posted");
  const offers = series("offer.created");
  const declined = series("offer.declined");
  const expired = series("offer.expired");
  const missed = declined.map((n, i) => n + expired[i]);
  const fills = series("offer.accepted");
  const cancelled = series("job.cancelled");

  const [year, month, day] = hist.date.split("-").map(Number);
  const now = dayParts(new Date());
  const isToday = now.year === year && now.month === month && now.day === day;
  // Working hours by default; stretch to any hour that had something, and to now.
  const busy = [checkins, posted, offers, missed, fills, cancelled]
    .flatMap((xs) => xs.map((n, i) => (n ? i : null))).filter((i) => i !== null);
  const firstHour = Math.min(6, ...busy);
  const lastHour = Math.max(20, isToday ? now.hour : 23, ...busy);
  const upTo = isToday ? now.hour : 23;
  const at = (hour, minute) => wallTime(year, month, day, hour, minute).getTime();
  const points = (xs) => {
    const out = [];
    // Each hour's count sits mid-hour; the hour still running sits at now, not in the future.
    for (let hr = firstHour; hr <= Math.min(upTo, lastHour); hr += 1) out.push([Math.min(at(hr, 30), Date.now()), xs[hr]]);
    return out;
  };
  const lines = [
    { label: t("m.day.checkins"), values: checkins },
    { label: t("m.day.posted"), values: posted },
    { label: t("m.day.offers"), values: offers },
    { label: t("m.day.missed"), values: missed },
  ];
  const totals = [
    [t("m.day.checkins"), sum(checkins)], [t("m.day.posted"), sum(posted)],
    [t("m.day.offers"), sum(offers)], [t("tile.fills"), sum(fills)],
    [t("m.day.declined"), sum(declined)], [t("m.day.expired"), sum(expired)],
    [t("m.day.cancelled"), sum(cancelled)],
  ];
  const summary = totals.map(([label, n]) => `${label} ${fmtNumber(n)}`).join(" · ");
  $("day-totals").replaceChildren(h("b", {}, t("m.day.totals", { date: hist.date })), " ", summary);
  lineChart($("chart-day"), {
    from: at(firstHour, 0), to: at(lastHour, 59) + 60000,
    label: t("m.day.label", { summary }),
    series: lines.map((l) => ({ label: l.label, points: points(l.values) })),
  });
  const bars = [];
  for (let hr = firstHour; hr <= lastHour; hr += 1) bars.push({ label: `${hr}`, value: fills[hr] });
  const fillHours = bars.filter((b) => b.value).map((b) => t("m.perhour.hour", { h: b.label, n: fmtNumber(b.value) }));
  const box = $("chart-hours");
  box.dataset.fills = String(sum(fills));
  barChart(box, {
    bars, label: t("m.perhour.label", { n: fmtNumber(sum(fills)), summary: fillHours.join(" · ") || "—" }),
  });
}

function renderRounds() {
  const r = (state.stats && state.stats.rounds) || {};
  const ms = (v) => (v == null ? "—" : `${fmtNumber(v, 1)} ms`);
  $("rounds").replaceChildren(
    h("div", {}, h("span", { class: "small muted" }, t("m.rounds.count")), h("b", {}, fmtNumber(r.count))),
    h("div", {}, h("span", { class: "small muted" }, t("m.rounds.last")), h("b", {}, ms(r.last_ms))),
    h("div", {}, h("span", { class: "small muted" }, t("m.rounds.median")), h("b", {}, ms(r.median_ms))),
  );
  sparkline($("chart-rounds"), { values: state.rounds, label: t("m.rounds.label") });
}

function reasonText(code) {
  const key = `reason.${code}`;
  const text = t(key);
  return text === key ? String(code).replace(/_/g, " ") : text;
}

function renderUnmatched() {
  const u = state.unmatched;
  // The live figures count waiting workers only; the last round's list names the jobs too.
  let counts = (state.stats && state.stats.unmatched) || {};
  if (u) {
    counts = {};
    for (const x of [...(u.workers || []), ...(u.jobs || [])]) counts[x.reason] = (counts[x.reason] || 0) + 1;
  }
  const rows = Object.entries(counts).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  hbars($("unmatched-bars"), rows.map(([code, n]) => [reasonText(code), n]), t("m.unmatched.none"));
  $("unmatched-at").textContent = u && u.round_at ? t("m.unmatched.at", { time: fmtClock(new Date(u.round_at)) }) : "";
  if (!u) return;
  const items = [
    ...(u.workers || []).map((w) => [t("m.unmatched.worker"), w.name, w.reason]),
    ...(u.jobs || []).map((j) => [t("m.unmatched.job"), j.title, j.reason]),
  ];
  $("unmatched-list").replaceChildren(items.length ? h("table", { class: "table" },
    h("tbody", {}, items.map(([kind, name, reason]) => h("tr", {},
      h("td", { class: "muted" }, kind), h("td", {}, name), h("td", {}, reasonText(reason)))))) : "");
}

// ---- queues and key groups --------------------------------------------------------------

function renderReview() {
  const r = state.review;
  if (!r) return;
  const employers = r.employers || [];
  const jobs = r.jobs || [];
  const total = employers.length + jobs.length;
  $("review-count").textContent = String(total);
  $("review-count").hidden = total === 0;
  $("review-employers").replaceChildren(employers.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["m.col.org", "m.col.name", "m.col.code", "m.col.phone", "m.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, employers.map((e) => h("tr", { "data-employer": e.id },
      h("td", {}, e.org_name || "—"), h("td", {}, e.name || "—"),
      h("td", { class: "nowrap" }, e.credit_code || "—"), h("td", { class: "nowrap" }, e.phone || "—"),
      h("td", { class: "nowrap" }, h("button", { type: "button", class: "btn btn-ok", onclick: () => verify(e) }, icon("✔"), t("m.verify"))))))
  ) : h("p", { class: "muted" }, t("m.review.none")));
  $("review-jobs").replaceChildren(jobs.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["m.col.job", "m.col.skills", "m.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, jobs.map((j) => h("tr", { "data-job": j.id },
      h("td", {}, h("b", {}, j.title), h("br"), h("span", { class: "small muted" }, `${fmtMoney(j.wage)} · ${fmtWhen(j.start_at)} · ×${j.headcount}`), h("br"), h("span", { class: "small muted" }, j.address)),
      h("td", {}, skillNames(j.skills, state.cat.skillByCode)),
      h("td", { class: "nowrap" },
        h("button", { type: "button", class: "btn btn-ok", onclick: () => review(j, "approve") }, icon("✔"), t("m.approve")),
        " ",
        h("button", { type: "button", class: "btn btn-danger", onclick: () => review(j, "reject") }, icon("✕"), t("m.reject")))))),
  ) : h("p", { class: "muted" }, t("m.review.none")));
}

// ---- wage disputes, reports and suspension (issue 5) ---------------------------------------

function renderDisputes() {
  const list = state.disputes || [];
  $("disputes-count").textContent = String(list.length);
  $("disputes-count").hidden = list.length === 0;
  $("disputes").replaceChildren(list.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["m.col.job", "m.col.people", "m.col.pay", "m.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, list.map((d) => h("tr", { "data-dispute": d.id },
      h("td", {}, h("b", {}, d.title || d.job_id), h("br"), h("span", { class: "small muted" }, fmtWhen(d.completed_at))),
      h("td", {}, `${d.worker || "—"} / ${d.employer || "—"}`),
      h("td", { class: "nowrap" }, d.pay ? fmtMoney(d.pay) : "—", d.hours != null ? ` · ${d.hours}h` : ""),
      h("td", { class: "nowrap" },
        h("button", { type: "button", class: "btn btn-ok", onclick: () => resolveDispute(d, "paid") }, icon("💴"), t("m.dispute.paid")),
        " ",
        h("button", { type: "button", class: "btn btn-danger", onclick: () => resolveDispute(d, "unpaid") }, icon("✕"), t("m.dispute.unpaid")))))),
  ) : h("p", { class: "muted" }, t("m.disputes.none")));
}

function renderReports() {
  const list = state.reports || [];
  $("reports-count").textContent = String(list.length);
  $("reports-count").hidden = list.length === 0;
  $("reports").replaceChildren(list.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["m.col.job", "m.col.reason", "m.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, list.map((r) => h("tr", { "data-report": r.id },
      h("td", {}, h("b", {}, r.title || r.job_id), h("br"),
        h("span", { class: "small muted" }, `${r.employer || "—"} · ${r.worker || "—"} · ${fmtWhen(r.at)}`),
        r.employer_state === "suspended" ? h("span", { class: "badge badge-muted" }, t("m.suspended")) : null),
      h("td", {}, t(`m.reason.${r.reason}`), r.note ? h("p", { class: "small" }, r.note) : null),
      h("td", { class: "nowrap" },
        h("button", { type: "button", class: "btn btn-danger", onclick: () => resolveReport(r, true) }, t("m.report.upheld")),
        " ",
        h("button", { type: "button", class: "btn", onclick: () => resolveReport(r, false) }, t("m.report.rejected")),
        " ",
        r.employer_state === "suspended" ? null
          : h("button", { type: "button", class: "btn btn-danger", "aria-label": t("m.suspend.label", { name: r.employer || "" }), onclick: () => suspendEmployer(r.employer_id, r.employer) }, icon("⛔"), t("m.suspend")))))),
  ) : h("p", { class: "muted" }, t("m.reports.none")));
}

async function resolveDispute(d, outcome) {
  const r = await confirmDialog({ title: t(outcome === "paid" ? "m.dispute.paid.title" : "m.dispute.unpaid.title"), text: d.title, note: true, danger: outcome !== "paid" });
  if (!r.ok) return;
  try {
    await api("POST", `/disputes/${d.id}/resolve`, { token: state.session.token, body: { note: r.note, outcome } });
    showNotice(t("m.resolved"));
    await refreshQueues();
  } catch (err) {
    showError(err);
  }
}

async function resolveReport(rep, upheld) {
  const r = await confirmDialog({ title: t(upheld ? "m.report.upheld.title" : "m.report.rejected.title"), text: rep.title, note: true, danger: upheld });
  if (!r.ok) return;
  try {
    await api("POST", `/reports/${rep.id}/resolve`, { token: state.session.token, body: { upheld, note: r.note } });
    showNotice(t("m.resolved"));
    await refreshQueues();
  } catch (err) {
    showError(err);
  }
}

async function suspendEmployer(id, name) {
  const r = await confirmDialog({ title: t("m.suspend.title", { name: name || "" }), text: t("m.suspend.text"), yes: t("m.suspend"), note: true });
  if (!r.ok) return;
  try {
    const body = r.note ? { note: r.note } : {};
    const out = await api("POST", `/employers/${id}/suspend`, { token: state.session.token, body });
    showNotice(t("m.suspend.done", { name: name || "", n: (out.jobs_withdrawn || []).length }));
    await Promise.all([refreshQueues(), refreshPool()]);
  } catch (err) {
    showError(err);
  }
}

async function verify(e) {
  try {
    await api("POST", `/employers/${e.id}/verify`, { token: state.session.token });
    showNotice(t("m.verified", { name: e.org_name || e.name }));
    await refreshQueues();
  } catch (err) {
    showError(err);
  }
}

async function review(job, action) {
  try {
    await api("POST", `/jobs/${job.id}/${action}`, { token: state.session.token });
    showNotice(t(action === "approve" ? "m.approved" : "m.rejected", { title: job.title }));
    await Promise.all([refreshQueues(), refreshPool(), refreshStats()]);
  } catch (err) {
    showError(err);
  }
}

function renderPool() {
  const p = state.pool;
  if (!p || !state.cat) return;
  const workers = p.workers || [];
  const openJobs = (p.jobs || []).filter((j) => j.state === "open");
  const waiting = workers.filter((w) => w.state === "available" || w.state === "offered");
  $("map-count").textContent = t("m.map.count", { w: waiting.length, j: openJobs.length });
  const box = $("kg");
  // Keep a half-made choice: do not redraw the table under someone's open select.
  if (box.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
  box.replaceChildren(workers.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["m.col.name", "m.col.skills", "m.col.state", "m.col.waited", "m.col.kg", "m.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, workers.map((w) => {
      const select = h("select", { "aria-label": t("m.kg.label", { name: w.name }) },
        h("option", { value: "" }, t("kg.none")),
        KEY_GROUPS.map((g) => h("option", { value: g, selected: w.key_group === g }, t(`kg.${g}`))));
      return h("tr", { "data-worker": w.id },
        h("td", {}, w.name, w.key_group ? h("span", { class: "badge badge-info", style: "margin-left:0.3rem" }, icon("⭐"), t(`kg.${w.key_group}`)) : null),
        h("td", {}, skillNames(w.skills, state.cat.skillByCode)),
        h("td", {}, t(`state.${w.state}`)),
        h("td", { class: "nowrap" }, fmtDuration(w.waited_s)),
        h("td", {}, select),
        h("td", {}, h("button", { type: "button", class: "btn", onclick: () => setKeyGroup(w, select.value || null) }, t("m.kg.save"))));
    }))) : h("p", { class: "muted" }, t("m.kg.none")));
}

async function setKeyGroup(w, group) {
  try {
    await api("PUT", `/workers/${w.id}/key_group`, { token: state.session.token, body: { key_group: group } });
    showNotice(t("m.kg.saved", { name: w.name }));
    document.activeElement.blur();
    await refreshPool();
  } catch (err) {
    showError(err);
  }
}

function renderEvents() {
  const list = $("events");
  if (!state.events.length) {
    list.replaceChildren(h("li", { class: "muted" }, t("m.events.none")));
    return;
  }
  // Older events of a job name it by id only; the pool knows the titles of live jobs.
  const titles = new Map(((state.pool && state.pool.jobs) || []).map((j) => [j.id, j.title]));
  list.replaceChildren(...state.events.map((e) => {
    const at = e.at ? new Date(e.at) : null;
    return h("li", { "data-event": e.type },
      h("time", { datetime: e.at || "" }, at ? fmtClock(at) : ""),
      h("span", {}, eventText(e.type)),
      h("span", { class: "muted" }, eventDetail(e.type, e.payload || {}, titles)));
  }));
}

/** The payload of a feed event (SPEC 7, {id, at, type, payload}) in a few words. */
function eventDetail(type, p, titles) {
  const parts = [];
  if (type === "round") {
    parts.push(t("ev.round.detail", { n: fmtNumber(p.offers ?? 0), w: fmtNumber(p.workers ?? 0), j: fmtNumber(p.jobs ?? 0) }));
  }
  if (p.job_id || p.title) parts.push(p.title || titles.get(p.job_id) || "");
  if (type === "job.posted") {
    if (p.headcount != null) parts.push(t("ev.headcount", { n: fmtNumber(p.headcount) }));
    if (p.state === "pending_review") parts.push(t("ev.pending_review"));
  }
  if (p.skills && state.cat) parts.push(skillNames(p.skills, state.cat.skillByCode));
  if (p.station_id && state.market) {
    const station = (state.market.stations || []).find((x) => x.id === p.station_id);
    parts.push(station ? station.name : p.station_id);
  }
  if (p.travel_minutes != null) {
    parts.push(p.travel_minutes < 1 ? t("ev.nearby") : t("ev.travel", { min: fmtMinutes(p.travel_minutes) }));
  }
  if (p.reason) parts.push(t("ev.reason", { reason: String(p.reason).slice(0, 60) }));
  return parts.filter(Boolean).join(" · ");
}

function eventText(type) {
  const key = `ev.${type}`;
  const text = t(key);
  return text === key ? String(type).replace(/[_.]/g, " ") : text;
}

addStrings({
  zh: {
    "ev.job.posted": "发布招工", "ev.job.approved": "招工通过审核", "ev.job.rejected": "招工被驳回",
    "ev.job.cancelled": "招工取消", "ev.job.filled": "招工已满", "ev.job.expired": "招工过期",
    "ev.worker.checked_in": "工人签到", "ev.worker.checked_out": "工人签退",
    "ev.offer.accepted": "接受邀请", "ev.offer.declined": "拒绝邀请", "ev.offer.expired": "邀请超时",
    "ev.offer.withdrawn": "邀请撤回", "ev.employer.verified": "企业核实",
    "ev.worker.key_group_set": "标记重点群体", "ev.round": "派单",
    "ev.round.detail": "发出 {n} 个邀请（{w} 人等待，{j} 个招工）",
    "ev.travel": "路上 {min}",
    "ev.nearby": "就在附近",
    "ev.headcount": "招 {n} 人",
    "ev.pending_review": "待审核",
    "ev.reason": "原因：{reason}",
  },
  en: {
    "ev.job.posted": "Job posted", "ev.job.approved": "Job approved", "ev.job.rejected": "Job rejected",
    "ev.job.cancelled": "Job cancelled", "ev.job.filled": "Job filled", "ev.job.expired": "Job expired",
    "ev.worker.checked_in": "Worker checked in", "ev.worker.checked_out": "Worker checked out",
    "ev.offer.accepted": "Offer accepted", "ev.offer.declined": "Offer declined", "ev.offer.expired": "Offer expired",
    "ev.offer.withdrawn": "Offer withdrawn", "ev.employer.verified": "Employer verified",
    "ev.worker.key_group_set": "Key group set", "ev.round": "Round",
    "ev.round.detail": "{n} offers sent ({w} waiting, {j} jobs)",
    "ev.travel": "{min} away",
    "ev.nearby": "close by",
    "ev.headcount": "{n} wanted",
    "ev.pending_review": "to review",
    "ev.reason": "reason: {reason}",
  },
});

boot();
