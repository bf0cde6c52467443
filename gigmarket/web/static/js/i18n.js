// Language and formatting for every page: zh-CN first, English on a switch, remembered.
//
// Pages add their own strings with addStrings(); shared strings live here. Markup marks
// translatable text with data-i18n="key" (text), data-i18n-ph (placeholder),
// data-i18n-label (aria-label) and data-i18n-title (title).

const STORE_KEY = "gm.lang";
export const LANGS = ["zh", "en"];
const SPEECH_LANG = { zh: "zh-CN", en: "en-GB" };
const HTML_LANG = { zh: "zh-CN", en: "en" };

const strings = {
  zh: {
    "lang.switch": "English",
    "lang.switch.label": "Switch to English",
    "conn.connecting": "正在连接…",
    "conn.live": "实时在线",
    "conn.offline": "已断开，{s} 秒后重连",
    "conn.offline.now": "已断开，正在重连",
    "conn.signedout": "未登录",
    "err.network": "连不上服务器，请检查网络后再试。",
    "err.generic": "出错了：{message}",
    "err.bad_code": "验证码不对，请再看一下。",
    "err.otp_wrong": "验证码不对，请再看一下。",
    "err.otp_expired": "验证码已失效，请重新获取。",
    "err.already_registered": "这个身份证号已经登记过了，请用密码登录。",
    "err.phone_taken": "这个手机号已被别人登记。",
    "err.profile_incomplete": "请先填好姓名和会做的活。",
    "err.suspended": "账号已被暂停，请联系市场工作人员。",
    "err.not_registered": "这个身份证号还没有登记。",
    "err.bad_pin": "密码不对，请再输一次。",
    "err.unauthorized": "登录已过期，请重新登录。",
    "err.rate_limited": "操作太频繁，请稍等一会儿再试。",
    "err.bad_credentials": "用户名或密码不对。",
    "err.offer_expired": "这份工作已经过期了。",
    "err.offer_not_pending": "这份工作已经不能接了。",
    "close": "关闭",
    "nav.sections": "页面",
    "dismiss": "知道了",
    "unit.hour": "小时",
    "unit.day": "天",
    "unit.piece": "件",
    "money": "{amount} 元/{unit}",
    "money.short": "{amount}元",
    "when.today": "今天 {time}",
    "when.tomorrow": "明天 {time}",
    "when.yesterday": "昨天 {time}",
    "when.date": "{month}月{day}日 {time}",
    "dur.s": "{s} 秒",
    "dur.m": "{m} 分钟",
    "dur.hm": "{h} 小时 {m} 分",
    "hours": "{h} 小时",
    "km": "{km} 公里",
    "minutes": "{m} 分钟",
    "rating": "评分 {r}",
    "rating.none": "暂无评分",
    "stars.label": "评分 {r} 分（满分 5 分）",
    "state.offline": "未签到",
    "state.available": "等待派工",
    "state.offered": "有工作邀请",
    "state.assigned": "已接工作",
    "job.pending_review": "等待审核",
    "job.open": "招人中",
    "job.filled": "已招满",
    "job.in_progress": "进行中",
    "job.completed": "已完成",
    "job.cancelled": "已取消",
    "job.expired": "已过期",
    "asg.accepted": "已接受",
    "asg.checked_in": "已到岗",
    "asg.completed": "已完工",
    "asg.paid": "已付款",
    "asg.no_show": "未到岗",
    "asg.cancelled": "已取消",
    "asg.disputed": "有纠纷",
    "kg.none": "无",
    "kg.hard_to_employ": "就业困难人员",
    "kg.disabled": "残疾人",
    "kg.veteran": "退役军人",
    "kg.long_term_unemployed": "长期失业人员",
    "kg.zero_employment_household": "零就业家庭成员",
    "kg.graduate": "高校毕业生",
    "kg.older_worker": "大龄劳动者",
    "kg.poverty_alleviated": "脱贫人口",
  },
  en: {
    "lang.switch": "中文",
    "lang.switch.label": "切换到中文",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.offline": "Disconnected, retrying in {s} s",
    "conn.offline.now": "Disconnected, reconnecting",
    "conn.signedout": "Signed out",
    "err.network": "Cannot reach the server. Check the network and try again.",
    "err.generic": "Something went wrong: {message}",
    "err.bad_code": "That code is not right. Please check it.",
    "err.otp_wrong": "That code is not right. Please check it.",
    "err.otp_expired": "That code has expired. Please get a new one.",
    "err.already_registered": "This ID number is already registered. Sign in with your PIN.",
    "err.phone_taken": "This phone number is registered to someone else.",
    "err.profile_incomplete": "Fill in your name and skills first.",
    "err.suspended": "This account is suspended. Please contact the market staff.",
    "err.not_registered": "This ID number is not registered yet.",
    "err.bad_pin": "Wrong PIN. Please try again.",
    "err.unauthorized": "Your sign-in has expired. Please sign in again.",
    "err.rate_limited": "Too many tries. Please wait a moment.",
    "err.bad_credentials": "Wrong username or password.",
    "err.offer_expired": "This offer has expired.",
    "err.offer_not_pending": "This offer can no longer be taken.",
    "close": "Close",
    "nav.sections": "Sections",
    "dismiss": "OK",
    "unit.hour": "hour",
    "unit.day": "day",
    "unit.piece": "piece",
    "money": "¥{amount}/{unit}",
    "money.short": "¥{amount}",
    "when.today": "today {time}",
    "when.tomorrow": "tomorrow {time}",
    "when.yesterday": "yesterday {time}",
    "when.date": "{day} {monthName} {time}",
    "dur.s": "{s} s",
    "dur.m": "{m} min",
    "dur.hm": "{h} h {m} min",
    "hours": "{h} h",
    "km": "{km} km",
    "minutes": "{m} min",
    "rating": "rated {r}",
    "rating.none": "not rated yet",
    "stars.label": "rated {r} out of 5",
    "state.offline": "Not checked in",
    "state.available": "Waiting for work",
    "state.offered": "Has an offer",
    "state.assigned": "Has a job",
    "job.pending_review": "Awaiting review",
    "job.open": "Hiring",
    "job.filled": "Filled",
    "job.in_progress": "In progress",
    "job.completed": "Completed",
    "job.cancelled": "Cancelled",
    "job.expired": "Expired",
    "asg.accepted": "Accepted",
    "asg.checked_in": "At the site",
    "asg.completed": "Done",
    "asg.paid": "Paid",
    "asg.no_show": "No-show",
    "asg.cancelled": "Cancelled",
    "asg.disputed": "Disputed",
    "kg.none": "None",
    "kg.hard_to_employ": "Hard to employ",
    "kg.disabled": "Disabled",
    "kg.veteran": "Veteran",
    "kg.long_term_unemployed": "Long-term unemployed",
    "kg.zero_employment_household": "Zero-employment household",
    "kg.graduate": "Graduate",
    "kg.older_worker": "Older worker",
    "kg.poverty_alleviated": "Out of poverty",
  },
};

export const KEY_GROUPS = [
  "hard_to_employ", "disabled", "veteran", "long_term_unemployed",
  "zero_employment_household", "graduate", "older_worker", "poverty_alleviated",
];

function initialLang() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl && LANGS.includes(fromUrl)) return fromUrl;
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved && LANGS.includes(saved)) return saved;
  } catch { /* storage may be off in private mode */ }
  return "zh";
}

let current = initialLang();
const listeners = new Set();

export function lang() { return current; }
export function speechLang() { return SPEECH_LANG[current]; }

export function addStrings(more) {
  for (const l of LANGS) Object.assign(strings[l], more[l] || {});
}

export function t(key, params) {
  let s = strings[current][key] ?? strings.zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** Pick the current language from a {zh, en} object the server sent. */
export function pick(texts) {
  if (!texts) return "";
  if (typeof texts === "string") return texts;
  return texts[current] ?? texts.zh ?? texts.en ?? "";
}

export function setLang(l, { remember = true } = {}) {
  if (!LANGS.includes(l) || l === current) return;
  current = l;
  if (remember) {
    try { localStorage.setItem(STORE_KEY, l); } catch { /* ignore */ }
  }
  applyI18n();
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) { listeners.add(fn); }

export function applyI18n(root = document) {
  document.documentElement.lang = HTML_LANG[current];
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

/** Wire a button that flips between the two languages. */
export function mountLangSwitch(button) {
  const render = () => {
    button.textContent = t("lang.switch");
    button.setAttribute("aria-label", t("lang.switch.label"));
    button.lang = current === "zh" ? "en" : "zh-CN";
  };
  button.addEventListener("click", () => setLang(current === "zh" ? "en" : "zh"));
  onLangChange(render);
  render();
}

// ---- formatting -------------------------------------------------------------

let zone = "Asia/Shanghai";
export function setTimeZone(tz) { if (tz) zone = tz; }
export function timeZone() { return zone; }

function partsIn(date, tz = zone) {
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const p = {};
  for (const { type, value } of f.formatToParts(date)) p[type] = value;
  return {
    year: +p.year, month: +p.month, day: +p.day,
    hour: +p.hour, minute: +p.minute, second: +p.second,
  };
}

/** Minutes east of UTC of the zone at that instant. */
function offsetMinutes(date, tz = zone) {
  const p = partsIn(date, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** The instant of a wall-clock time in the market's zone (month is 1-based). */
export function wallTime(year, month, day, hour, minute, tz = zone) {
  const guess = new Date(Date.UTC(year, month - 1, day, hour, minute));
  const off = offsetMinutes(guess, tz);
  return new Date(guess.getTime() - off * 60000);
}

export function dayParts(date, tz = zone) { return partsIn(date, tz); }

/** ISO 8601 with the zone's offset, as the API wants (e.g. 2026-11-22T07:00:00+08:00). */
export function isoInZone(date, tz = zone) {
  const p = partsIn(date, tz);
  const off = offsetMinutes(date, tz);
  const sign = off >= 0 ? "+" : "-";
  const a = Math.abs(off);
  const pad = (n) => String(n).padStart(2, "0");
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`
    + `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

export function fmtClock(date, tz = zone) {
  const p = partsIn(date, tz);
  return `${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}`;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "今天 14:00" / "明天 07:00" / "11月23日 07:00" in the market's zone. */
export function fmtWhen(iso, now = new Date()) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = partsIn(d);
  const today = partsIn(now);
  const dayIndex = (x) => Date.UTC(x.year, x.month - 1, x.day) / 86400000;
  const diff = dayIndex(p) - dayIndex(today);
  const time = fmtClock(d);
  if (diff === 0) return t("when.today", { time });
  if (diff === 1) return t("when.tomorrow", { time });
  if (diff === -1) return t("when.yesterday", { time });
  return t("when.date", { month: p.month, day: p.day, monthName: MONTHS_EN[p.month - 1], time });
}

export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return Number(n).toLocaleString(current === "zh" ? "zh-CN" : "en-GB", {
    minimumFractionDigits: 0, maximumFractionDigits: digits,
  });
}

export function fmtMoney(wage) {
  if (!wage) return "";
  return t("money", { amount: fmtNumber(wage.amount, 2), unit: t(`unit.${wage.unit}`) });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("dur.s", { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("dur.m", { m });
  return t("dur.hm", { h: Math.floor(m / 60), m: m % 60 });
}

export function fmtHours(h) { return t("hours", { h: fmtNumber(h, 1) }); }
export function fmtKm(km) { return km === null || km === undefined ? "—" : t("km", { km: fmtNumber(km, 1) }); }
export function fmtMinutes(m) {
  return m === null || m === undefined ? "—" : t("minutes", { m: fmtNumber(Math.round(m)) });
}
export function fmtPercent(x) {
  return x === null || x === undefined ? "—" : `${fmtNumber(x * 100, 0)}%`;
}

/** Stars as text plus a number, so the rating never depends on colour or glyph shape alone. */
export function fmtRating(r) {
  if (r === null || r === undefined) return t("rating.none");
  const full = Math.round(r);
  return `${"★".repeat(full)}${"☆".repeat(Math.max(0, 5 - full))} ${fmtNumber(r, 1)}`;
}

export function skillLabel(skill) {
  if (!skill) return "";
  return current === "en" ? skill.en : skill.zh;
}

// ---- after the accept (issue 5): shared by the employer, worker, kiosk and manager pages ----
addStrings({
  zh: {
    "aa.stars": "打分",
    "aa.star": "{n} 星",
    "aa.tags": "印象（可多选）",
    "aa.rate": "提交评价",
    "aa.rated": "已评价，谢谢！",
    "aa.tag.on_time": "准时",
    "aa.tag.hard_working": "干活认真",
    "aa.tag.skilled": "手艺好",
    "aa.tag.polite": "态度好",
    "aa.tag.late": "迟到",
    "aa.tag.paid_on_time": "按时发钱",
    "aa.tag.as_described": "和说的一样",
    "aa.tag.safe": "环境安全",
    "aa.tag.fair": "待人公道",
    "aa.tag.not_as_described": "和说的不一样",
    "aa.block": "屏蔽",
    "aa.block.worker": "屏蔽这位工人",
    "aa.block.employer": "屏蔽这个老板",
    "aa.block.title": "确定屏蔽？",
    "aa.block.text": "屏蔽后不会再给你们互相派单。已经接下的活照常。",
    "aa.block.done": "已屏蔽，以后不会再派到一起。",
    "aa.no": "先不",
    "aa.yes": "确定",
    "aa.note": "备注",
    "aa.blocked": "已屏蔽",
    "aa.cancel": "取消这份活",
    "aa.cancel.title": "确定不去了？",
    "aa.cancel.late": "离开工不到{h}小时取消，会影响您的守约记录。",
    "aa.cancel.early": "现在取消不影响守约记录（离开工不到{h}小时再取消才会影响）。",
    "aa.cancel.keep": "不取消，我会去",
    "aa.cancel.yes": "确定取消",
    "aa.cancel.done": "已取消这份活。",
    "err.assignment_checked_in": "已经签到上工了，不能再取消。",
    "err.assignment_cancelled": "这份活已经取消了。",
    "err.pick_stars": "请先点几颗星。",
    "err.bad_code_checkin": "签到码不对或已过期，请再核对工人单子上的码。",
    "err.code_used": "这个签到码已经用过了。",
    "err.too_early": "还没过开工后的等候时间，现在不能记未到岗。",
    "err.already_rated": "已经评价过了。",
    "err.not_checked_in": "要先在市场签到才能抢单。",
    "err.job_full": "手慢了，这个活已经被抢完了。",
    "err.not_claimable_yet": "这个活还不能抢。",
    "err.holding_offer": "您手上有一个待回复的活，请先回复。",
    "err.blocked": "你们之间有一方屏蔽了对方，不能接这个活。",
    "err.overlapping_assignment": "和您已经接的活时间冲突。",
    "err.dispute_resolved": "这个纠纷已经处理过了。",
    "err.employer_suspended": "这个用工方已经被暂停了。",
  },
  en: {
    "aa.stars": "Stars",
    "aa.star": "{n} stars",
    "aa.tags": "Impressions (any)",
    "aa.rate": "Send rating",
    "aa.rated": "Rated. Thank you!",
    "aa.tag.on_time": "On time",
    "aa.tag.hard_working": "Hard-working",
    "aa.tag.skilled": "Skilled",
    "aa.tag.polite": "Polite",
    "aa.tag.late": "Late",
    "aa.tag.paid_on_time": "Paid on time",
    "aa.tag.as_described": "As described",
    "aa.tag.safe": "Safe site",
    "aa.tag.fair": "Fair",
    "aa.tag.not_as_described": "Not as described",
    "aa.block": "Block",
    "aa.block.worker": "Block this worker",
    "aa.block.employer": "Block this employer",
    "aa.block.title": "Block?",
    "aa.block.text": "You will never be matched again. Work already agreed stands.",
    "aa.block.done": "Blocked; you will not be matched again.",
    "aa.no": "Not now",
    "aa.yes": "Yes",
    "aa.note": "Note",
    "aa.blocked": "Blocked",
    "aa.cancel": "Cancel this job",
    "aa.cancel.title": "Not going after all?",
    "aa.cancel.late": "It starts in less than {h} hours: cancelling now counts against your reliability record.",
    "aa.cancel.early": "Cancelling now does not affect your reliability record (within {h} hours of the start it would).",
    "aa.cancel.keep": "Keep it, I will go",
    "aa.cancel.yes": "Cancel the job",
    "aa.cancel.done": "The job is cancelled.",
    "err.assignment_checked_in": "You are checked in already; the job can no longer be cancelled.",
    "err.assignment_cancelled": "This job is cancelled already.",
    "err.pick_stars": "Tap the stars first.",
    "err.bad_code_checkin": "That check-in code is wrong or expired; check the worker's slip again.",
    "err.code_used": "This check-in code has been used already.",
    "err.too_early": "The grace time after the start has not passed yet; no-show cannot be marked now.",
    "err.already_rated": "Already rated.",
    "err.not_checked_in": "Check in at the market first to claim jobs.",
    "err.job_full": "Too late: this job has just been taken.",
    "err.not_claimable_yet": "This job cannot be claimed yet.",
    "err.holding_offer": "You have an offer waiting; answer it first.",
    "err.blocked": "One of you blocked the other; this job cannot be taken.",
    "err.overlapping_assignment": "It overlaps a job you already have.",
    "err.dispute_resolved": "This dispute has been resolved already.",
    "err.employer_suspended": "This employer is suspended already.",
  },
});
