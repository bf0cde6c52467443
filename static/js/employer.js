// The employer's phone page: OTP sign-in, business registration with the credit code checked
// as typed, a job posted in under a minute, and each job filling live.

import {
  t, addStrings, fmtMoney, fmtWhen, fmtHours, fmtNumber, lang,
  fmtMinutes, fmtRating, fmtKm, isoInZone, wallTime, dayParts, skillLabel,
} from "./i18n.js";
import {
  api, ApiError, showError, showNotice, clearFieldErrors,
  setFieldError, h, icon, newIdempotencyKey, serverNow, insertQr,
} from "./client.js";
import { PhoneApp } from "./phone_app.js";
import { canScan, readQr } from "./scan.js";
import { skillPicker, skillNames } from "./skillpicker.js";
import { checkCreditCode } from "./codes.js";
import { MarketMap } from "./map.js";
import { ratingForm, blockOther, blockedBadge, lifecycleError, WORKER_TAGS } from "./after.js";
import { workerContact } from "./contact.js";

addStrings({
  zh: {
    "e.title": "零工市场 · 用工方",
    "e.heading": "零工市场 · 招工",
    "e.tab.post": "发布",
    "e.tab.jobs": "我的招工",
    "e.tab.business": "企业",
    "e.signout": "退出登录",
    "e.biz": "企业登记",
    "e.biz.lead": "登记后由市场工作人员核实，核实后发布的招工直接上线。",
    "e.biz.name": "联系人姓名",
    "e.biz.org": "单位名称（与营业执照一致）",
    "e.biz.code": "统一社会信用代码（18 位）",
    "e.biz.save": "保存登记",
    "e.biz.saved": "已保存。现在可以发布招工了。",
    "e.biz.verified": "已核实",
    "e.biz.unverified": "待市场核实：发布的招工要先审核",
    "e.code.typing": "已输入 {n}/18 位",
    "e.code.ok": "✓ 代码校验通过",
    "e.code.check": "✕ 校验位不对，请核对营业执照",
    "e.code.chars": "✕ 含有不允许的字符（不用 I、O、Z、S、V）",
    "e.code.long": "✕ 多于 18 位",
    "e.code.required": "请先完成企业登记",
    "e.post": "发布招工",
    "e.post.skill": "要什么活？",
    "e.post.title": "标题",
    "e.post.headcount": "要几个人",
    "e.post.fewer": "少一个人",
    "e.post.more": "多一个人",
    "e.post.wage": "工钱",
    "e.post.wage.amount": "金额（元）",
    "e.post.wage.unit": "按什么算",
    "e.per.day": "元/天",
    "e.per.hour": "元/小时",
    "e.per.piece": "元/件",
    "e.post.floor": "当地最低：{day}，{hour}",
    "e.post.reach": "发布即同意：{after} 分钟内服务圈内招不满时，逐步向更远处找人（最远路程 {max} 分钟），服务圈外每公里另付路费补贴 {per} 元。",
    "e.post.start": "什么时候开工",
    "e.post.start.now": "马上",
    "e.post.start.1h": "1 小时后",
    "e.post.start.tomorrow7": "明天 7:00",
    "e.post.start.tomorrow8": "明天 8:00",
    "e.post.start.custom": "开工时间",
    "e.post.start.pick": "自己选",
    "e.post.start.text": "开工：{when}",
    "e.post.duration": "干几个小时",
    "e.post.less": "少半小时",
    "e.post.longer": "多半小时",
    "e.post.place": "在哪里",
    "e.post.place.help": "点地图上的位置、点一个服务站或用手机定位，再写上详细地址。",
    "e.post.place.near": "已选地点：离「{station}」{km}",
    "e.post.place.far": "⚠ 这里离服务站较远（超过 {km}），能派到的工人可能很少。",
    "e.post.place.missing": "请在地图上点一下工作地点",
    "e.post.place.station": "{name}附近",
    "e.post.place.or": "或点服务站：",
    "e.post.here": "用我现在的位置",
    "e.post.here.none": "拿不到手机的位置，请在地图上点选。",
    "e.post.here.outside": "您现在不在{market}范围内，请在地图上点选工作地点。",
    "e.post.address": "详细地址",
    "e.post.address.missing": "请写上详细地址，工人要按地址找过去",
    "e.post.desc": "说明（可不填）",
    "e.post.submit": "发布",
    "e.post.skill.missing": "请选一种活",
    "e.post.title.missing": "请写一个标题",
    "e.posted.open": "已发布，正在给工人派单。",
    "e.posted.review": "已提交，等市场审核后上线（企业核实后就不用再等）。",
    "e.jobs": "我的招工",
    "e.jobs.none": "还没有招工。点下面的「发布」开始。",
    "e.job.progress": "已招 {n}/{k} 人",
    "e.job.progress.label": "已招到 {n} 人，共要 {k} 人",
    "e.job.offers": "正在邀请 {n} 人",
    "e.job.review": "等待市场审核，审核通过后开始派单。",
    "e.job.workers": "接活的工人",
    "e.job.worker": "{name} · {rating} · 路上 {min}",
    "e.job.noworkers": "还没有人接。",
    "e.job.cancel": "取消招工",
    "e.job.cancelled": "已取消。",
    "e.cancel.title": "确定取消这个招工？",
    "e.cancel.text": "「{title}」：已接活的 {n} 位工人会收到取消通知。",
    "e.cancel.no": "不取消",
    "e.cancel.yes": "取消招工",
    "e.w.code": "{name} 单子上的签到码",
    "e.w.code.help": "输入派工单上的 6 位数字，或点“扫码”扫单子上的二维码。",
    "e.w.code.left": "签到码不对，还能再试 {n} 次。",
    "e.w.scan.looking": "请把工人单子上的二维码对准摄像头…",
    "e.w.checkin": "签到",
    "e.w.scan": "扫码",
    "e.w.scan.none": "没扫到二维码，请手动输入。",
    "e.w.checked": "{name} 已到岗。",
    "e.w.noshow": "记为未到岗",
    "e.w.noshow.title": "确定记 {name} 未到岗？",
    "e.w.noshow.text": "会降低这位工人的可靠度。",
    "e.w.noshowed": "已记为未到岗。",
    "e.w.hours": "实际干了几小时",
    "e.w.pay": "实付工钱（元）",
    "e.w.pay.unit": "按什么算",
    "e.w.complete": "完工并记下工钱",
    "e.w.completed": "已完工，等工人确认收到工钱。",
    "e.w.rate": "给 {name} 打分",
    "e.w.rated": "已评价",
    "e.site": "显示工地签到码",
    "e.site.label": "工地签到二维码：工人用手机扫",
    "e.site.until": "有效到 {when}",
  },
  en: {
    "e.title": "Gig market · employer",
    "e.heading": "Gig market · hire",
    "e.tab.post": "Post",
    "e.tab.jobs": "My jobs",
    "e.tab.business": "Business",
    "e.signout": "Sign out",
    "e.biz": "Business registration",
    "e.biz.lead": "Market staff check your registration; once verified, your jobs go live at once.",
    "e.biz.name": "Contact name",
    "e.biz.org": "Organisation name (as on the business licence)",
    "e.biz.code": "Unified social credit code (18 characters)",
    "e.biz.save": "Save registration",
    "e.biz.saved": "Saved. You can post jobs now.",
    "e.biz.verified": "Verified",
    "e.biz.unverified": "Awaiting verification: your jobs are reviewed first",
    "e.code.typing": "{n}/18 characters",
    "e.code.ok": "✓ Check digit is correct",
    "e.code.check": "✕ The check digit is wrong; compare with the licence",
    "e.code.chars": "✕ Contains a character that is not allowed (no I, O, Z, S, V)",
    "e.code.long": "✕ More than 18 characters",
    "e.code.required": "Register your business first",
    "e.post": "Post a job",
    "e.post.skill": "What work?",
    "e.post.title": "Title",
    "e.post.headcount": "How many people",
    "e.post.fewer": "One fewer",
    "e.post.more": "One more",
    "e.post.wage": "Pay",
    "e.post.wage.amount": "Amount (yuan)",
    "e.post.wage.unit": "Per",
    "e.per.day": "yuan/day",
    "e.per.hour": "yuan/hour",
    "e.per.piece": "yuan/piece",
    "e.post.floor": "Local minimum: {day}, {hour}",
    "e.post.reach": "By posting you agree: if the job is not filled inside the service circle within {after} min, it reaches further step by step (up to {max} min away), paying a travel supplement of {per} yuan per km beyond the circle.",
    "e.post.start": "When does it start",
    "e.post.start.now": "Now",
    "e.post.start.1h": "In 1 hour",
    "e.post.start.tomorrow7": "Tomorrow 7:00",
    "e.post.start.tomorrow8": "Tomorrow 8:00",
    "e.post.start.custom": "Start time",
    "e.post.start.pick": "Choose…",
    "e.post.start.text": "Starts {when}",
    "e.post.duration": "How many hours",
    "e.post.less": "Half an hour less",
    "e.post.longer": "Half an hour more",
    "e.post.place": "Where",
    "e.post.place.help": "Tap the place on the map, a station, or use the phone's location; then type the full address.",
    "e.post.place.near": "Chosen: {km} from {station}",
    "e.post.place.far": "⚠ This is far from the stations (more than {km}); few workers may be offered it.",
    "e.post.place.missing": "Tap the work place on the map",
    "e.post.place.station": "Near {name}",
    "e.post.place.or": "Or a station:",
    "e.post.here": "Use where I am now",
    "e.post.here.none": "Could not get the phone's location; tap the map instead.",
    "e.post.here.outside": "You are outside {market}; tap the work place on the map.",
    "e.post.address": "Full address",
    "e.post.address.missing": "Type the full address so workers can find it",
    "e.post.desc": "Details (optional)",
    "e.post.submit": "Post",
    "e.post.skill.missing": "Choose the kind of work",
    "e.post.title.missing": "Give it a title",
    "e.posted.open": "Posted. Offering it to workers now.",
    "e.posted.review": "Submitted. It goes live after the market reviews it (no wait once you are verified).",
    "e.jobs": "My jobs",
    "e.jobs.none": "No jobs yet. Tap Post below to start.",
    "e.job.progress": "{n}/{k} hired",
    "e.job.progress.label": "{n} of {k} workers hired",
    "e.job.offers": "Offering to {n}",
    "e.job.review": "Awaiting market review; offers start once approved.",
    "e.job.workers": "Workers who accepted",
    "e.job.worker": "{name} · {rating} · {min} away",
    "e.job.noworkers": "Nobody yet.",
    "e.job.cancel": "Cancel job",
    "e.job.cancelled": "Cancelled.",
    "e.cancel.title": "Cancel this job?",
    "e.cancel.text": "“{title}”: the {n} workers who accepted will be told.",
    "e.cancel.no": "Keep it",
    "e.cancel.yes": "Cancel job",
    "e.w.code": "Check-in code on {name}'s slip",
    "e.w.code.help": "Type the 6 digits on the slip, or tap Scan to read its QR code.",
    "e.w.code.left": "Wrong check-in code: {n} more tries.",
    "e.w.scan.looking": "Hold the QR code on the worker's slip up to the camera…",
    "e.w.checkin": "Check in",
    "e.w.scan": "Scan",
    "e.w.scan.none": "No QR code seen; type the code instead.",
    "e.w.checked": "{name} is at the site.",
    "e.w.noshow": "Mark no-show",
    "e.w.noshow.title": "Mark {name} as a no-show?",
    "e.w.noshow.text": "It lowers this worker's reliability.",
    "e.w.noshowed": "Marked as a no-show.",
    "e.w.hours": "Hours worked",
    "e.w.pay": "Pay (yuan)",
    "e.w.pay.unit": "Per",
    "e.w.complete": "Complete and record pay",
    "e.w.completed": "Completed; waiting for the worker to confirm the pay.",
    "e.w.rate": "Rate {name}",
    "e.w.rated": "Rated",
    "e.site": "Show the site check-in code",
    "e.site.label": "Site check-in QR code for the worker's phone",
    "e.site.until": "Valid until {when}",
  },
});

const $ = (id) => document.getElementById(id);
const MAX_HEADCOUNT = 50;
const ACTIVE_STATES = ["pending_review", "open", "filled", "in_progress"];

const state = {
  session: null, me: null, live: null, cat: null, market: null, jobs: new Map(), view: "post",
  post: { skills: new Set(), start: "now", titleTouched: false, place: null, addressAuto: true, key: newIdempotencyKey() },
  map: null, rated: new Set(), blocked: new Set(), siteCodes: new Map(), drafts: new Map(),
};

const app = new PhoneApp({
  role: "employer",
  views: ["business", "post", "jobs"],
  state,
  load: loadAll,
  reload: loadJobs,
  onMessage: (msg) => onLive(msg),
  firstView: () => (!(state.me.org_name && state.me.credit_code) ? "business" : state.jobs.size ? "jobs" : "post"),
  render: () => render(),
});

function wirePage() {
  $("biz-form").addEventListener("submit", saveBusiness);
  $("b-code").addEventListener("input", renderCodeCheck);
  wirePostForm();
}

async function loadAll() {
  state.me = await api("GET", "/me", { token: state.session.token });
  await loadJobs();
}

async function loadJobs() {
  const jobs = await api("GET", "/me/jobs", { token: state.session.token });
  state.jobs = new Map(jobs.map((j) => [j.id, j]));
  renderJobs();
}

function render() {
  if (!state.me) return;
  if (state.view === "business") renderBusiness();
  if (state.view === "post") renderPost();
  renderJobs();
}

// ---- business registration -------------------------------------------------------------

function renderBusiness() {
  const me = state.me;
  const form = $("biz-form");
  if (!form.dataset.filled) {
    $("b-name").value = me.name || "";
    $("b-org").value = me.org_name || "";
    $("b-code").value = me.credit_code || "";
    form.dataset.filled = "1";
  }
  $("biz-status").replaceChildren(me.org_name
    ? (me.verified
      ? h("span", { class: "badge badge-ok" }, icon("✔"), t("e.biz.verified"))
      : h("span", { class: "badge badge-warn" }, icon("⏳"), t("e.biz.unverified")))
    : "");
  renderCodeCheck();
}

function renderCodeCheck() {
  const input = $("b-code");
  const cleaned = input.value.toUpperCase().replace(/\s+/g, "");
  if (cleaned !== input.value) input.value = cleaned;
  const out = $("b-code-check");
  input.removeAttribute("aria-invalid");
  if (!cleaned) { out.textContent = ""; return; }
  const s = checkCreditCode(cleaned);
  out.dataset.state = s === "ok" ? "ok" : s === "short" ? "typing" : "bad";
  out.textContent = s === "short" ? t("e.code.typing", { n: cleaned.length }) : t(`e.code.${s}`);
  if (s !== "ok" && s !== "short") input.setAttribute("aria-invalid", "true");
}

async function saveBusiness(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearFieldErrors(form);
  const code = $("b-code").value.trim().toUpperCase();
  const check = checkCreditCode(code);
  if (check !== "ok") {
    setFieldError($("b-code"), t(check === "short" ? "e.code.typing" : `e.code.${check}`, { n: code.length }));
    $("b-code").focus();
    return;
  }
  try {
    state.me = await api("PUT", "/me/profile", {
      token: state.session.token,
      body: { name: $("b-name").value.trim(), org_name: $("b-org").value.trim(), credit_code: code },
    });
    showNotice(t("e.biz.saved"));
    app.go("post");
  } catch (err) {
    showError(err, form);
  }
}

// ---- posting a job ---------------------------------------------------------------------

const START_PRESETS = ["now", "1h", "tomorrow7", "tomorrow8", "pick"];

/** The start instant of the chosen preset, computed when asked so "now" is always fresh. */
function startDate() {
  const now = new Date(serverNow());
  switch (state.post.start) {
    case "now": {
      // A minute ahead, on the minute: the server refuses starts in the past.
      const d = new Date(now.getTime() + 60000);
      d.setSeconds(0, 0);
      return new Date(d.getTime() + 60000);
    }
    case "1h": {
      const d = new Date(now.getTime() + 3600000);
      d.setSeconds(0, 0);
      return d;
    }
    case "tomorrow7":
    case "tomorrow8": {
      const p = dayParts(now);
      const hour = state.post.start === "tomorrow7" ? 7 : 8;
      const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
      return wallTime(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), hour, 0);
    }
    default: {
      const v = $("j-start").value;
      if (!v) return null;
      const [date, time] = v.split("T");
      const [y, mo, d] = date.split("-").map(Number);
      const [hh, mm] = time.split(":").map(Number);
      return wallTime(y, mo, d, hh, mm);
    }
  }
}

function wirePostForm() {
  const head = $("j-head");
  const dur = $("j-dur");
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  $("j-head-minus").addEventListener("click", () => { head.value = clamp((+head.value || 1) - 1, 1, MAX_HEADCOUNT); });
  $("j-head-plus").addEventListener("click", () => { head.value = clamp((+head.value || 0) + 1, 1, MAX_HEADCOUNT); });
  $("j-dur-minus").addEventListener("click", () => { dur.value = clamp((+dur.value || 1) - 0.5, 0.5, 24); });
  $("j-dur-plus").addEventListener("click", () => { dur.value = clamp((+dur.value || 0) + 0.5, 0.5, 24); });
  $("j-title").addEventListener("input", () => { state.post.titleTouched = $("j-title").value.trim() !== ""; });
  $("j-address").addEventListener("input", () => { state.post.addressAuto = $("j-address").value.trim() === ""; });
  $("j-start").addEventListener("input", renderStartText);
  $("j-unit").addEventListener("change", renderFloor);
  $("post-form").addEventListener("submit", submitJob);
  $("j-here").addEventListener("click", pickHere);
}

/** The employer is often standing at the site: take the phone's position as the place. */
function pickHere() {
  if (!navigator.geolocation) { showError(new Error(t("e.post.here.none"))); return; }
  navigator.geolocation.getCurrentPosition((pos) => {
    const { latitude: lat, longitude: lon } = pos.coords;
    const b = state.market.bounds;
    if (lat < b.south || lat > b.north || lon < b.west || lon > b.east) {
      showError(new Error(t("e.post.here.outside", { market: state.market.name })));
      return;
    }
    state.map.setPick(lat, lon);
  }, () => showError(new Error(t("e.post.here.none"))), { enableHighAccuracy: true, timeout: 15000 });
}

function renderPost() {
  if (!state.cat || !state.market) return;
  const skills = state.cat.skills.filter((s) => state.market.skills.includes(s.code));
  skillPicker($("j-skills"), skills, state.post.skills, {
    single: true,
    onChange: (sel) => {
      if (!state.post.titleTouched) {
        const s = state.cat.skillByCode.get([...sel][0]);
        $("j-title").value = s ? skillLabel(s) : "";
      }
    },
  });
  $("j-start-presets").replaceChildren(...START_PRESETS.map((p) => h("button", {
    type: "button", class: "choice", role: "radio", "aria-checked": state.post.start === p ? "true" : "false",
    "data-start": p,
    onclick: () => {
      state.post.start = p;
      renderPost();
      if (p === "pick") $("j-start").focus();
    },
  }, t(`e.post.start.${p}`))));
  $("j-start-custom").hidden = state.post.start !== "pick";
  renderStartText();
  renderFloor();
  if (!state.map) {
    state.map = new MarketMap($("j-map"), state.market, {
      pickable: true, pickCircle: false, onPick: placePicked, markerScale: 1.8,
    });
  }
  const picked = state.post.place;
  $("j-stations").replaceChildren(
    h("span", { class: "hint", style: "align-self:center" }, t("e.post.place.or")),
    ...state.market.stations.map((st) => h("button", {
      type: "button", class: "choice choice-small", "data-station": st.id,
      "aria-pressed": picked && picked.lat === st.lat && picked.lon === st.lon ? "true" : "false",
      onclick: () => state.map.setPick(st.lat, st.lon),
    }, st.name.replace(/[（(].*[)）]$/, ""))),
  );
  renderPlace();
}

function renderStartText() {
  const d = startDate();
  $("j-start-text").textContent = d ? t("e.post.start.text", { when: fmtWhen(d.toISOString()) }) : "";
}

function renderFloor() {
  const r = state.market.rules || {};
  const day = r.min_daily_wage_fen != null ? fmtMoney({ amount: r.min_daily_wage_fen / 100, unit: "day" }) : "—";
  const hour = r.min_hourly_wage_fen != null ? fmtMoney({ amount: r.min_hourly_wage_fen / 100, unit: "hour" }) : "—";
  const floor = t("e.post.floor", { day, hour });
  // Issue 14: the terms of expanding reach, which the employer agrees to by posting.
  const reach = r.reach_expand_after_s != null && r.max_reach_minutes != null
    ? t("e.post.reach", {
      after: fmtNumber(r.reach_expand_after_s / 60, 1),
      max: fmtNumber(r.max_reach_minutes, 0),
      per: fmtNumber((r.travel_supplement_fen_per_km || 0) / 100, 2),
    }) : "";
  $("j-floor").textContent = reach ? `${floor}${lang() === "zh" ? "。" : ". "}${reach}` : floor;
}

function placePicked(place) {
  state.post.place = place;
  if (state.post.addressAuto && place.station && place.distanceKm < 0.3) {
    $("j-address").value = place.station.address || t("e.post.place.station", { name: place.station.name });
  }
  renderPost();
}

function renderPlace() {
  const place = state.post.place;
  const out = $("j-place");
  if (!place) { out.textContent = ""; return; }
  const lines = [t("e.post.place.near", { station: place.station ? place.station.name : "—", km: fmtKm(place.distanceKm) })];
  if (!place.inCircle && state.map) lines.push(t("e.post.place.far", { km: fmtKm(state.map.reach) }));
  out.textContent = lines.join(" ");
}

async function submitJob(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearFieldErrors(form);
  if (!state.me.org_name || !state.me.credit_code) {
    showError(new Error(t("e.code.required")));
    app.go("business");
    return;
  }
  const problems = [];
  if (!state.post.skills.size) problems.push([$("j-skills").querySelector("button"), t("e.post.skill.missing")]);
  if (!$("j-title").value.trim()) problems.push([$("j-title"), t("e.post.title.missing")]);
  if (!state.post.place) problems.push([state.map.svg, t("e.post.place.missing")]);
  if (!$("j-address").value.trim()) problems.push([$("j-address"), t("e.post.address.missing")]);
  const start = startDate();
  if (!start) problems.push([$("j-start"), t("e.post.start.custom")]);
  if (problems.length) {
    for (const [el, text] of problems) if (el) setFieldError(el, text);
    if (problems[0][0]) problems[0][0].focus();
    return;
  }
  const body = {
    title: $("j-title").value.trim(),
    skills: [...state.post.skills],
    headcount: Number($("j-head").value),
    wage: { amount: Number($("j-wage").value), unit: $("j-unit").value },
    start_at: isoInZone(start),
    duration_hours: Number($("j-dur").value),
    lat: Number(state.post.place.lat.toFixed(6)),
    lon: Number(state.post.place.lon.toFixed(6)),
    address: $("j-address").value.trim(),
  };
  const desc = $("j-desc").value.trim();
  if (desc) body.description = desc;
  const submit = $("j-submit");
  submit.disabled = true;
  try {
    const job = await api("POST", `/markets/${state.market.id}/jobs`, {
      token: state.session.token, body, idempotencyKey: state.post.key,
    });
    state.jobs.set(job.id, job);
    resetPostForm();
    showNotice(t(job.state === "pending_review" ? "e.posted.review" : "e.posted.open"));
    app.go("jobs");
  } catch (err) {
    if (err.field === "lat" || err.field === "lon") {
      setFieldError(state.map.svg, err.message);
      showError(err);
    } else {
      const map = { wage: "j-wage", headcount: "j-head", start_at: "j-start", duration_hours: "j-dur", title: "j-title", address: "j-address", skills: null };
      const el = err.field && map[String(err.field).split(".")[0]] && $(map[String(err.field).split(".")[0]]);
      if (el) {
        if (el.id === "j-start") { state.post.start = "pick"; renderPost(); }
        setFieldError(el, err.message);
        el.focus();
      }
      showError(err);
    }
  } finally {
    submit.disabled = false;
  }
}

function resetPostForm() {
  $("post-form").reset();
  state.post = { skills: new Set(), start: "now", titleTouched: false, place: null, addressAuto: true, key: newIdempotencyKey() };
  if (state.map) state.map.clearPick();
}

// ---- jobs filling live --------------------------------------------------------------

function onLive(msg) {
  if (msg.type === "job" && msg.job) {
    state.jobs.set(msg.job.id, msg.job);
    renderJobs();
  }
}

function stateBadge(s) {
  const cls = { open: "badge-info", filled: "badge-ok", pending_review: "badge-warn", cancelled: "badge-muted", expired: "badge-muted", completed: "badge-ok", in_progress: "badge-ok" }[s] || "badge-muted";
  const glyph = { open: "📣", filled: "✔", pending_review: "⏳", cancelled: "✕", expired: "⌛", completed: "✔", in_progress: "🔨" }[s] || "•";
  return h("span", { class: `badge ${cls}`, "data-state": s }, icon(glyph), t(`job.${s}`));
}

function renderJobs() {
  const box = $("jobs");
  if (!box || !state.cat) return;
  const jobs = [...state.jobs.values()].sort((a, b) => {
    const act = (j) => (ACTIVE_STATES.includes(j.state) ? 0 : 1);
    return act(a) - act(b) || String(b.created_at).localeCompare(String(a.created_at));
  });
  if (!jobs.length) {
    box.replaceChildren(h("p", { class: "card" }, t("e.jobs.none")));
    return;
  }
  box.replaceChildren(...jobs.map(jobCard));
}

function jobCard(j) {
  const k = j.headcount || 0;
  const n = j.accepted || 0;
  const pct = k ? Math.round((n / k) * 100) : 0;
  const workers = (j.workers || []).filter((w) => w.state !== "cancelled");
  const canCancel = ["pending_review", "open", "filled"].includes(j.state);
  return h("article", { class: "card job-card", "data-job": j.id },
    h("header", {}, h("h3", {}, j.title), stateBadge(j.state)),
    h("div", { class: "meta" },
      h("span", {}, skillNames(j.skills, state.cat.skillByCode)),
      h("span", {}, icon("💴"), ` ${fmtMoney(j.wage)}`),
      h("span", {}, icon("🕖"), ` ${fmtWhen(j.start_at)} · ${fmtHours(j.duration_hours)}`)),
    h("p", { class: "small" }, icon("📍"), ` ${j.address}`),
    j.state === "pending_review" ? h("p", { class: "alert alert-warn", style: "margin:0.5rem 0" }, icon("⏳"), ` ${t("e.job.review")}`) : null,
    h("p", { class: "nowrap", style: "margin:0.4rem 0 0.2rem;font-weight:700", "data-progress": `${n}/${k}` },
      t("e.job.progress", { n, k }),
      j.pending_offers ? h("span", { class: "badge badge-info", style: "margin-left:0.5rem" }, icon("📨"), t("e.job.offers", { n: j.pending_offers })) : null),
    h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": k, "aria-valuenow": n, "aria-label": t("e.job.progress.label", { n, k }) },
      h("span", { style: `width:${pct}%` })),
    h("h4", { style: "margin:0.75rem 0 0.25rem" }, t("e.job.workers")),
    workers.length
      ? h("ul", { class: "list" }, workers.map((w) => h("li", { class: "worker-row", "data-worker": w.assignment_id, "data-state": w.state },
        h("div", { class: "worker-head" },
          h("span", {}, icon("👷"), ` ${t("e.job.worker", { name: w.name, rating: fmtRating(w.rating), min: fmtMinutes(w.travel_minutes) })}`),
          h("span", { class: "badge badge-ok" }, t(`asg.${w.state}`))),
        workerContact(w),
        workerSteps(j, w))))
      : h("p", { class: "muted" }, t("e.job.noworkers")),
    workers.some((w) => w.state === "accepted") ? siteCodeBox(j) : null,
    canCancel ? h("button", { type: "button", class: "btn btn-quiet", style: "margin-top:0.5rem", onclick: () => cancelJob(j) }, icon("✕"), t("e.job.cancel")) : null);
}

// ---- after the accept: check-in, no-show, completion, rating, block -------------------------

/** Keep what is typed across re-renders: a job message may arrive mid-typing. */
function drafted(input) {
  const id = input.id;
  if (state.drafts.has(id)) input.value = state.drafts.get(id);
  input.addEventListener("input", () => state.drafts.set(id, input.value));
  return input;
}

function workerSteps(job, w) {
  const a = w.assignment_id;
  const steps = [];
  if (w.state === "accepted") {
    // A visible label (issue 10): the six digits on the slip are typed here, or the QR scanned.
    const code = drafted(h("input", { id: `code-${a}`, name: "code", autocomplete: "off", spellcheck: "false", inputmode: "numeric", "aria-describedby": `code-help-${a}` }));
    const preview = h("div", { class: "scan-box", "data-scan-preview": a });
    const form = h("form", { class: "checkin-form", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); checkInWorker(job, w, code.value.trim(), form); } },
      h("label", { for: code.id }, t("e.w.code", { name: w.name })),
      h("p", { class: "small muted", id: `code-help-${a}` }, t("e.w.code.help")),
      h("div", { class: "inline" },
        code,
        h("button", { type: "submit", class: "btn btn-ok" }, icon("✓"), t("e.w.checkin")),
        canScan()
          ? h("button", { type: "button", class: "btn", "data-scan": a, onclick: () => scanInto(code, preview, () => checkInWorker(job, w, code.value.trim(), form)) }, icon("📷"), t("e.w.scan"))
          : null),
      preview);
    steps.push(form);
    steps.push(h("button", { type: "button", class: "btn btn-quiet", onclick: () => markNoShow(w) }, icon("⌛"), t("e.w.noshow")));
  }
  if (w.state === "checked_in") {
    const hours = drafted(h("input", { id: `hours-${a}`, name: "hours", type: "number", inputmode: "decimal", min: "0.5", max: "24", step: "0.5", value: String(job.duration_hours) }));
    const pay = drafted(h("input", { id: `pay-${a}`, name: "pay", type: "number", inputmode: "decimal", min: "0", step: "0.01", value: String(job.wage.amount) }));
    const unit = h("select", { id: `unit-${a}`, name: "unit" },
      ["day", "hour", "piece"].map((u) => h("option", { value: u, selected: u === job.wage.unit }, t(`e.per.${u}`))));
    const form = h("form", { class: "complete-form", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); completeWorker(w, form); } },
      h("div", { class: "field" }, h("label", { for: hours.id }, t("e.w.hours")), hours),
      h("div", { class: "field" }, h("label", { for: pay.id }, t("e.w.pay")),
        h("div", { class: "inline" }, pay, h("label", { class: "sr-only", for: unit.id }, t("e.w.pay.unit")), unit)),
      h("button", { type: "submit", class: "btn btn-primary" }, icon("✔"), t("e.w.complete")));
    steps.push(form);
  }
  if (["completed", "paid", "disputed", "no_show"].includes(w.state)) {
    if (state.rated.has(a)) steps.push(h("p", { class: "badge badge-ok" }, icon("★"), t("e.w.rated")));
    else {
      steps.push(h("h5", {}, t("e.w.rate", { name: w.name })));
      steps.push(ratingForm({ tags: WORKER_TAGS, label: t("e.w.rate", { name: w.name }), onRate: (r) => rateWorker(w, r) }));
    }
  }
  if (w.worker_id && state.blocked.has(w.worker_id)) steps.push(blockedBadge());
  else if (w.worker_id) {
    steps.push(h("button", { type: "button", class: "btn btn-quiet", onclick: () => blockWorker(w.worker_id) }, icon("⛔"), t("aa.block.worker")));
  }
  return steps.length ? h("div", { class: "worker-steps" }, steps) : null;
}

async function blockWorker(workerId) {
  if (await blockOther(state.session.token, { worker_id: workerId })) {
    state.blocked.add(workerId);
    renderJobs();
  }
}

async function lifecycle(path, body) {
  return api("POST", path, { token: state.session.token, body });
}

function refreshJob(r) {
  if (r && r.job) { state.jobs.set(r.job.id, r.job); renderJobs(); return; }
  loadJobs().catch(() => {});
}

async function checkInWorker(job, w, code, form) {
  clearFieldErrors(form);
  try {
    const r = await lifecycle(`/assignments/${w.assignment_id}/checkin`, { code });
    state.drafts.delete(`code-${w.assignment_id}`);
    showNotice(t("e.w.checked", { name: w.name }));
    refreshJob(r);
  } catch (err) {
    showError(checkinError(err), form);
  }
}

/** A refused check-in code, said with how many tries are left before the lockout. */
function checkinError(err) {
  if (err && err.code === "bad_code") {
    const left = /(\d+) tries left/.exec(err.message || "");
    if (!left) return lifecycleError(err);
    // A code of its own with no translation: errorText then shows this sentence as it is.
    return new ApiError(err.status, "bad_code_tries", t("e.w.code.left", { n: left[1] }), err.field);
  }
  return lifecycleError(err);
}

/** Read the worker's slip with the camera into ``input``, then go on; else say to type it. */
async function scanInto(input, preview, then) {
  showNotice(t("e.w.scan.looking"));
  const code = await readQr({ preview });
  if (!code) { showNotice(t("e.w.scan.none")); return; }
  input.value = code;
  state.drafts.set(input.id, input.value);
  then();
}

async function markNoShow(w) {
  const dlg = $("cancel-dialog");
  $("cancel-text").textContent = `${t("e.w.noshow.title", { name: w.name })} ${t("e.w.noshow.text")}`;
  dlg.returnValue = "";
  dlg.onclose = async () => {
    if (dlg.returnValue !== "yes") return;
    try {
      refreshJob(await lifecycle(`/assignments/${w.assignment_id}/no_show`));
      showNotice(t("e.w.noshowed"));
    } catch (err) {
      showError(err);
    }
  };
  $("cancel-title").textContent = t("e.w.noshow.title", { name: w.name });
  dlg.querySelector('button[value="yes"]').textContent = t("e.w.noshow");
  dlg.showModal();
}

async function completeWorker(w, form) {
  clearFieldErrors(form);
  const body = {
    hours: Number(form.querySelector('[name="hours"]').value),
    pay: { amount: Number(form.querySelector('[name="pay"]').value), unit: form.querySelector('[name="unit"]').value },
  };
  try {
    const r = await lifecycle(`/assignments/${w.assignment_id}/complete`, body);
    showNotice(t("e.w.completed"));
    refreshJob(r);
  } catch (err) {
    showError(err, form);
  }
}

async function rateWorker(w, r) {
  try {
    await lifecycle(`/assignments/${w.assignment_id}/rate`, r);
    state.rated.add(w.assignment_id);
    showNotice(t("aa.rated"));
    loadJobs().catch(() => {});
  } catch (err) {
    if (err.code === "already_rated") { state.rated.add(w.assignment_id); renderJobs(); }
    showError(err);
  }
}

function siteCodeBox(job) {
  const box = h("div", { class: "site-code", "data-site": job.id });
  const shown = state.siteCodes.get(job.id);
  if (shown) {
    const qr = h("div", { class: "qr" });
    if (shown.qr_svg) insertQr(qr, shown.qr_svg, t("e.site.label"));
    box.append(h("p", { class: "small" }, t("e.site.label")), shown.qr_svg ? qr : null,
      // The six digits first: a worker without a camera types them (issue 10).
      shown.digits ? h("p", { class: "slip-digits", "data-site-digits": job.id }, `${shown.digits.slice(0, 3)} ${shown.digits.slice(3)}`) : null,
      h("p", { class: "code-text" }, shown.code),
      shown.expires_at ? h("p", { class: "small muted" }, t("e.site.until", { when: fmtWhen(shown.expires_at) })) : null);
  } else {
    box.append(h("button", { type: "button", class: "btn", onclick: () => showSiteCode(job) }, icon("🔳"), t("e.site")));
  }
  return box;
}

async function showSiteCode(job) {
  try {
    state.siteCodes.set(job.id, await api("GET", `/jobs/${job.id}/site_code`, { token: state.session.token }));
    renderJobs();
  } catch (err) {
    showError(err);
  }
}

function cancelJob(job) {
  $("cancel-title").textContent = t("e.cancel.title");
  $("cancel-dialog").querySelector('button[value="yes"]').textContent = t("e.cancel.yes");
  const dlg = $("cancel-dialog");
  $("cancel-text").textContent = t("e.cancel.text", { title: job.title, n: job.accepted || 0 });
  dlg.returnValue = "";
  dlg.onclose = async () => {
    if (dlg.returnValue !== "yes") return;
    try {
      const j = await api("POST", `/jobs/${job.id}/cancel`, { token: state.session.token });
      state.jobs.set(j.id, j);
      renderJobs();
      showNotice(t("e.job.cancelled"));
    } catch (err) {
      showError(err);
    }
  };
  dlg.showModal();
}

app.open(wirePage);
