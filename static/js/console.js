// The console's tools (issue 12): the daily report with charts and its CSV, the ledger
// export, the market rules editor, the what-if simulation and the audit log. manage.js
// opens it for the selected market; everything here talks to the API with the manager's token.

import {
  t, addStrings, applyI18n, onLangChange, fmtNumber, fmtPercent, fmtWhen, fmtDuration, dayParts,
} from "./i18n.js";
import { api, API, ApiError, showError, showNotice, clearFieldErrors, h } from "./client.js";
import { barChart, pairBars } from "./chart.js";

addStrings({
  zh: {
    "c.report": "每日报表",
    "c.from": "从",
    "c.to": "到",
    "c.report.show": "查看报表",
    "c.report.csv": "下载 CSV",
    "c.report.label": "{from} 至 {to} 每日报表",
    "c.chart.fills": "每小时成交（人）",
    "c.chart.ttf": "匹配用时中位数（分钟）",
    "c.chart.kg": "重点群体就业（人）",
    "c.chart.wages": "确认到账工资（元）",
    "c.chart.fills.label": "所选日期内每小时成交人数，共 {n} 人",
    "c.chart.ttf.label": "每天匹配用时中位数（分钟）",
    "c.chart.kg.label": "每天重点群体就业人数，共 {n} 人",
    "c.chart.wages.label": "每天确认到账工资，共 {n} 元",
    "c.col.date": "日期",
    "c.col.workers_registered": "新登记",
    "c.col.workers_checked_in": "签到",
    "c.col.jobs_posted": "发布岗位",
    "c.col.slots_posted": "招聘人数",
    "c.col.slots_filled": "成交",
    "c.col.median_time_to_fill_s": "匹配用时中位数",
    "c.col.key_group_placed": "重点群体",
    "c.col.wages_confirmed_fen": "到账工资（元）",
    "c.col.disputes_opened": "新纠纷",
    "c.col.disputes_resolved": "已处理纠纷",
    "c.col.reports_opened": "新举报",
    "c.ledger": "导出台账",
    "c.ledger.help": "每一条记录（签到、发布、派单、接单、完工、付款……），按日期范围导出为 CSV。",
    "c.ledger.export": "导出台账 CSV",
    "c.ledger.progress": "正在导出……已收到 {kb} KB",
    "c.ledger.done": "已导出 {rows} 条记录（{kb} KB）。",
    "c.rules": "市场规则",
    "c.rules.help": "保存后马上生效，不用重启；留空的距离上限表示不限。",
    "c.rules.save": "保存规则",
    "c.rules.saved": "规则已保存，马上生效。",
    "c.rules.unchanged": "没有改动。",
    "c.rules.history": "修改记录",
    "c.rules.changed": "最近由 {who} 在 {when} 修改（第 {v} 版）",
    "c.rules.default": "默认 {v}",
    "c.rules.none": "还没有改过，都是配置文件里的默认值。",
    "c.rules.entry": "{when} {who}：{what}",
    "c.rule.batch_interval_s": "撮合间隔（秒）",
    "c.rule.offer_timeout_s": "派单等待时间（秒）",
    "c.rule.max_travel_minutes": "最远路程（分钟）",
    "c.rule.max_distance_km": "最远直线距离（公里）",
    "c.rule.min_hourly_wage_fen": "最低小时工资（元）",
    "c.rule.min_daily_wage_fen": "最低日工资（元）",
    "c.rule.claim_after_s": "多久未招满开放抢单（秒）",
    "c.rule.late_take_s": "超时后仍可接单（秒，有空位时）",
    "c.whatif": "规则推演（如果改了会怎样）",
    "c.whatif.help": "用模拟的一天比较现行规则和拟改规则；在后台运行，不影响派单。",
    "c.whatif.run": "开始推演",
    "c.whatif.progress": "推演进度",
    "c.whatif.running": "推演中 {p}",
    "c.whatif.done": "推演完成",
    "c.whatif.failed": "推演失败：{e}",
    "c.whatif.nochange": "请至少改一项规则再推演。",
    "c.whatif.current": "现行规则",
    "c.whatif.proposed": "拟改规则",
    "c.whatif.fill": "招满率",
    "c.whatif.ttf": "匹配用时中位数（分钟）",
    "c.whatif.travel": "平均路程（分钟）",
    "c.whatif.kg": "重点群体就业率",
    "c.whatif.chart": "{what}：现行 {a}，拟改 {b}",
    "c.audit": "操作日志",
    "c.audit.more": "更早的记录",
    "c.audit.load": "查看操作日志",
    "c.audit.none": "还没有记录。",
    "c.audit.unavailable": "操作日志暂未开通。",
    "c.audit.col.at": "时间",
    "c.audit.col.manager": "工作人员",
    "c.audit.col.action": "操作",
    "c.audit.col.target": "对象",
    "c.audit.col.address": "来源地址",
  },
  en: {
    "c.report": "Daily report",
    "c.from": "From",
    "c.to": "To",
    "c.report.show": "Show report",
    "c.report.csv": "Download CSV",
    "c.report.label": "Daily report {from} to {to}",
    "c.chart.fills": "Fills per hour (people)",
    "c.chart.ttf": "Median time to fill (minutes)",
    "c.chart.kg": "Key-group placements (people)",
    "c.chart.wages": "Wages confirmed (yuan)",
    "c.chart.fills.label": "Fills per hour of day over the dates chosen, {n} in all",
    "c.chart.ttf.label": "Median time to fill per day (minutes)",
    "c.chart.kg.label": "Key-group placements per day, {n} in all",
    "c.chart.wages.label": "Wages confirmed per day, {n} yuan in all",
    "c.col.date": "Date",
    "c.col.workers_registered": "New workers",
    "c.col.workers_checked_in": "Checked in",
    "c.col.jobs_posted": "Jobs posted",
    "c.col.slots_posted": "Slots posted",
    "c.col.slots_filled": "Filled",
    "c.col.median_time_to_fill_s": "Median time to fill",
    "c.col.key_group_placed": "Key groups",
    "c.col.wages_confirmed_fen": "Wages confirmed (yuan)",
    "c.col.disputes_opened": "Disputes opened",
    "c.col.disputes_resolved": "Disputes resolved",
    "c.col.reports_opened": "Reports",
    "c.ledger": "Export the ledger",
    "c.ledger.help": "Every record (check-ins, posts, offers, accepts, completions, pay…) for a range of dates, as CSV.",
    "c.ledger.export": "Export ledger CSV",
    "c.ledger.progress": "Exporting… {kb} KB received",
    "c.ledger.done": "Exported {rows} records ({kb} KB).",
    "c.rules": "Market rules",
    "c.rules.help": "Saved rules apply at once, no restart; an empty distance limit means none.",
    "c.rules.save": "Save rules",
    "c.rules.saved": "Rules saved; they apply now.",
    "c.rules.unchanged": "Nothing changed.",
    "c.rules.history": "Changes",
    "c.rules.changed": "Last changed by {who} {when} (version {v})",
    "c.rules.default": "default {v}",
    "c.rules.none": "Never changed: the configuration's defaults apply.",
    "c.rules.entry": "{when} {who}: {what}",
    "c.rule.batch_interval_s": "Matching interval (s)",
    "c.rule.offer_timeout_s": "Offer timeout (s)",
    "c.rule.max_travel_minutes": "Furthest travel (minutes)",
    "c.rule.max_distance_km": "Furthest distance (km)",
    "c.rule.min_hourly_wage_fen": "Hourly wage floor (yuan)",
    "c.rule.min_daily_wage_fen": "Daily wage floor (yuan)",
    "c.rule.claim_after_s": "Open to claims after (s)",
    "c.rule.late_take_s": "Still takeable after the timeout (s, while a place is free)",
    "c.whatif": "What if the rules changed?",
    "c.whatif.help": "Compares the current rules with a proposed change on a simulated day; runs in the background, dispatch goes on.",
    "c.whatif.run": "Run the what-if",
    "c.whatif.progress": "Progress",
    "c.whatif.running": "Running {p}",
    "c.whatif.done": "Done",
    "c.whatif.failed": "The what-if failed: {e}",
    "c.whatif.nochange": "Change at least one rule first.",
    "c.whatif.current": "Current rules",
    "c.whatif.proposed": "Proposed",
    "c.whatif.fill": "Fill rate",
    "c.whatif.ttf": "Median time to fill (minutes)",
    "c.whatif.travel": "Mean travel (minutes)",
    "c.whatif.kg": "Key-group placement rate",
    "c.whatif.chart": "{what}: current {a}, proposed {b}",
    "c.audit": "Audit log",
    "c.audit.more": "Older entries",
    "c.audit.load": "Show the audit log",
    "c.audit.none": "Nothing logged yet.",
    "c.audit.unavailable": "The audit log is not available yet.",
    "c.audit.col.at": "When",
    "c.audit.col.manager": "Manager",
    "c.audit.col.action": "Action",
    "c.audit.col.target": "Target",
    "c.audit.col.address": "Address",
  },
});

const COLUMNS = [
  "date", "workers_registered", "workers_checked_in", "jobs_posted", "slots_posted", "slots_filled",
  "median_time_to_fill_s", "key_group_placed", "wages_confirmed_fen", "disputes_opened",
  "disputes_resolved", "reports_opened",
];
const RULES = [
  "batch_interval_s", "offer_timeout_s", "max_travel_minutes", "max_distance_km",
  "min_hourly_wage_fen", "min_daily_wage_fen", "claim_after_s", "late_take_s",
];
const FEN = new Set(["min_hourly_wage_fen", "min_daily_wage_fen"]);
const WHATIF_POLL_MS = 400;

const $ = (id) => document.getElementById(id);
const st = { token: null, market: null, onAuthFailed: null, report: null, rules: null, whatif: null, audit: [], auditNext: null, wired: false };

/** Open the tools for ``market`` (called again when the manager switches market). */
export function openConsole({ token, market, onAuthFailed }) {
  Object.assign(st, { token, market, onAuthFailed, report: null, rules: null, whatif: null, audit: [], auditNext: null });
  if (!st.wired) wire();
  $("v-console").hidden = false;
  const today = todayIn();
  for (const id of ["report-to", "ledger-from", "ledger-to"]) $(id).value = today;
  $("report-from").value = shiftDate(today, -6);
  $("whatif-result").hidden = true;
  $("whatif-progress").value = 0;
  $("whatif-percent").textContent = "";
  $("audit-status").textContent = "";
  renderAudit();
  // The log loads when asked for: it is long, and most visits do not need it.
  return Promise.all([showReport(), loadRules()]);
}

export function closeConsole() {
  $("v-console").hidden = true;
  st.token = null;
}

function wire() {
  st.wired = true;
  applyI18n($("v-console"));
  $("report-form").addEventListener("submit", (ev) => { ev.preventDefault(); showReport(); });
  $("report-csv").addEventListener("click", downloadReport);
  $("ledger-form").addEventListener("submit", (ev) => { ev.preventDefault(); exportLedger(); });
  $("audit-load").addEventListener("click", () => loadAudit());
  $("audit-more").addEventListener("click", () => loadAudit(true));
  onLangChange(() => { renderReport(); renderRules(); renderWhatif(); renderAudit(); });
}

function todayIn() {
  const p = dayParts(new Date());
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

function shiftDate(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function call(method, path, body) {
  try {
    return await api(method, path, { token: st.token, body });
  } catch (err) {
    if (err.status === 401 && st.onAuthFailed) st.onAuthFailed();
    throw err;
  }
}

/** Fetch with the token and hand the body to the browser as a file, read chunk by chunk. */
async function download(path, fallbackName, onChunk) {
  const resp = await fetch(API + path, { headers: { Authorization: `Bearer ${st.token}` } });
  if (!resp.ok) {
    let e = {};
    try { e = (await resp.json()).error || {}; } catch { /* not JSON */ }
    throw new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || resp.statusText, e.field || null);
  }
  const parts = [];
  let bytes = 0;
  const reader = resp.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    bytes += value.length;
    if (onChunk) onChunk(bytes);
  }
  const blob = new Blob(parts, { type: "text/csv;charset=utf-8" });
  const match = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
  const a = h("a", { href: URL.createObjectURL(blob), download: match ? match[1] : fallbackName, class: "sr-only" });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  return { blob, bytes };
}

// ---- the daily report -------------------------------------------------------------------

function reportQuery() {
  return `from=${encodeURIComponent($("report-from").value)}&to=${encodeURIComponent($("report-to").value)}`;
}

async function showReport() {
  const form = $("report-form");
  clearFieldErrors(form);
  try {
    st.report = await call("GET", `/markets/${st.market.id}/reports/daily?${reportQuery()}`);
    renderReport();
  } catch (err) {
    showError(err, form);
  }
}

async function downloadReport() {
  const form = $("report-form");
  clearFieldErrors(form);
  try {
    await download(`/markets/${st.market.id}/reports/daily?${reportQuery()}&format=csv`, "daily.csv");
  } catch (err) {
    showError(err, form);
  }
}

function cell(key, v) {
  if (key === "date") return v;
  if (v === null || v === undefined) return "—";
  if (key === "median_time_to_fill_s") return fmtDuration(v);
  if (key === "wages_confirmed_fen") return fmtNumber(v / 100, 2);
  return fmtNumber(v);
}

function reportRow(row) {
  const cells = COLUMNS.map((c) => (c === "date"
    ? h("th", { scope: "row" }, row.date)
    : h("td", { dataset: { col: c } }, cell(c, row[c]))));
  return h("tr", { dataset: { date: row.date } }, cells);
}

function renderReport() {
  const r = st.report;
  if (!r) return;
  const table = $("report-table");
  table.replaceChildren(
    h("caption", { class: "sr-only" }, t("c.report.label", { from: r.rows[0].date, to: r.rows[r.rows.length - 1].date })),
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, t(`c.col.${c}`))))),
    h("tbody", {}, r.rows.map(reportRow)),
  );
  const hours = Array.from({ length: 24 }, (_, i) => r.rows.reduce((n, row) => n + (row.fills_by_hour ? row.fills_by_hour[i] : 0), 0));
  const sum = (k) => r.rows.reduce((n, row) => n + (row[k] || 0), 0);
  const day = (d) => d.slice(5);
  barChart($("chart-report-hours"), {
    bars: hours.map((v, i) => ({ label: String(i), value: v })),
    label: t("c.chart.fills.label", { n: fmtNumber(sum("slots_filled")) }),
  });
  barChart($("chart-report-ttf"), {
    bars: r.rows.map((row) => ({ label: day(row.date), value: row.median_time_to_fill_s == null ? 0 : Math.round(row.median_time_to_fill_s / 6) / 10 })),
    label: t("c.chart.ttf.label"),
  });
  barChart($("chart-report-kg"), {
    bars: r.rows.map((row) => ({ label: day(row.date), value: row.key_group_placed })),
    label: t("c.chart.kg.label", { n: fmtNumber(sum("key_group_placed")) }),
  });
  barChart($("chart-report-wages"), {
    bars: r.rows.map((row) => ({ label: day(row.date), value: row.wages_confirmed_fen / 100 })),
    label: t("c.chart.wages.label", { n: fmtNumber(sum("wages_confirmed_fen") / 100, 2) }),
  });
}

// ---- the ledger export ------------------------------------------------------------------

async function exportLedger() {
  const form = $("ledger-form");
  clearFieldErrors(form);
  const status = $("ledger-status");
  const from = encodeURIComponent($("ledger-from").value);
  const to = encodeURIComponent($("ledger-to").value);
  try {
    const { blob, bytes } = await download(`/markets/${st.market.id}/ledger.csv?from=${from}&to=${to}`, "ledger.csv",
      (n) => { status.textContent = t("c.ledger.progress", { kb: fmtNumber(n / 1024, 1) }); });
    const lines = (await blob.text()).split("\n").filter((l) => l.trim()).length;
    status.textContent = t("c.ledger.done", { rows: fmtNumber(Math.max(0, lines - 1)), kb: fmtNumber(bytes / 1024, 1) });
  } catch (err) {
    status.textContent = "";
    showError(err, form);
  }
}

// ---- the rules editor and the what-if ----------------------------------------------------

function shown(name, v) {
  if (v === null || v === undefined) return "";
  return FEN.has(name) ? String(v / 100) : String(v);
}

function parsed(name, text) {
  const s = text.trim();
  if (s === "") return null;
  const n = Number(s);
  if (!Number.isFinite(n)) return s; // the server names the field and says why
  return FEN.has(name) ? Math.round(n * 100) : n;
}

function ruleFields(prefix, values) {
  return RULES.map((name) => h("div", { class: "field" },
    h("label", { for: `${prefix}-${name}` }, t(`c.rule.${name}`)),
    h("input", { id: `${prefix}-${name}`, name, inputmode: "decimal", value: shown(name, values[name]) }),
    h("p", { class: "hint" }, t("c.rules.default", { v: shown(name, st.rules.defaults[name]) || "—" }))));
}

/** The rules a form changes against the rules in force. */
function changesIn(form) {
  const out = {};
  for (const name of RULES) {
    const v = parsed(name, form.elements[name].value);
    if (v !== st.rules.rules[name]) out[name] = v;
  }
  return out;
}

async function loadRules() {
  try {
    st.rules = await call("GET", `/markets/${st.market.id}/rules`);
    renderRules();
    renderWhatif();
  } catch (err) {
    showError(err);
  }
}

function renderRules() {
  const r = st.rules;
  if (!r) return;
  const form = $("rules-form");
  form.replaceChildren(...ruleFields("rule", r.rules),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary", id: "rules-save" }, t("c.rules.save"))));
  form.onsubmit = saveRules;
  $("rules-changed").textContent = r.changed
    ? t("c.rules.changed", { who: r.changed.manager.username || r.changed.manager.id, when: fmtWhen(r.changed.at), v: r.changed.version })
    : t("c.rules.none");
  $("rules-history").replaceChildren(...r.history.map((e) => h("li", {}, t("c.rules.entry", {
    when: fmtWhen(e.at),
    who: e.manager.username || e.manager.id,
    what: Object.entries(e.changed).map(([k, v]) => `${t(`c.rule.${k}`)} ${shown(k, e.before[k]) || "—"} → ${shown(k, v) || "—"}`).join("；"),
  }))));
}

async function saveRules(ev) {
  ev.preventDefault();
  const form = $("rules-form");
  clearFieldErrors(form);
  const change = changesIn(form);
  if (!Object.keys(change).length) { showNotice(t("c.rules.unchanged")); return; }
  try {
    st.rules = await call("PUT", `/markets/${st.market.id}/rules`, change);
    renderRules();
    showNotice(t("c.rules.saved"));
  } catch (err) {
    showError(err, form);
  }
}

function renderWhatif() {
  if (!st.rules) return;
  const form = $("whatif-form");
  const keep = st.whatif && st.whatif.change ? { ...st.rules.rules, ...st.whatif.change } : st.rules.rules;
  form.replaceChildren(...ruleFields("whatif", keep),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary", id: "whatif-run" }, t("c.whatif.run"))));
  form.onsubmit = runWhatif;
  if (st.whatif && st.whatif.state === "done") renderComparison(st.whatif.result);
}

async function runWhatif(ev) {
  ev.preventDefault();
  const form = $("whatif-form");
  clearFieldErrors(form);
  const change = changesIn(form);
  if (!Object.keys(change).length) { showNotice(t("c.whatif.nochange")); return; }
  $("whatif-result").hidden = true;
  $("whatif-progress").value = 0;
  try {
    st.whatif = await call("POST", `/markets/${st.market.id}/whatif`, { rules: change });
  } catch (err) {
    showError(err, form);
    return;
  }
  $("whatif-run").disabled = true;
  const market = st.market.id;
  const id = st.whatif.id;
  while (st.whatif && st.whatif.id === id && st.whatif.state === "running" && st.market.id === market) {
    setProgress(st.whatif.progress);
    await new Promise((done) => { setTimeout(done, WHATIF_POLL_MS); });
    try {
      st.whatif = await call("GET", `/markets/${market}/whatif/${id}`);
    } catch (err) {
      showError(err);
      break;
    }
  }
  const btn = $("whatif-run");
  if (btn) btn.disabled = false;
  if (!st.whatif || st.whatif.id !== id) return;
  if (st.whatif.state === "done") {
    setProgress(1);
    $("whatif-percent").textContent = `${t("c.whatif.done")} 100%`;
    renderComparison(st.whatif.result);
  } else if (st.whatif.state === "failed") {
    showError(new Error(t("c.whatif.failed", { e: st.whatif.error })));
  }
}

function setProgress(share) {
  $("whatif-progress").value = Math.round(share * 100);
  $("whatif-percent").textContent = t("c.whatif.running", { p: fmtPercent(share) });
}

function renderComparison(result) {
  const { current: a, proposed: b } = result;
  const legend = [t("c.whatif.current"), t("c.whatif.proposed")];
  const charts = [
    ["chart-whatif-fill", "c.whatif.fill", a.fill_rate, b.fill_rate, fmtPercent],
    ["chart-whatif-ttf", "c.whatif.ttf", a.median_time_to_fill_min, b.median_time_to_fill_min, (v) => fmtNumber(v, 1)],
    ["chart-whatif-travel", "c.whatif.travel", a.mean_travel_min, b.mean_travel_min, (v) => fmtNumber(v, 1)],
    ["chart-whatif-kg", "c.whatif.kg", a.key_group_rate, b.key_group_rate, fmtPercent],
  ];
  for (const [id, key, va, vb, format] of charts) {
    pairBars($(id), {
      rows: [{ label: "", a: va, b: vb }], legend, format,
      label: t("c.whatif.chart", { what: t(key), a: va == null ? "—" : format(va), b: vb == null ? "—" : format(vb) }),
    });
  }
  $("whatif-result").hidden = false;
}

// ---- the audit log ----------------------------------------------------------------------

async function loadAudit(more = false) {
  const status = $("audit-status");
  const before = more && st.auditNext ? `&before=${encodeURIComponent(st.auditNext)}` : "";
  try {
    const page = await call("GET", `/markets/${st.market.id}/audit?limit=50${before}`);
    st.audit = more ? st.audit.concat(page.items) : page.items;
    st.auditNext = page.next;
    status.textContent = st.audit.length ? "" : t("c.audit.none");
  } catch (err) {
    if (err.status === 404 && err.field !== "before") {
      // The audit route comes with the security work; until it is there, say so plainly.
      st.audit = [];
      st.auditNext = null;
      status.textContent = t("c.audit.unavailable");
    } else {
      showError(err);
    }
  }
  renderAudit();
}

function renderAudit() {
  const table = $("audit-table");
  $("audit-more").hidden = !st.auditNext;
  if (!st.audit.length) { table.replaceChildren(); return; }
  const cols = ["at", "manager", "action", "target", "address"];
  table.replaceChildren(
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(`c.audit.col.${c}`))))),
    h("tbody", {}, st.audit.map((e) => h("tr", { dataset: { id: e.id } },
      h("td", {}, fmtWhen(e.at)),
      h("td", {}, (e.manager && (e.manager.username || e.manager.id)) || "—"),
      h("td", {}, e.action),
      h("td", {}, e.target ? `${e.target.kind} ${e.target.id}` : "—"),
      h("td", {}, e.address || "—")))),
  );
}
