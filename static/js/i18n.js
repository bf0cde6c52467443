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

// Every error code the server raises, in both languages (issue 10): the pages show these in
// place of the server's English message; tests/pages/test_error_translations.py keeps the
// list complete.
addStrings({
  zh: {
    "err.already_authenticated": "已经登录了。",
    "err.already_reported": "您已经举报过这个招工了。",
    "err.assignment_accepted": "这份活还没开工。",
    "err.assignment_completed": "这份活已经完工了。",
    "err.assignment_disputed": "这份活的工钱正在处理纠纷。",
    "err.assignment_no_show": "这份活已记为未到岗。",
    "err.assignment_paid": "这份活的工钱已经确认收到了。",
    "err.auth_first": "请先登录。",
    "err.bad_body": "提交的内容是空的或格式不对。",
    "err.bad_credit_code": "统一社会信用代码不对，请核对 18 位代码。",
    "err.bad_date": "日期格式不对。",
    "err.bad_id_number": "身份证号不对，请检查。",
    "err.bad_idempotency_key": "请求编号格式不对。",
    "err.bad_json": "提交的内容格式不对。",
    "err.bad_message": "消息格式不对。",
    "err.bad_phone": "手机号是 1 开头的 11 位数字。",
    "err.bad_range": "日期范围不对。",
    "err.bad_role": "身份只能是工人或用工方。",
    "err.bad_text": "文字里有不能用的字符。",
    "err.bad_time": "时间格式不对。",
    "err.bad_type": "填写的内容类型不对。",
    "err.bad_value": "填写的内容不对。",
    "err.below_wage_floor": "工钱低于本地最低工资标准。",
    "err.body_too_large": "提交的内容太大了。",
    "err.busy_overlap": "合适的岗位与您已接受的工作时间冲突。",
    "err.cannot_arrive_in_time": "您无法在开工前赶到合适的岗位。",
    "err.certificate_required": "附近与您技能相符的岗位需要经核验的证书。",
    "err.code_locked": "签到码输错太多次，已锁定。请扫工人单子上的二维码，或请市场工作人员解锁。",
    "err.conflict": "现在不能这样操作，请刷新后再试。",
    "err.declined_before": "其余可匹配的对象此前已被拒绝、超时未答复或被屏蔽。",
    "err.duplicate": "重复了，请检查。",
    "err.excluded": "这个活不能派给您。",
    "err.forbidden": "您没有权限这样操作。",
    "err.http_error": "请求出错了。",
    "err.id_number_taken": "这个身份证号已被别的账号使用。",
    "err.idempotency_key_reused": "同一个请求编号用在了不同的内容上。",
    "err.in_the_past": "时间已经过了，请选以后的时间。",
    "err.internal": "服务器出错了，什么都没有改动。请稍后再试。",
    "err.invalid": "填写的内容不对，请检查。",
    "err.job_cancelled": "这个活已经取消了。",
    "err.job_completed": "这个活已经完工了。",
    "err.job_expired": "这个活已经过期了。",
    "err.job_filled": "这个活已经招满了。",
    "err.job_in_progress": "这个活已经开工了。",
    "err.job_open": "这个活还在招人。",
    "err.job_pending_review": "这个活还在等市场审核。",
    "err.kiosk_revoked": "这台自助机已经停用了。",
    "err.method_not_allowed": "不支持这种请求。",
    "err.mutually_exclusive": "这两项只能填一项。",
    "err.no_awaited_work": "现在没有等着开工的活。",
    "err.no_job_in_reach": "出行范围内（市场规定的，或您自己定的最远路程）没有开放的岗位。",
    "err.no_open_jobs": "本市场目前没有开放的岗位。",
    "err.no_skill_match": "附近的岗位与您的技能不匹配。",
    "err.no_stream": "没有可订阅的消息。",
    "err.no_worker_available_long_enough": "合适的工人都无法工作到岗位结束。",
    "err.no_worker_can_arrive_in_time": "合适的工人都无法在开工前赶到。",
    "err.no_worker_free": "合适的工人在该时段都已有工作。",
    "err.no_worker_in_reach": "出行范围内没有等待派工的工人。",
    "err.no_worker_with_certificate": "附近的工人没有本岗位所需的证书。",
    "err.no_worker_with_skill": "附近的工人不具备本岗位所需的技能。",
    "err.no_workers_waiting": "本市场目前没有等待派工的工人。",
    "err.not_available": "请先在本市场签到（或先处理手上的活）。",
    "err.not_available_long_enough": "合适岗位的结束时间晚于您的可工作时间。",
    "err.not_eligible": "这个活不适合您。",
    "err.not_enough_workers": "所有合适的工人都已收到本岗位的邀约，仍有空缺。",
    "err.not_expired": "这份工作邀请还没到期。",
    "err.not_found": "找不到，可能已经没有了。",
    "err.not_your_market": "这不是您管理的市场。",
    "err.not_yours": "这不是您的。",
    "err.offer_accepted": "这份工作已经接了。",
    "err.offer_declined": "这份工作已经拒绝了。",
    "err.offer_pending": "这份工作还在等回复。",
    "err.offer_withdrawn": "这份工作已经被撤回了。",
    "err.out_of_bounds": "这个位置不在本市场的范围内。",
    "err.out_of_range": "数值超出了允许的范围。",
    "err.outranked": "存在合适的匹配，但本轮最优方案将其安排给了其他人或岗位。",
    "err.report_resolved": "这个举报已经处理过了。",
    "err.required": "这一项必须填写。",
    "err.too_far_ahead": "时间太远了，请选近一点的时间。",
    "err.too_large": "内容太大了。",
    "err.too_long": "文字太长了。",
    "err.too_many": "选得太多了。",
    "err.too_many_decimals": "金额最多两位小数。",
    "err.too_short": "太短了。",
    "err.unknown_field": "提交了不认识的内容。",
    "err.unknown_key_group": "没有这个重点群体类别。",
    "err.unknown_market": "没有这个市场。",
    "err.unknown_skill": "没有这个技能。",
    "err.unknown_station": "本市场没有这个服务点。",
    "err.unknown_type": "不认识的消息类型。",
    "err.unknown_unit": "工钱单位只能是小时、天或件。",
    "err.wage_below_minimum": "附近与您技能相符的岗位工资低于您的最低要求。",
    "err.wage_below_worker_minimum": "工资低于附近合适工人的最低要求。",
    "err.weak_pin": "密码太简单了，不要用同一个数字重复。",
    "err.pin_change_required": "请先设一个新密码。",
    "err.wrong_role": "这个账号不能做这个操作。",
    "err.worker_offline": "您还没有在市场签到。",
    "err.worker_available": "您正在等待派工，还没有接活。",
    "err.worker_offered": "您手上有一份工作邀请，请先回复。",
    "err.worker_assigned": "您已经接了活。",
    "err.bad_certificate_number": "证书编号不对，请对照证书再填一次。",
    "err.bad_cursor": "翻页位置不对。",
    "err.bad_limit": "每页条数不对。",
    "err.bad_platform_id": "平台编号不对。",
    "err.bad_signature": "请求签名不对。",
    "err.bad_sm4_key": "SM4 密钥不对。",
    "err.bad_state": "这个状态不对。",
    "err.bad_version": "版本号不对。",
    "err.certificate_expired": "您的证书已过期，请到市场服务台更新后再接这份活。",
    "err.too_late_to_arrive": "现在出发已赶不上开工时间，这份活已转给来得及的人；不影响您的信用，请等下一个派单。",
    "err.job_closed": "这个招工已经结束，不能再改。",
    "err.job_committed": "已经有人接了这份活，这一项不能再改。",
    "err.market_fixed": "招工所在的市场不能更改。",
    "err.no_reach": "至少要保留一个距离上限（分钟或公里）。",
    "err.no_such_certificate": "没有找到这个证书。",
    "err.phone_in_use": "这个手机号已被另一家单位使用。",
    "err.platform_exists": "这个平台已经添加过了。",
    "err.replayed_nonce": "这个请求已经收到过（随机数重复）。",
    "err.stale_request": "请求时间过期，请校准时钟后重发。",
    "err.stale_version": "版本比已收到的旧。",
    "err.unknown_platform": "没有这个平台。",
    "err.version_reused": "同一版本号的内容不同。",
    "err.whatif_running": "这个市场已有一个推演在运行，请等它完成。",
    "err.binary_frame": "消息格式不对（只收文字消息）。",
    "err.too_deep": "请求的数据嵌套太深。",
  },
  en: {
    "err.already_authenticated": "Already signed in.",
    "err.already_reported": "You have already reported this job.",
    "err.assignment_accepted": "This job has not started yet.",
    "err.assignment_completed": "This job is already completed.",
    "err.assignment_disputed": "The pay for this job is under dispute.",
    "err.assignment_no_show": "This job was marked as a no-show.",
    "err.assignment_paid": "The pay for this job is already confirmed.",
    "err.auth_first": "Sign in first.",
    "err.bad_body": "The request is empty or malformed.",
    "err.bad_credit_code": "The unified social credit code is not valid; check the 18 characters.",
    "err.bad_date": "The date is not valid.",
    "err.bad_id_number": "This ID number is not valid; please check it.",
    "err.bad_idempotency_key": "The Idempotency-Key is not valid.",
    "err.bad_json": "The request is not valid JSON.",
    "err.bad_message": "The message is not valid.",
    "err.bad_phone": "A mobile number has 11 digits and starts with 1.",
    "err.bad_range": "The date range is not valid.",
    "err.bad_role": "The role must be worker or employer.",
    "err.bad_text": "The text contains characters that are not allowed.",
    "err.bad_time": "The time is not valid.",
    "err.bad_type": "A value has the wrong type.",
    "err.bad_value": "A value is not valid.",
    "err.below_wage_floor": "The wage is below the local legal minimum.",
    "err.body_too_large": "The request is too large.",
    "err.busy_overlap": "The suitable jobs overlap work you have already accepted.",
    "err.cannot_arrive_in_time": "You could not reach the suitable jobs by their start time.",
    "err.certificate_required": "Jobs within reach for your skills need a verified certificate.",
    "err.code_locked": "Too many wrong codes: locked. Scan the QR on the worker's slip, or ask the market staff to unlock it.",
    "err.conflict": "This cannot be done now; refresh and try again.",
    "err.declined_before": "Every remaining match was declined, let expire or blocked before.",
    "err.duplicate": "This is a duplicate.",
    "err.excluded": "This job is not open to you.",
    "err.forbidden": "You are not allowed to do this.",
    "err.http_error": "The request failed.",
    "err.id_number_taken": "This ID number belongs to another account.",
    "err.idempotency_key_reused": "This Idempotency-Key was used with another request.",
    "err.in_the_past": "That time has passed; choose a later one.",
    "err.internal": "Something went wrong on our side; nothing was changed. Try again later.",
    "err.invalid": "Something you entered is not valid; please check it.",
    "err.job_cancelled": "This job has been cancelled.",
    "err.job_completed": "This job is completed.",
    "err.job_expired": "This job has expired.",
    "err.job_filled": "This job is already filled.",
    "err.job_in_progress": "This job has already started.",
    "err.job_open": "This job is still open.",
    "err.job_pending_review": "This job is waiting for the market's review.",
    "err.kiosk_revoked": "This kiosk is already revoked.",
    "err.method_not_allowed": "This request method is not allowed.",
    "err.mutually_exclusive": "Only one of these may be given.",
    "err.no_awaited_work": "There is no work waiting to begin.",
    "err.no_job_in_reach": "No open job is within reach (the market's travel limit, or your own).",
    "err.no_open_jobs": "No job is open in this market right now.",
    "err.no_skill_match": "No job within reach asks for your skills.",
    "err.no_stream": "There is no message stream to follow.",
    "err.no_worker_available_long_enough": "No suitable worker is available until the job ends.",
    "err.no_worker_can_arrive_in_time": "No suitable worker can arrive by the start time.",
    "err.no_worker_free": "Every suitable worker already has work at that time.",
    "err.no_worker_in_reach": "No waiting worker is within the market's travel limit.",
    "err.no_worker_with_certificate": "No worker within reach holds the certificate this job needs.",
    "err.no_worker_with_skill": "No worker within reach has the skills this job needs.",
    "err.no_workers_waiting": "No worker is waiting in this market right now.",
    "err.not_available": "Check in at this market first (or finish what you hold).",
    "err.not_available_long_enough": "The suitable jobs end after the time you are available until.",
    "err.not_eligible": "This job is not open to you.",
    "err.not_enough_workers": "Every suitable worker is offered this job; slots are still free.",
    "err.not_expired": "The offer has not expired yet.",
    "err.not_found": "Not found; it may be gone.",
    "err.not_your_market": "This is not one of your markets.",
    "err.not_yours": "This is not yours.",
    "err.offer_accepted": "This offer was already accepted.",
    "err.offer_declined": "This offer was already declined.",
    "err.offer_pending": "This offer is still waiting for an answer.",
    "err.offer_withdrawn": "This offer was withdrawn.",
    "err.out_of_bounds": "This place is outside the market's area.",
    "err.out_of_range": "A value is out of range.",
    "err.outranked": "Suitable matches existed, but this round's best plan placed them elsewhere.",
    "err.report_resolved": "This report has been resolved already.",
    "err.required": "This is required.",
    "err.too_far_ahead": "That is too far ahead; choose a sooner time.",
    "err.too_large": "This is too large.",
    "err.too_long": "This text is too long.",
    "err.too_many": "Too many items.",
    "err.too_many_decimals": "At most 2 decimal places.",
    "err.too_short": "This is too short.",
    "err.unknown_field": "The request has a field that is not known.",
    "err.unknown_key_group": "Unknown key group.",
    "err.unknown_market": "Unknown market.",
    "err.unknown_skill": "Unknown skill.",
    "err.unknown_station": "This market has no such station.",
    "err.unknown_type": "Unknown message type.",
    "err.unknown_unit": "The wage unit must be hour, day or piece.",
    "err.wage_below_minimum": "Jobs within reach for your skills pay less than your minimum.",
    "err.wage_below_worker_minimum": "The wage is below the minimum of every suitable worker nearby.",
    "err.weak_pin": "Choose a PIN that is not one digit repeated.",
    "err.pin_change_required": "Choose a new PIN first.",
    "err.wrong_role": "This account cannot do this.",
    "err.worker_offline": "You are not checked in at a market.",
    "err.worker_available": "You are waiting for work and hold none yet.",
    "err.worker_offered": "You hold an offer: answer it first.",
    "err.worker_assigned": "You have already taken work.",
    "err.bad_certificate_number": "The certificate number is not valid; check it against the certificate.",
    "err.bad_cursor": "The cursor is not valid.",
    "err.bad_limit": "The page size is not valid.",
    "err.bad_platform_id": "The platform id is not valid.",
    "err.bad_signature": "The request's signature is not valid.",
    "err.bad_sm4_key": "The SM4 key is not valid.",
    "err.bad_state": "That state is not valid here.",
    "err.bad_version": "The version is not valid.",
    "err.certificate_expired": "Your certificate has expired; renew it at the market desk to take this job.",
    "err.too_late_to_arrive": "It is too late to reach this job by its start; it goes to someone who can make it. This does not count against you: wait for your next offer.",
    "err.job_closed": "This job is closed and can no longer change.",
    "err.job_committed": "Someone has already been offered or hired; this can no longer change.",
    "err.market_fixed": "A job's market cannot change.",
    "err.no_reach": "Keep at least one distance limit (minutes or km).",
    "err.no_such_certificate": "No such certificate.",
    "err.phone_in_use": "This phone number belongs to another business.",
    "err.platform_exists": "This platform exists already.",
    "err.replayed_nonce": "This request was seen already (nonce reused).",
    "err.stale_request": "The request's timestamp is too old or too new.",
    "err.stale_version": "This version is older than the one already received.",
    "err.unknown_platform": "Unknown platform.",
    "err.version_reused": "The same version arrived with a different body.",
    "err.whatif_running": "A what-if is already running for this market; wait for it to finish.",
    "err.binary_frame": "Only text messages are accepted.",
    "err.too_deep": "The request nests too deeply.",
  },
});

// A calendar day in full, for what is printed and kept (the kiosk's slip says the date, not
// "today"): 2026年11月23日 星期一 / Mon 23 Nov 2026.
const WEEKDAYS = {
  zh: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
  en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
};
export function fmtDay(iso) {
  if (!iso) return "";
  const p = partsIn(new Date(iso));
  const weekday = WEEKDAYS[current][new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()];
  return current === "zh"
    ? `${p.year}年${p.month}月${p.day}日 ${weekday}`
    : `${weekday} ${p.day} ${MONTHS_EN[p.month - 1]} ${p.year}`;
}
