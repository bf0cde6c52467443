// The worker's phone page: OTP sign-in, profile, check in with the phone's location, timed
// offers with sound and vibration, and the jobs taken with their site QR code.

import {
  t, addStrings, fmtMoney, fmtWhen, fmtHours, pick,
  fmtDuration, lang,
} from "./i18n.js";
import {
  api, showError, showNotice, clearFieldErrors, h, icon,
  insertQr,
} from "./client.js";
import { PhoneApp } from "./phone_app.js";
import { canScan, readQr } from "./scan.js";
import { skillPicker } from "./skillpicker.js";
import { checkIdNumber } from "./codes.js";
import { ratingForm, confirmDialog, blockOther, blockedBadge, cancelAssignment, lifecycleError, EMPLOYER_TAGS } from "./after.js";
import { offerFacts, offerWhy, secondsLeft, chime, speak, offerSpeech } from "./offer.js";
import { certificatePanel } from "./certs.js";

addStrings({
  zh: {
    "w.title": "零工市场 · 工人",
    "w.heading": "零工市场 · 找活",
    "w.tabs": "页面",
    "w.tab.work": "找活",
    "w.tab.jobs": "我的活",
    "w.tab.profile": "资料",
    "w.jobs": "我接的活",
    "w.jobs.none": "还没有接活。签到后有合适的活会马上通知您。",
    "w.profile": "我的资料",
    "w.name": "姓名",
    "w.id": "身份证号（可以以后再填）",
    "w.id.ok": "✓ 身份证号正确",
    "w.id.bad": "✕ 身份证号不对",
    "w.skills": "会做的活（可多选）",
    "w.minwage": "最低工钱",
    "w.minwage.amount": "金额（元）",
    "w.minwage.unit": "按什么算",
    "w.travel": "最远去多远（路上时间）",
    "w.travel.any": "不限（按市场规定）",
    "w.travel.minutes": "最多 {n} 分钟",
    "w.per.day": "元/天",
    "w.per.hour": "元/小时",
    "w.save": "保存",
    "w.saved": "已保存。",
    "w.signout": "退出登录",
    "w.status.offline": "您还没有签到",
    "w.status.available": "已签到，等了 {waited}",
    "w.status.offered": "有一份活等您决定",
    "w.status.assigned": "您已接活",
    "w.status.done": "上一份活已经结束了",
    "w.asg.code": "签到码（老板扫不了码时念给他输入）：",
    "w.need.profile": "先填好资料（姓名、会做的活、最低工钱）才能签到。",
    "w.checkin.here": "用我现在的位置签到",
    "w.checkin.locating": "正在获取位置…",
    "w.checkin.station": "在「{name}」签到",
    "w.checkin.noloc": "拿不到位置。可以选一个服务站签到：",
    "w.checkout": "签退",
    "w.checkedin": "已签到，有活会马上通知您。",
    "w.checkedout": "已签退。",
    "w.offer.new": "新的工作邀请",
    "w.offer.late": "时间过了，不过还有空位，现在还能接（先到先得）",
    "w.accept": "接这个活",
    "w.decline": "不要",
    "w.why": "为什么派给我？",
    "w.accepted": "接活成功！到了工地给老板扫二维码签到。",
    "w.declined": "已拒绝。",
    "w.offer.gone": "这份邀请已经结束（{reason}）。",
    "w.reason.expired": "超时",
    "w.reason.withdrawn": "老板取消",
    "w.reason.declined": "已拒绝",
    "w.reason.accepted": "已接受",
    "w.claim.title": "可以抢的活",
    "w.claim.none": "现在没有可抢的活。",
    "w.claim": "抢这个活",
    "w.claim.slots": "还差 {n} 人",
    "w.claimed": "抢到了！到“我的活”看签到码。",
    "w.paid": "我已收到工钱",
    "w.paid.title": "确认已收到工钱？",
    "w.paid.text": "「{title}」：{pay}。确认后这单就结清了。",
    "w.paid.done": "已确认收到工钱。",
    "w.rate": "给老板打分",
    "w.rated": "已评价",
    "w.report": "举报这个招工",
    "w.report.title": "举报这个招工",
    "w.report.reason": "什么问题？",
    "w.report.fake": "虚假招聘",
    "w.report.not_as_described": "和说的不一样",
    "w.report.unpaid": "不给工钱",
    "w.report.no_show": "到了现场没人开工（这份活取消，不算您爽约）",
    "w.nobody": "到了现场没人开工？",
    "w.site.code": "工地签到码（老板手机上的二维码）",
    "w.site.checkin": "到岗签到",
    "w.site.scan": "扫老板的码",
    "w.site.none": "没扫到二维码，请输入老板手机上显示的 6 位数字。",
    "w.site.done": "已签到，开工顺利！",
    "w.site.bad": "签到码不对或已过期，请再看一下老板手机上的码。",
    "w.report.send": "提交举报",
    "w.report.cancel": "不举报了",
    "w.report.done": "已举报，市场工作人员会处理。",
    "w.reported": "已举报",
    "w.asg.qr": "工地签到二维码",
    "w.asg.boss": "老板：{name}，电话 {phone}",
    "w.cancelled": "您接的一份活被取消了。",
    "w.market": "市场",
  },
  en: {
    "w.title": "Gig market · worker",
    "w.heading": "Gig market · find work",
    "w.tabs": "Sections",
    "w.tab.work": "Work",
    "w.tab.jobs": "My jobs",
    "w.tab.profile": "Profile",
    "w.jobs": "My jobs",
    "w.jobs.none": "No jobs yet. Check in and you will be told as soon as one fits.",
    "w.profile": "My profile",
    "w.name": "Name",
    "w.id": "ID card number (you can add it later)",
    "w.id.ok": "✓ ID number is valid",
    "w.id.bad": "✕ ID number is not valid",
    "w.skills": "Work you can do (choose any)",
    "w.minwage": "Lowest pay",
    "w.minwage.amount": "Amount (yuan)",
    "w.minwage.unit": "Per",
    "w.travel": "How far you travel at most (time on the way)",
    "w.travel.any": "Any (the market's limit)",
    "w.travel.minutes": "Up to {n} min",
    "w.per.day": "yuan/day",
    "w.per.hour": "yuan/hour",
    "w.save": "Save",
    "w.saved": "Saved.",
    "w.signout": "Sign out",
    "w.status.offline": "You are not checked in",
    "w.status.available": "Checked in, waiting {waited}",
    "w.status.offered": "An offer is waiting for you",
    "w.status.assigned": "You have a job",
    "w.status.done": "Your last job is over",
    "w.asg.code": "Check-in code (read it out if the employer cannot scan):",
    "w.need.profile": "Fill in your profile (name, work you can do, lowest pay) before checking in.",
    "w.checkin.here": "Check in where I am",
    "w.checkin.locating": "Finding your location…",
    "w.checkin.station": "Check in at {name}",
    "w.checkin.noloc": "Could not get your location. Check in at a station instead:",
    "w.checkout": "Check out",
    "w.checkedin": "Checked in. You will be told as soon as work fits.",
    "w.checkedout": "Checked out.",
    "w.offer.new": "New job offer",
    "w.offer.late": "Time ran out, but a place is still free: you can still take it (first come, first served)",
    "w.accept": "Take this job",
    "w.decline": "No",
    "w.why": "Why me?",
    "w.accepted": "You have the job! Let the employer scan your QR at the site.",
    "w.declined": "Declined.",
    "w.offer.gone": "This offer has ended ({reason}).",
    "w.reason.expired": "time ran out",
    "w.reason.withdrawn": "withdrawn by the employer",
    "w.reason.declined": "declined",
    "w.reason.accepted": "accepted",
    "w.claim.title": "Jobs you can claim",
    "w.claim.none": "No jobs to claim right now.",
    "w.claim": "Claim this job",
    "w.claim.slots": "{n} more needed",
    "w.claimed": "It is yours! See My jobs for the check-in code.",
    "w.paid": "I have been paid",
    "w.paid.title": "Confirm you were paid?",
    "w.paid.text": "“{title}”: {pay}. This closes the job.",
    "w.paid.done": "Pay confirmed.",
    "w.rate": "Rate the employer",
    "w.rated": "Rated",
    "w.report": "Report this job",
    "w.report.title": "Report this job",
    "w.report.reason": "What is wrong?",
    "w.report.fake": "Fake job",
    "w.report.not_as_described": "Not as described",
    "w.report.unpaid": "Not paid",
    "w.report.no_show": "Nobody there to start the work (the job is called off, not held against you)",
    "w.nobody": "Nobody there to start the work?",
    "w.site.code": "The site's check-in code (the QR on the boss's phone)",
    "w.site.checkin": "I'm here: check in",
    "w.site.scan": "Scan the boss's code",
    "w.site.none": "No QR code seen; type the 6 digits shown on the boss's phone.",
    "w.site.done": "Checked in. Have a good day's work!",
    "w.site.bad": "That check-in code is wrong or expired; look at the boss's phone again.",
    "w.report.send": "Send report",
    "w.report.cancel": "Don't report",
    "w.report.done": "Reported; the market staff will look into it.",
    "w.reported": "Reported",
    "w.asg.qr": "Site check-in QR code",
    "w.asg.boss": "Employer: {name}, phone {phone}",
    "w.cancelled": "One of your jobs was cancelled.",
    "w.market": "Market",
  },
});

const $ = (id) => document.getElementById(id);
const state = {
  session: null, me: null, live: null, market: null, cat: null, offers: [], assignments: [],
  why: null, whyAt: 0, claimable: [], rated: new Set(), reported: new Set(), blocked: new Set(), view: "work", skills: new Set(), locating: false, noLocation: false,
};

const app = new PhoneApp({
  role: "worker",
  views: ["work", "jobs", "profile"],
  state,
  load: loadAll,
  reload: loadAll,
  onMessage: (msg) => onLive(msg),
  firstView: () => (!state.me.name || !(state.me.skills || []).length ? "profile" : "work"),
  render: () => render(),
});

function wirePage() {
  $("profile-form").addEventListener("submit", saveProfile);
  $("p-id").addEventListener("input", renderIdCheck);
  setInterval(tick, 1000);
  setInterval(() => { if (state.session && state.view === "work") { refreshWhy(); refreshClaimable(); } }, 15000);
}

/** Offers pushed or closed over the socket so far: a reload whose answers were on the way
 * meanwhile may predate them. */
let offerChanges = 0;

async function loadAll(again = 3) {
  const token = state.session.token;
  const seen = offerChanges;
  const [me, offers, assignments] = await Promise.all([
    api("GET", "/me", { token }),
    api("GET", "/me/offers", { token }),
    api("GET", "/me/assignments", { token }),
  ]);
  // An offer came or went while these were on the way: their answer may be older than it (an
  // offer pushed just after GET /me/offers was answered would vanish from the screen until
  // the next reload). Ask again rather than overwrite the newer state.
  if (offerChanges !== seen && again > 0) return loadAll(again - 1);
  state.me = me;
  state.offers = offers.filter((o) => o.state === "pending" || (o.state === "expired" && o.take_until));
  state.assignments = assignments;
  if (me.market_id && state.cat) state.market = state.cat.markets.find((m) => m.id === me.market_id) || state.market;
  state.skills = new Set(me.skills || []);
  await Promise.all([refreshWhy(), refreshClaimable()]);
  render();
}

/** Claimable jobs (抢单) are listed only while checked in at the market. */
async function refreshClaimable() {
  if (!state.me || !state.me.market_id || !["available", "offered"].includes(state.me.state)) { state.claimable = []; return; }
  try {
    const r = await api("GET", `/markets/${state.me.market_id}/claimable`, { token: state.session.token });
    state.claimable = r.jobs || [];
  } catch {
    state.claimable = [];
  }
  renderClaimable();
}

function renderClaimable() {
  const box = $("claimable");
  if (!box) return;
  if (!state.claimable.length) { box.replaceChildren(); box.hidden = true; return; }
  box.hidden = false;
  box.replaceChildren(h("h2", {}, t("w.claim.title")), ...state.claimable.map((j) => h("article", { class: "card claim-card", "data-claim": j.id },
    h("h3", {}, j.title),
    h("p", { class: "wage" }, fmtMoney(j.wage)),
    offerFacts(j, state.cat.skillByCode),
    h("p", { class: "small" }, t("w.claim.slots", { n: j.open_slots })),
    h("button", { type: "button", class: "btn btn-ok btn-block", onclick: (ev) => claim(j, ev.currentTarget) }, icon("✋"), t("w.claim")))));
}

async function claim(job, button) {
  button.disabled = true;
  try {
    const r = await api("POST", `/jobs/${job.id}/claim`, { token: state.session.token });
    state.assignments = [r.assignment, ...state.assignments.filter((a) => a.id !== r.assignment.id)];
    state.claimable = state.claimable.filter((j) => j.id !== job.id);
    showNotice(t("w.claimed"));
    app.go("jobs");
  } catch (err) {
    showError(err);
    refreshClaimable();
  } finally {
    button.disabled = false;
  }
}

async function refreshWhy() {
  // At work too: /me/why says until when (issue 10).
  if (!state.me || !["available", "offered", "assigned"].includes(state.me.state)) { state.why = null; return; }
  try {
    state.why = await api("GET", "/me/why", { token: state.session.token });
    state.whyAt = Date.now();
    renderStatus();
  } catch { /* shown again next time */ }
}

function render() {
  if (!state.me) return;
  renderOffers();
  renderStatus();
  renderClaimable();
  renderJobs();
  if (state.view === "profile") renderProfile();
}

// ---- work: offers and status ------------------------------------------------------------

// An offer that ran out may still be taken until take_until (issue 14, rule late_take_s).
const deadline = (o) => (o.state === "expired" ? o.take_until : o.expires_at);

function renderOffers() {
  const box = $("offers");
  const live = state.offers.filter((o) => deadline(o) && secondsLeft(deadline(o)) > 0);
  box.replaceChildren(...live.map((o) => h("article", { class: "card offer-card", "data-offer": o.id },
    o.state === "expired"
      ? h("p", { class: "badge offer-late" }, icon("⏰"), t("w.offer.late"))
      : h("p", { class: "badge badge-info" }, icon("🔔"), t("w.offer.new")),
    h("h2", {}, o.job.title),
    h("p", { class: "wage" }, fmtMoney(o.job.wage)),
    offerFacts(o.job, state.cat.skillByCode),
    h("div", { class: "offer-actions" },
      h("p", { class: "countdown", role: "timer", "data-expires": deadline(o) }),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn btn-ok", onclick: () => decide(o, true) }, icon("✓"), t("w.accept")),
        h("button", { type: "button", class: "btn btn-danger", onclick: () => decide(o, false) }, icon("✕"), t("w.decline")))),
    h("details", { ontoggle: (ev) => ev.target.open && loadWhy(o, ev.target) },
      h("summary", {}, t("w.why")), h("p", { class: "why-text" }, "…")))));
  tick();
}

async function loadWhy(offer, details) {
  try {
    offer.why = await offerWhy(offer.id, state.session.token);
    details.querySelector(".why-text").textContent = pick(offer.why) || "—";
  } catch (err) {
    showError(err);
  }
}

function renderStatus() {
  if (!state.me) return;
  const me = state.me;
  let waited = "";
  if (state.why && state.why.waited_s != null) waited = fmtDuration(state.why.waited_s + (Date.now() - state.whyAt) / 1000);
  // Truthful (issue 10): "assigned" with no live work left means the last job is over.
  const working = (state.assignments || []).some((a) => ["accepted", "checked_in"].includes(a.state));
  const settled = me.state === "assigned" && state.assignments && !working;
  $("status-title").textContent = settled ? t("w.status.done") : t(`w.status.${me.state}`, { waited });
  const why = $("status-why");
  const reason = state.why && pick(state.why.reason_text);
  why.hidden = !reason;
  if (reason) why.replaceChildren(icon("💡"), ` ${reason}`);
  const actions = [];
  const incomplete = !me.name || !(me.skills || []).length || !me.min_wage;
  if (me.state === "offline" || me.state === "assigned") {
    if (incomplete) {
      actions.push(h("p", {}, t("w.need.profile")));
      actions.push(h("button", { type: "button", class: "btn btn-primary", onclick: () => app.go("profile") }, t("w.tab.profile")));
    } else {
      actions.push(h("button", {
        type: "button", class: "btn btn-ok", disabled: state.locating, onclick: checkInHere,
      }, icon("📍"), state.locating ? t("w.checkin.locating") : t("w.checkin.here")));
      if (state.noLocation && state.market) {
        actions.push(h("p", {}, t("w.checkin.noloc")));
        for (const st of state.market.stations) {
          actions.push(h("button", { type: "button", class: "btn", onclick: () => checkIn({ station_id: st.id }) },
            icon("🏢"), t("w.checkin.station", { name: st.name })));
        }
      }
    }
  } else if (me.state === "available") {
    actions.push(h("button", { type: "button", class: "btn btn-danger", onclick: checkOut }, icon("⏹"), t("w.checkout")));
  }
  $("status-actions").replaceChildren(...actions);
}

function checkInHere() {
  if (!navigator.geolocation) { state.noLocation = true; renderStatus(); return; }
  state.locating = true;
  renderStatus();
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      state.locating = false;
      checkIn({ lat: pos.coords.latitude, lon: pos.coords.longitude });
    },
    () => {
      state.locating = false;
      state.noLocation = true;
      renderStatus();
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

async function checkIn(body) {
  try {
    const me = await api("POST", `/markets/${state.market.id}/checkin`, { token: state.session.token, body });
    state.me = { ...state.me, ...me };
    state.noLocation = false;
    showNotice(t("w.checkedin"));
    // A tap just happened: unlock audio so the offer chime can play later.
    chime();
    await Promise.all([refreshWhy(), refreshClaimable()]);
    render();
  } catch (err) {
    // Outside the market's bounds: offer the stations instead.
    if (err.field === "lat" || err.field === "lon") state.noLocation = true;
    showError(err);
    renderStatus();
  }
}

async function checkOut() {
  try {
    await api("POST", `/markets/${state.market.id}/checkout`, { token: state.session.token });
    state.me.state = "offline";
    state.why = null;
    showNotice(t("w.checkedout"));
    render();
  } catch (err) {
    showError(err);
  }
}

async function decide(offer, accept) {
  if (!accept && offer.state === "expired") {
    // Nothing to decline: it ran out already. Just put it away.
    state.offers = state.offers.filter((o) => o.id !== offer.id);
    render();
    return;
  }
  try {
    const r = await api("POST", `/offers/${offer.id}/${accept ? "accept" : "decline"}`, { token: state.session.token });
    state.offers = state.offers.filter((o) => o.id !== offer.id);
    if (accept) {
      state.assignments = [r.assignment, ...state.assignments.filter((a) => a.id !== r.assignment.id)];
      state.me.state = "assigned";
      showNotice(t("w.accepted"));
      app.go("jobs");
    } else {
      showNotice(t("w.declined"));
      render();
    }
  } catch (err) {
    showError(err);
    loadAll().catch(() => {});
  }
}

function onLive(msg) {
  if (msg.type === "offer" || msg.type === "offer_closed") offerChanges += 1;
  switch (msg.type) {
    case "offer": {
      const offer = { id: msg.offer_id, job_id: msg.job.id, state: "pending", expires_at: msg.expires_at, job: msg.job };
      state.offers = [offer, ...state.offers.filter((o) => o.id !== offer.id)];
      state.me.state = "offered";
      chime();
      if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 300]);
      if (document.hidden) document.title = `🔔 ${t("w.offer.new")}`;
      else speak(offerSpeech(msg.job));
      if (state.view !== "work") app.go("work");
      else render();
      break;
    }
    case "offer_closed": {
      const had = state.offers.find((o) => o.id === msg.offer_id);
      state.offers = state.offers.filter((o) => o.id !== msg.offer_id);
      if (msg.reason === "expired" && msg.take_until) {
        if (had) state.offers = [{ ...had, state: "expired", take_until: msg.take_until }, ...state.offers];
        // Dropped here already (the server closed it late): the list has it, with its job.
        else loadAll().catch(() => {});
        showNotice(t("w.offer.late"));
        if (state.me.state === "offered") state.me.state = "available";
      } else if (had && msg.reason !== "accepted") {
        showNotice(t("w.offer.gone", { reason: t(`w.reason.${msg.reason}`) }));
        if (state.me.state === "offered") state.me.state = "available";
      }
      render();
      break;
    }
    case "assignment":
      state.assignments = [msg.assignment, ...state.assignments.filter((a) => a.id !== msg.assignment.id)];
      if (["accepted", "checked_in"].includes(msg.assignment.state)) {
        state.me.state = "assigned";
        render();
      } else {
        // The work is over: the server may have put them back in the pool (issue 10).
        loadAll().catch(() => {});
      }
      break;
    case "job_cancelled":
      showNotice(t("w.cancelled"));
      loadAll().catch(() => {});
      break;
    default:
      break;
  }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) document.title = t("w.title");
});

function tick() {
  for (const el of document.querySelectorAll(".countdown[data-expires]")) {
    const left = secondsLeft(el.dataset.expires);
    el.dataset.urgent = left <= 10 ? "true" : "false";
    el.replaceChildren(icon("⏱"), ` ${t("offer.left", { s: left })}`);
    if (left <= 0) {
      // A pending one that ran out stays until the server says whether it may be taken late.
      state.offers = state.offers.filter((o) => deadline(o) !== el.dataset.expires
        || (o.state === "pending" && Date.now() - Date.parse(o.expires_at) < 5000));
      setTimeout(renderOffers, 0);
    }
  }
  if (state.view === "work" && state.me && state.me.state === "available" && state.why) {
    const waited = fmtDuration(state.why.waited_s + (Date.now() - state.whyAt) / 1000);
    $("status-title").textContent = t("w.status.available", { waited });
  }
}

// ---- my jobs --------------------------------------------------------------------------

// The list is redrawn only when what it shows changed: a live message or a reload that changes
// nothing on a card (the confirmation of pay echoed back, the reload after the work ends) must
// not wipe the stars and tags a worker is choosing on that card.
let jobsDrawn = "";

function renderJobs() {
  const box = $("assignments");
  const list = state.assignments;
  const drawn = JSON.stringify([list, [...state.rated], [...state.reported], [...state.blocked],
    list.map(awaitedInVain), lang()]);
  if (drawn === jobsDrawn) return;
  jobsDrawn = drawn;
  if (!list.length) {
    box.replaceChildren(h("p", { class: "card" }, t("w.jobs.none")));
    return;
  }
  box.replaceChildren(...list.map((a) => {
    const qr = h("div", { class: "qr" });
    if (["accepted", "checked_in"].includes(a.state)) insertQr(qr, a.qr_svg, t("w.asg.qr"));
    const boss = a.employer || {};
    return h("article", { class: "card job-card" },
      h("header", {}, h("h3", {}, a.job.title), h("span", { class: "badge badge-info" }, t(`asg.${a.state}`))),
      h("div", { class: "meta" },
        h("span", {}, icon("💴"), ` ${fmtMoney(a.wage || a.job.wage)}`),
        h("span", {}, icon("🕖"), ` ${fmtWhen(a.job.start_at)} · ${fmtHours(a.job.duration_hours)}`)),
      h("p", {}, icon("📍"), ` ${a.job.address}`),
      h("p", {}, icon("👤"), ` ${t("w.asg.boss", { name: [boss.org_name, boss.name].filter(Boolean).join(" · "), phone: boss.phone || "—" })}`),
      ["accepted", "checked_in"].includes(a.state) ? qr : null,
      a.state === "accepted" && a.code
        ? h("p", { class: "slip-code-line", "data-code": a.id }, t("w.asg.code"), " ", h("strong", { class: "mono" }, `${a.code.slice(0, 3)} ${a.code.slice(3)}`))
        : null,
      assignmentSteps(a));
  }));
}

function assignmentSteps(a) {
  const steps = [];
  if (["completed", "disputed"].includes(a.state)) {
    steps.push(h("button", { type: "button", class: "btn btn-ok btn-block", onclick: () => confirmPaid(a) }, icon("💴"), t("w.paid")));
  }
  if (["completed", "paid", "disputed"].includes(a.state)) {
    if (state.rated.has(a.id)) steps.push(h("p", { class: "badge badge-ok" }, icon("★"), t("w.rated")));
    else steps.push(h("h4", {}, t("w.rate")), ratingForm({ tags: EMPLOYER_TAGS, label: t("w.rate"), onRate: (r) => rateEmployer(a, r) }));
  }
  if (awaitedInVain(a) && !state.reported.has(a.job_id)) {
    // Standing at a locked gate: the way out is in plain sight, not behind "report".
    steps.push(h("button", { type: "button", class: "btn btn-primary btn-block", "data-nobody": a.id, onclick: () => report(a) }, icon("🚪"), t("w.nobody")));
  }
  if (a.state === "accepted") steps.push(siteCheckin(a));
  if (a.state === "accepted") {
    steps.push(h("button", { type: "button", class: "btn btn-danger btn-block", "data-cancel": a.id, onclick: (ev) => cancelMine(a, ev.currentTarget) }, icon("✕"), t("aa.cancel")));
  }
  const row = [];
  if (state.reported.has(a.job_id)) row.push(h("span", { class: "badge badge-warn" }, t("w.reported")));
  else row.push(h("button", { type: "button", class: "btn btn-quiet", onclick: () => report(a) }, icon("⚑"), t("w.report")));
  const bossId = (a.employer || {}).id || a.employer_id;
  if (bossId && state.blocked.has(bossId)) row.push(blockedBadge());
  else if (bossId) row.push(h("button", { type: "button", class: "btn btn-quiet", onclick: () => blockBoss(bossId) }, icon("⛔"), t("aa.block.employer")));
  steps.push(h("div", { class: "btn-row" }, row));
  return h("div", { class: "asg-steps" }, steps);
}

/** At the site: the worker reads the code the boss's phone shows (or types it) to check in.
 * The other way round, the boss scans the QR on this card. */
function siteCheckin(a) {
  const input = h("input", { id: `site-${a.id}`, name: "code", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "site-checkin", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); checkInAtSite(a, input.value.trim(), form); } },
    h("div", { class: "field" }, h("label", { for: input.id }, t("w.site.code")), input),
    h("div", { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn-ok" }, icon("✓"), t("w.site.checkin")),
      canScan()
        ? h("button", { type: "button", class: "btn", onclick: async () => {
          const code = await readQr();
          if (!code) { showNotice(t("w.site.none")); return; }
          input.value = code;
          checkInAtSite(a, code, form);
        } }, icon("📷"), t("w.site.scan"))
        : null));
  return form;
}

async function checkInAtSite(a, code, form) {
  clearFieldErrors(form);
  try {
    const r = await api("POST", `/assignments/${a.id}/checkin`, { token: state.session.token, body: { code } });
    if (r && r.assignment) replaceAssignment(r.assignment);
    showNotice(t("w.site.done"));
    renderJobs();
  } catch (err) {
    showError(lifecycleError(err, "w.site.bad"), form);
  }
}

function replaceAssignment(a) {
  state.assignments = state.assignments.map((x) => (x.id === a.id ? a : x));
}

async function cancelMine(a, button) {
  button.disabled = true;
  try {
    const rules = (state.market && state.market.rules) || {};
    const done = await cancelAssignment(state.session.token, a, rules.late_cancel_hours);
    if (done) replaceAssignment(done);
    // The worker may be waiting for work again, and a refusal means this copy was stale.
    await loadAll().catch(() => {});
  } finally {
    button.disabled = false;
  }
  renderJobs();
}

async function blockBoss(bossId) {
  if (await blockOther(state.session.token, { employer_id: bossId })) {
    state.blocked.add(bossId);
    renderJobs();
  }
}

async function confirmPaid(a) {
  const ok = await confirmDialog({
    title: t("w.paid.title"), text: t("w.paid.text", { title: a.job.title, pay: fmtMoney(a.wage || a.job.wage) }),
    yes: t("w.paid"), danger: false,
  });
  if (!ok) return;
  try {
    const r = await api("POST", `/assignments/${a.id}/paid`, { token: state.session.token });
    if (r && r.assignment) replaceAssignment(r.assignment);
    else await loadAll();
    showNotice(t("w.paid.done"));
    renderJobs();
  } catch (err) {
    showError(err);
  }
}

async function rateEmployer(a, r) {
  try {
    await api("POST", `/assignments/${a.id}/rate`, { token: state.session.token, body: r });
    state.rated.add(a.id);
    showNotice(t("aa.rated"));
  } catch (err) {
    if (err.code === "already_rated") state.rated.add(a.id);
    showError(err);
  }
  renderJobs();
}

/** Work not yet begun whose start (plus the market's grace) has passed. */
function awaitedInVain(a) {
  return a.state === "accepted" && a.absent_after && Date.now() >= Date.parse(a.absent_after);
}

function report(a) {
  // Standing at a locked gate is the likeliest reason to report at that hour: it comes first.
  const reasons = [...(awaitedInVain(a) ? ["no_show"] : []), "fake", "not_as_described", "unpaid"];
  const note = h("textarea", { id: "report-note", name: "note", maxlength: "200" });
  const dlg = h("dialog", { "aria-labelledby": "report-title" },
    h("form", { method: "dialog" },
      h("h2", { id: "report-title" }, t("w.report.title")),
      h("p", {}, a.job.title),
      h("fieldset", {}, h("legend", {}, t("w.report.reason")),
        reasons.map((r, i) => h("label", { class: "choice-line" },
          h("input", { type: "radio", name: "reason", value: r, checked: i === 0 }), ` ${t(`w.report.${r}`)}`))),
      h("div", { class: "field" }, h("label", { for: "report-note" }, t("aa.note")), note),
      h("div", { class: "btn-row" },
        h("button", { value: "no", class: "btn" }, t("w.report.cancel")),
        h("button", { value: "yes", class: "btn btn-danger" }, t("w.report.send")))));
  dlg.addEventListener("close", async () => {
    const reason = (dlg.querySelector("input[name=reason]:checked") || {}).value;
    const yes = dlg.returnValue === "yes";
    dlg.remove();
    if (!yes || !reason) return;
    const body = { reason };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      await api("POST", `/jobs/${a.job_id}/report`, { token: state.session.token, body });
      state.reported.add(a.job_id);
      showNotice(t("w.report.done"));
    } catch (err) {
      if (err.status === 409) state.reported.add(a.job_id);
      showError(err);
    }
    renderJobs();
  });
  document.body.append(dlg);
  dlg.showModal();
}

// ---- profile ------------------------------------------------------------------------

let picker = null;

function renderProfile() {
  const me = state.me;
  const form = $("profile-form");
  if (!form.dataset.filled) {
    $("p-name").value = me.name || "";
    $("p-wage").value = me.min_wage ? me.min_wage.amount : 200;
    $("p-unit").value = me.min_wage ? me.min_wage.unit : "day";
    form.dataset.filled = "1";
  }
  renderTravel(me);
  const skills = state.cat.skills.filter((s) => !state.market || state.market.skills.includes(s.code));
  if (!picker || picker.selected !== state.skills) {
    picker = skillPicker($("p-skills"), skills, state.skills);
    picker.selected = state.skills;
  }
  renderCerts(skills);
}

/** The own longest trip: its choices in the page's language, keeping what is chosen. */
function renderTravel(me) {
  const select = $("p-travel");
  const chosen = select.dataset.drawn ? select.value : String(me.max_travel_minutes ?? "");
  const steps = [10, 15, 20, 30, 45, 60];
  if (chosen && !steps.includes(Number(chosen))) steps.push(Number(chosen));
  select.replaceChildren(
    h("option", { value: "" }, t("w.travel.any")),
    ...steps.sort((a, b) => a - b).map((n) => h("option", { value: String(n) }, t("w.travel.minutes", { n }))),
  );
  select.value = chosen;
  select.dataset.drawn = "1";
}

// The panel is redrawn only when what it shows changed: a redraw for every live message would
// wipe a card number the worker is typing.
let certsDrawn = "";

function renderCerts(skills) {
  const me = state.me;
  const drawn = JSON.stringify([me.certificates, me.name, me.skills, me.min_wage, skills.map((s) => s.code), lang()]);
  if (drawn === certsDrawn) return;
  certsDrawn = drawn;
  certificatePanel($("certs"), {
    token: state.session.token, me, skills,
    // The saved profile, not the form's unsaved edits: declaring a card changes nothing else.
    profile: () => ({ name: me.name, skills: me.skills, ...(me.min_wage ? { min_wage: me.min_wage } : {}) }),
    onSaved: (saved) => { state.me = saved; renderCerts(skills); },
  });
}

function renderIdCheck() {
  const input = $("p-id");
  const out = $("p-id-check");
  const v = input.value.trim();
  if (!v) { out.textContent = ""; return; }
  const s = checkIdNumber(v);
  out.dataset.state = s === "ok" ? "ok" : s === "short" ? "typing" : "bad";
  out.textContent = s === "ok" ? t("w.id.ok") : s === "short" ? `${v.length}/18` : t("w.id.bad");
}

async function saveProfile(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearFieldErrors(form);
  const body = {
    name: $("p-name").value.trim(),
    skills: [...state.skills],
    min_wage: { amount: Number($("p-wage").value), unit: $("p-unit").value },
    max_travel_minutes: $("p-travel").value ? Number($("p-travel").value) : null,
  };
  const id = $("p-id").value.trim().toUpperCase();
  if (id) body.id_number = id;
  try {
    state.me = await api("PUT", "/me/profile", { token: state.session.token, body });
    $("p-id").value = "";
    renderIdCheck();
    showNotice(t("w.saved"));
    app.go("work");
  } catch (err) {
    showError(err, form);
  }
}

app.open(wirePage);
