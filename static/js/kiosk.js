// The self-service kiosk (自助服务机): portrait touch screen in the market hall, shared by
// everyone. A worker signs in with the ID card and a PIN; the worker's token lives only in
// memory and is dropped after inactivity, so the next person never finds someone signed in.

import {
  t, addStrings, applyI18n, mountLangSwitch, onLangChange, setLang, fmtMoney, fmtWhen,
  fmtHours, fmtDuration, pick, fmtNumber, fmtDay, lang, timeZone,
} from "./i18n.js";
import {
  api, ApiError, Live, loadCatalogue, showError, showNotice, clearAlert, clearFieldErrors,
  setFieldError, h, icon, insertQr, serverNow,
} from "./client.js";
import { checkIdNumber, checkPhone } from "./codes.js";
import { namePad } from "./namepad.js";
import { readCard, isReaderLine } from "./idcard.js";
import { skillPicker } from "./skillpicker.js";
import {
  offerFacts, offerSpeech, offerWhy, whyLine, speak, stopSpeaking, secondsLeft, chime,
} from "./offer.js";
import {
  ratingForm, confirmDialog, cancelAssignment, blockOther, blockedBadge, EMPLOYER_TAGS,
} from "./after.js";
import { certificatePanel } from "./certs.js";

addStrings({
  zh: {
    "k.aa.paid": "确认收到工钱：{title}",
    "k.aa.paid.title": "确认已收到工钱？",
    "k.aa.paid.text": "「{title}」：{pay}",
    "k.aa.paid.done": "已确认收到工钱。",
    "k.aa.rate": "给老板打分：{title}",
    "k.aa.claims": "可以抢的活",
    "k.aa.claim": "抢这个活：{title}",
    "k.aa.claimed": "抢到了！",
    "k.aa.cancel": "不去了，取消：{title}",
    "k.aa.report": "举报这个招工",
    "k.aa.report.title": "这个招工有什么问题？",
    "k.aa.report.fake": "虚假招聘",
    "k.aa.report.not_as_described": "和说的不一样",
    "k.aa.report.unpaid": "不给工钱",
    "k.aa.report.no_show": "到了现场没人开工",
    "k.aa.report.back": "不举报了",
    "k.aa.report.confirm": "确定举报「{title}」：{reason}？",
    "k.aa.report.text": "市场工作人员会查看并处理。",
    "k.aa.report.send": "提交举报",
    "k.aa.report.done": "已举报，市场工作人员会处理。",
    "k.aa.reported": "已举报",
    "k.title": "零工市场自助服务机",
    "k.heading": "零工市场 · 自助找活",
    "k.setup.title": "这台机器还没有设置",
    "k.setup.text": "请市场工作人员用设备链接打开本页。",
    "k.idle.title": "找活干，点这里",
    "k.idle.cta": "开始",
    "k.idle.help": "不会用？请找工作人员帮忙",
    "k.id.title": "请把身份证放在读卡器上",
    "k.id.lead": "或者用下面的数字键输入身份证号",
    "k.id.label": "身份证号",
    "k.id.short": "已输入 {n} 位，共 18 位",
    "k.id.ok": "✓ 身份证号正确",
    "k.id.bad": "✕ 身份证号不对，请检查",
    "k.back": "返回",
    "k.next": "下一步",
    "k.cancel": "不登记了",
    "k.save": "保存",
    "k.pin.title": "请输入您的密码",
    "k.pin.lead": "登记时设的 4 到 6 位数字",
    "k.pin.label": "密码",
    "k.pin.short": "密码是 4 到 6 位数字",
    "k.signin": "登录",
    "k.reg.title": "第一次来，请登记",
    "k.reg.lead": "只要登记一次，以后刷身份证就能找活。",
    "k.reg.name": "姓名",
    "k.reg.phone": "手机号（11 位）",
    "k.reg.pin": "设一个密码（4 到 6 位数字，要记住）",
    "k.reg.submit": "登记",
    "k.reg.name.missing": "请写上姓名",
    "k.reg.phone.bad": "手机号是 1 开头的 11 位数字",
    "k.skills.title": "您会做什么活？",
    "k.skills.lead": "点图标选，可以选好几样。再点一下取消。",
    "k.skills.none": "请至少选一样",
    "k.wage.title": "最少要多少工钱？",
    "k.wage.lead": "低于这个数的活不会派给您。",
    "k.wage.unit": "按天还是按小时",
    "k.wage.day": "按天算",
    "k.wage.hour": "按小时算",
    "k.wage.less": "少 10 元",
    "k.wage.more": "多 10 元",
    "k.wage.less.h": "少 1 元",
    "k.wage.more.h": "多 1 元",
    "k.wage.text": "最少 {money}",
    "k.travel.title": "最远愿意去多远？",
    "k.travel.any": "不限",
    "k.travel.minutes": "{n} 分钟",
    "k.hello": "{name}，您好！",
    "k.checkin": "签到找活",
    "k.to_wait": "看派工进度",
    "k.myjobs": "我接的活",
    "k.edit": "改技能和工钱",
    "k.signout": "退出",
    "k.wait.title": "已签到，正在帮您找活",
    "k.wait.waited": "已经等了",
    "k.wait.tip": "有活时这里会响铃并念出来。可以先去休息，回来刷身份证就能看到。",
    "k.wait.checking": "正在查看有没有合适的活…",
    "k.leave": "先离开（保持签到）",
    "k.wait.home": "我的证书和接的活",
    "k.left": "您还在签到名单上。有活时回来刷身份证查看。",
    "k.checkout": "签退，今天不找了",
    "k.checkedout": "已签退。欢迎下次再来！",
    "k.accept": "接这个活",
    "k.decline": "不要",
    "k.repeat": "再听一遍",
    "k.offer.new": "有活了！",
    "k.offer.late": "时间过了，不过这份活还有空位，现在还能接（先到先得）。",
    "k.offer.gone.expired": "刚才那份活时间到了，没有接。继续帮您找。",
    "k.offer.gone.withdrawn": "刚才那份活已经被老板取消了。继续帮您找。",
    "k.offer.gone.declined": "您没有接刚才那份活。继续帮您找。",
    "k.slip.title": "接活成功！请拿好派工单",
    "k.slip.head": "派工单",
    "k.slip.worker": "工人",
    "k.slip.job": "工作",
    "k.slip.address": "地址",
    "k.slip.start": "开始",
    "k.slip.pay": "工钱",
    "k.slip.employer": "老板",
    "k.slip.phone": "老板电话",
    "k.slip.qr": "到了工地，给老板扫这个码签到",
    "k.slip.qr.label": "工地签到二维码",
    "k.print": "打印派工单",
    "k.printed": "已打印，请从下面出纸口取走。",
    "k.done": "好了，退出",
    "k.jobs.none": "您现在没有接的活。",
    "k.jobs.print": "看派工单",
    "k.idle.warn": "没人操作，{s} 秒后自动退出",
    "k.idle.stay": "我还在",
    "k.state.offline": "您现在没有签到。",
    "k.state.available": "您已签到，正在等活。",
    "k.state.offered": "有一份活在等您决定！",
    "k.state.assigned": "您已接了活。",
    "k.state.done": "上一份活已经结束了。",
    "k.delete": "删除",
    "k.idle.first": "第一次来？先登记",
    "k.privacy.title": "登记前请看：我们怎样用您的信息",
    "k.privacy.what": "收集什么：身份证号、姓名、您设的密码；手机号可以不填。",
    "k.privacy.why": "为什么：确认是您本人，给您派活、发工钱记录，向人社部门报就业统计。身份证号属于敏感个人信息，只用于这些。",
    "k.privacy.keep": "存多久：身份证号加密保存，在您使用本市场服务期间保留；不再使用时可以到服务台申请删除。",
    "k.privacy.who": "谁能看到：只有您本人和本市场工作人员；老板只看到您的姓（如“王*”）；屏幕和单子上身份证号只显示头尾几位。",
    "k.privacy.withdraw": "不想同意或以后想撤回：可以不登记，请工作人员帮您找活；登记后想撤回，到服务台申请，工作人员停用您的账号并删除您的信息。",
    "k.privacy.no": "不同意，返回",
    "k.privacy.yes": "我同意，开始登记",
    "k.reg.phone.help": "没有手机可以不填",
    "k.newpin.title": "请设一个新密码",
    "k.newpin.lead": "工作人员给您的是临时密码，请换一个自己记得住的 4 到 6 位数字。",
    "k.newpin.label": "新密码",
    "k.newpin.done": "新密码已保存，请记住。",
    "k.mute": "🔊 声音开",
    "k.muted": "🔇 声音关",
    "k.mute.label": "朗读开关",
    "k.slip.date": "日期",
    "k.slip.code": "签到码",
    "k.slip.code.help": "老板扫不了码时，念这 6 位数字给老板输入",
    "k.say.privacy": "第一次登记。请先看屏幕上的说明：我们只为派活和就业统计使用您的身份证号，加密保存。同意的话，请点绿色的我同意。",
    "k.say.id": "请把身份证放在读卡器上，或者用数字键输入身份证号。",
    "k.say.pin": "请输入您的密码，然后点登录。",
    "k.say.register": "请核对姓名，可以点下面的字修改。手机号没有可以不填。再设一个四到六位数字的密码，然后点登记。",
    "k.say.newpin": "请设一个新密码，四到六位数字。",
    "k.say.skills": "您会做什么活？点图标选，可以选好几样。",
    "k.say.wage": "最少要多少工钱？点加号减号，或者点下面的数。再选最远愿意去多远，不限也可以。",
    "k.say.home": "{name}，您好。点签到找活，开始等活。",
    "k.say.wait": "已签到，正在帮您找活。有活时这里会响铃并念出来。",
    "k.say.jobs": "这是您接的活。",
    "k.say.slip": "接活成功。{date}{time}开工，地点：{address}。签到码：{code}。请拿好派工单。",
    "k.say.idle": "没人操作，马上自动退出。还在的话请点我还在。",
  },
  en: {
    "k.aa.paid": "I was paid: {title}",
    "k.aa.paid.title": "Confirm you were paid?",
    "k.aa.paid.text": "“{title}”: {pay}",
    "k.aa.paid.done": "Pay confirmed.",
    "k.aa.rate": "Rate the employer: {title}",
    "k.aa.claims": "Jobs you can claim",
    "k.aa.claim": "Claim: {title}",
    "k.aa.claimed": "It is yours!",
    "k.aa.cancel": "Not going: cancel {title}",
    "k.aa.report": "Report this job",
    "k.aa.report.title": "What is wrong with this job?",
    "k.aa.report.fake": "Fake job",
    "k.aa.report.not_as_described": "Not as described",
    "k.aa.report.unpaid": "Not paid",
    "k.aa.report.no_show": "Nobody there to start the work",
    "k.aa.report.back": "Don't report",
    "k.aa.report.confirm": "Report “{title}”: {reason}?",
    "k.aa.report.text": "The market staff will look into it.",
    "k.aa.report.send": "Send report",
    "k.aa.report.done": "Reported; the market staff will look into it.",
    "k.aa.reported": "Reported",
    "k.title": "Gig market self-service kiosk",
    "k.heading": "Gig market · find work",
    "k.setup.title": "This kiosk is not set up",
    "k.setup.text": "Market staff: open this page with the kiosk's device link.",
    "k.idle.title": "Looking for work? Touch here",
    "k.idle.cta": "Start",
    "k.idle.help": "Need help? Ask the market staff",
    "k.id.title": "Place your ID card on the reader",
    "k.id.lead": "Or type your ID number with the keys below",
    "k.id.label": "ID card number",
    "k.id.short": "{n} of 18 characters",
    "k.id.ok": "✓ ID number is valid",
    "k.id.bad": "✕ This ID number is not valid, please check",
    "k.back": "Back",
    "k.next": "Next",
    "k.cancel": "Cancel",
    "k.save": "Save",
    "k.pin.title": "Enter your PIN",
    "k.pin.lead": "The 4 to 6 digits you chose when registering",
    "k.pin.label": "PIN",
    "k.pin.short": "The PIN has 4 to 6 digits",
    "k.signin": "Sign in",
    "k.reg.title": "First time here? Register",
    "k.reg.lead": "Register once; afterwards your ID card is enough.",
    "k.reg.name": "Name",
    "k.reg.phone": "Mobile number (11 digits)",
    "k.reg.pin": "Choose a PIN (4 to 6 digits, remember it)",
    "k.reg.submit": "Register",
    "k.reg.name.missing": "Please enter your name",
    "k.reg.phone.bad": "A mobile number has 11 digits and starts with 1",
    "k.skills.title": "What work can you do?",
    "k.skills.lead": "Tap the pictures; you can choose several. Tap again to undo.",
    "k.skills.none": "Choose at least one",
    "k.wage.title": "What is the lowest pay you accept?",
    "k.travel.title": "How far will you travel at most?",
    "k.travel.any": "Any",
    "k.travel.minutes": "{n} min",
    "k.wage.lead": "You will not be offered work that pays less.",
    "k.wage.unit": "Per day or per hour",
    "k.wage.day": "Per day",
    "k.wage.hour": "Per hour",
    "k.wage.less": "10 yuan less",
    "k.wage.more": "10 yuan more",
    "k.wage.less.h": "1 yuan less",
    "k.wage.more.h": "1 yuan more",
    "k.wage.text": "At least {money}",
    "k.hello": "Hello, {name}!",
    "k.checkin": "Check in for work",
    "k.to_wait": "See my waiting status",
    "k.myjobs": "My jobs",
    "k.edit": "Change skills and pay",
    "k.signout": "Sign out",
    "k.wait.title": "Checked in. Finding work for you",
    "k.wait.waited": "Waiting for",
    "k.wait.tip": "When there is work, this screen rings and reads it out. You may step away; come back and scan your ID card to see it.",
    "k.wait.checking": "Looking for suitable work…",
    "k.leave": "Step away (stay checked in)",
    "k.wait.home": "My certificates and jobs",
    "k.left": "You are still checked in. Come back and scan your ID card to see offers.",
    "k.checkout": "Check out for today",
    "k.checkedout": "Checked out. See you next time!",
    "k.accept": "Take this job",
    "k.decline": "No",
    "k.repeat": "Read it again",
    "k.offer.new": "Work for you!",
    "k.offer.late": "Time ran out, but this job still has a place: you can still take it (first come, first served).",
    "k.offer.gone.expired": "Time ran out on that offer. Still looking for you.",
    "k.offer.gone.withdrawn": "The employer withdrew that job. Still looking for you.",
    "k.offer.gone.declined": "You said no to that job. Still looking for you.",
    "k.slip.title": "You have the job! Take your slip",
    "k.slip.head": "Job slip",
    "k.slip.worker": "Worker",
    "k.slip.job": "Job",
    "k.slip.address": "Address",
    "k.slip.start": "Starts",
    "k.slip.pay": "Pay",
    "k.slip.employer": "Employer",
    "k.slip.phone": "Employer's phone",
    "k.slip.qr": "At the site, let the employer scan this to check you in",
    "k.slip.qr.label": "Site check-in QR code",
    "k.print": "Print the slip",
    "k.printed": "Printed. Take it from the slot below.",
    "k.done": "Done, sign out",
    "k.jobs.none": "You have no jobs right now.",
    "k.jobs.print": "Show slip",
    "k.idle.warn": "Nobody is using the screen: signing out in {s} s",
    "k.idle.stay": "I'm still here",
    "k.state.offline": "You are not checked in.",
    "k.state.available": "You are checked in and waiting.",
    "k.state.offered": "An offer is waiting for you!",
    "k.state.assigned": "You have a job.",
    "k.state.done": "Your last job is over.",
    "k.delete": "Delete",
    "k.idle.first": "First time here? Register",
    "k.privacy.title": "Before you register: how we use your information",
    "k.privacy.what": "What we collect: your ID number, your name and the PIN you choose; a phone number is optional.",
    "k.privacy.why": "Why: to know it is you, to offer you work and keep the record of your pay, and for the employment statistics of the labour bureau. Your ID number is sensitive personal information and is used for nothing else.",
    "k.privacy.keep": "How long: the ID number is stored encrypted while you use this market's service; when you no longer do, ask the service desk to delete it.",
    "k.privacy.who": "Who sees it: only you and this market's staff; employers see only your surname (e.g. “Wang*”); screens and slips show only the first and last digits of the ID number.",
    "k.privacy.withdraw": "If you do not agree, or want to withdraw later: you need not register, and the staff will help you find work; after registering, ask the service desk and the staff close your account and delete your information.",
    "k.privacy.no": "I do not agree, go back",
    "k.privacy.yes": "I agree, register",
    "k.reg.phone.help": "You may leave this empty if you have no phone",
    "k.newpin.title": "Choose a new PIN",
    "k.newpin.lead": "The staff gave you a temporary PIN; choose 4 to 6 digits of your own that you will remember.",
    "k.newpin.label": "New PIN",
    "k.newpin.done": "Your new PIN is saved. Remember it.",
    "k.mute": "🔊 Sound on",
    "k.muted": "🔇 Sound off",
    "k.mute.label": "Read aloud",
    "k.slip.date": "Date",
    "k.slip.code": "Check-in code",
    "k.slip.code.help": "If the employer cannot scan, read these 6 digits out to type in",
    "k.say.privacy": "Registering for the first time. Please read the notice on the screen: we use your ID number only for work offers and employment statistics, and keep it encrypted. If you agree, tap the green button.",
    "k.say.id": "Place your ID card on the reader, or type your ID number with the keys.",
    "k.say.pin": "Enter your PIN, then tap Sign in.",
    "k.say.register": "Check your name; tap the characters below to correct it. A phone number is optional. Choose a PIN of 4 to 6 digits, then tap Register.",
    "k.say.newpin": "Choose a new PIN of 4 to 6 digits.",
    "k.say.skills": "What work can you do? Tap the pictures; you can choose several.",
    "k.say.wage": "What is the lowest pay you accept? Tap plus or minus, or one of the amounts. Then choose how far you will travel at most, or any.",
    "k.say.home": "Hello, {name}. Tap Check in to start waiting for work.",
    "k.say.wait": "You are checked in. When there is work, this screen rings and reads it out.",
    "k.say.jobs": "These are your jobs.",
    "k.say.slip": "You have the job. It starts {date} {time} at {address}. Check-in code: {code}. Take your slip.",
    "k.say.idle": "Nobody is using the screen; signing out soon. Tap I'm still here to stay.",
  },
});

// The privacy notice's version, recorded with each registration (change it with the text).
const PRIVACY_NOTICE = "kiosk-privacy-2026-11";
const MUTE_KEY = "gm.kiosk.mute";

// Inactivity limits: long enough to read, short enough that nobody is left signed in.
const IDLE_MS = { default: 60000, wait: 180000, slip: 60000, slipPrinted: 15000 };
const IDLE_WARN_MS = 10000;
const WHY_EVERY_MS = 10000;

const $ = (id) => document.getElementById(id);

const kiosk = {
  // What the ID screen is for now ("signin" or "register"), the ID number waiting for its
  // registration, the name the card reader gave, the privacy notice agreed to (one person's:
  // cleared at sign-out).
  mode: "signin",
  pendingId: null,
  readerName: null,
  consent: null,
  deviceToken: null,
  stationId: null,
  marketId: null,
  market: null,
  station: null,
  catalogue: null,
};

// Everything about the person at the screen; reset wholesale on sign-out.
let session = null;
let screen = "idle";
let lastTouch = Date.now();
let idleLimit = IDLE_MS.default;
let whyTimer = 0;

function freshSession(token, userId) {
  return {
    token, userId, me: null, live: null, offer: null, assignment: null,
    why: null, skills: new Set(), wage: { amount: 200, unit: "day" }, idNumber: "", registering: false,
  };
}

// ---- start-up -----------------------------------------------------------------

function readDeviceConfig() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get("kiosk_token");
  if (fromHash) {
    localStorage.setItem("gm.kiosk.token", fromHash);
    // The device token must not sit in the address bar for the next person to see.
    history.replaceState(null, "", location.pathname + location.search);
  }
  kiosk.deviceToken = localStorage.getItem("gm.kiosk.token");
  const station = new URLSearchParams(location.search).get("station");
  if (station) localStorage.setItem("gm.kiosk.station", station);
  kiosk.stationId = station || localStorage.getItem("gm.kiosk.station");
  // Station ids are each market's own: two markets may both have a "hall".
  const market = new URLSearchParams(location.search).get("market");
  if (market) localStorage.setItem("gm.kiosk.market", market);
  kiosk.marketId = market || localStorage.getItem("gm.kiosk.market");
}

// ---- speech on every step, with a mute switch remembered on this kiosk -------------------

const SPOKEN_STEPS = ["privacy", "id", "pin", "register", "newpin", "skills", "wage", "home", "wait", "jobs"];

function muted() { return localStorage.getItem(MUTE_KEY) === "1"; }

function renderMute() {
  const b = $("mute");
  b.textContent = t(muted() ? "k.muted" : "k.mute");
  b.setAttribute("aria-pressed", muted() ? "true" : "false");
  b.setAttribute("aria-label", t("k.mute.label"));
}

function say(text) {
  if (!muted() && text) speak(text);
}

function sayStep(name) {
  if (name === "slip") { saySlip(); return; }
  if (!SPOKEN_STEPS.includes(name)) return;
  const me = session && session.me;
  say(t(`k.say.${name}`, { name: (me && me.name) || "" }));
}

async function boot() {
  applyI18n();
  mountLangSwitch($("lang"));
  renderMute();
  onLangChange(renderMute);
  readDeviceConfig();
  wireKeypads();
  applyI18n();
  wireForms();
  wireButtons();
  for (const ev of ["pointerdown", "keydown", "touchstart"]) {
    document.addEventListener(ev, touched, { capture: true, passive: true });
  }
  onLangChange(() => renderScreen());
  if (!kiosk.deviceToken) {
    show("setup");
    return;
  }
  try {
    kiosk.catalogue = await loadCatalogue();
  } catch (err) {
    showError(err);
    setTimeout(boot, 5000);
    return;
  }
  const markets = kiosk.catalogue.markets;
  kiosk.market = markets.find((m) => m.id === kiosk.marketId)
    || markets.find((m) => m.stations.some((s) => s.id === kiosk.stationId)) || markets[0];
  kiosk.station = kiosk.market.stations.find((s) => s.id === kiosk.stationId) || kiosk.market.stations[0];
  kiosk.stationId = kiosk.station && kiosk.station.id;
  $("station-name").textContent = kiosk.station ? kiosk.station.name : kiosk.market.name;
  show("idle");
}

// ---- screens and inactivity -------------------------------------------------------

function show(name) {
  screen = name;
  for (const sec of document.querySelectorAll("main > section")) sec.hidden = sec.id !== `s-${name}`;
  idleLimit = IDLE_MS[name === "wait" ? "wait" : name === "slip" ? "slip" : "default"];
  lastTouch = Date.now();
  clearInterval(whyTimer);
  if (name === "wait") {
    refreshWhy();
    whyTimer = setInterval(refreshWhy, WHY_EVERY_MS);
  }
  renderScreen();
  sayStep(name);
  window.scrollTo(0, 0);
  const first = document.querySelector(`#s-${name} [autofocus], #s-${name} .k-input:not([readonly]), #s-${name} h2`);
  if (name === "id") $("id-number").focus();
  else if (name === "pin") $("pin").focus();
  else if (first && first.tagName === "H2") { first.tabIndex = -1; first.focus(); }
}

function renderScreen() {
  switch (screen) {
    case "home": renderHome(); loadAfter(); break;
    case "skills": renderSkills(); break;
    case "wage": renderWage(); break;
    case "wait": renderWait(); loadAfter(); break;
    case "offer": renderOffer(); break;
    case "slip": renderSlip(); break;
    case "jobs": renderJobs(); break;
    case "certs": renderCerts(); break;
    default: break;
  }
}

function touched() {
  lastTouch = Date.now();
  $("idle-warning").hidden = true;
}

function idleTick() {
  const idleFor = Date.now() - lastTouch;
  const quietScreens = ["idle", "setup"];
  // An offer has its own countdown; the kiosk must not sign out under it.
  if (quietScreens.includes(screen) || screen === "offer") {
    $("idle-warning").hidden = true;
    return;
  }
  const left = idleLimit - idleFor;
  if (left <= 0) {
    signOut();
    return;
  }
  if (left <= IDLE_WARN_MS) {
    if ($("idle-warning").hidden) say(t("k.say.idle"));
    $("idle-warning").hidden = false;
    $("idle-text").textContent = t("k.idle.warn", { s: Math.ceil(left / 1000) });
  } else {
    $("idle-warning").hidden = true;
  }
}

// ---- sign in, register, sign out ------------------------------------------------------

async function signOut({ notice } = {}) {
  const s = session;
  session = null;
  stopSpeaking();
  clearInterval(whyTimer);
  $("idle-warning").hidden = true;
  // The page says when the server has ended the session (data-signed-out), so whoever
  // watches the kiosk (a test, a support tool) waits for the fact, not for a guess.
  document.body.dataset.signedOut = "pending";
  Object.assign(kiosk, { mode: "signin", pendingId: null, readerName: null, consent: null });
  if (s && s.live) s.live.stop();
  for (const f of document.querySelectorAll("form")) { f.reset(); clearFieldErrors(f); }
  $("id-check").textContent = "";
  // The next person starts in Chinese whatever the last one chose.
  setLang("zh");
  clearAlert();
  show("idle");
  if (notice) showNotice(notice);
  if (s) {
    // Awaited, not fire-and-forget: the worker's token is dead on the server before the
    // kiosk reports itself signed out.
    try {
      await api("POST", "/auth/logout", { token: s.token });
    } catch (err) {
      // Already ended (401) or unreachable: the token is gone from this page either way.
    }
  }
  if (!session) document.body.dataset.signedOut = "done";
}

async function signedIn(result) {
  session = freshSession(result.token, result.user_id);
  // The last person's parting notice ("you are still checked in") is not this person's.
  clearAlert();
  await loadMe();
  // A PIN the desk reset: a new one first, before anything else (the server allows nothing
  // else on this session until then, so offers and the live channel wait too).
  if (result.must_change_pin) {
    show("newpin");
    return;
  }
  await carryOn();
}

function startLive() {
  const s = session;
  s.live = new Live({
    token: s.token,
    recipient: `worker.${s.userId}`,
    indicator: $("conn"),
    onMessage: onLive,
    onSnapshot: () => syncOffers(),
    onReady: () => syncOffers(),
    onAuthFailed: () => signOut(),
  });
  s.live.start();
}

/** After sign-in: profile first if it is empty, an offer if one waits, else home or waiting. */
async function carryOn() {
  if (!session.live) startLive();
  const me = session.me;
  session.skills = new Set(me.skills || []);
  if (me.min_wage) session.wage = { ...me.min_wage };
  session.travel = me.max_travel_minutes ?? null;
  if (!me.skills || me.skills.length === 0) {
    show("skills");
    return;
  }
  const pending = await syncOffers();
  if (pending) return;
  if (me.state === "available" || me.state === "offered") show("wait");
  else show("home");
}

async function loadMe() {
  session.me = await api("GET", "/me", { token: session.token });
}

async function submitId(ev) {
  ev.preventDefault();
  const input = $("id-number");
  const card = readCard(input.value);
  if (!card || checkIdNumber(card.idNumber) !== "ok") {
    setFieldError(input, t("k.id.bad"));
    input.focus();
    return;
  }
  input.value = card.idNumber;
  if (card.name) kiosk.readerName = card.name;
  renderIdCheck();
  clearFieldErrors(ev.target);
  if (kiosk.mode === "register") toRegister(card.idNumber);
  else show("pin");
}

/** The registration form for ``idNumber``, the reader's name filled in when it gave one. */
function toRegister(idNumber) {
  $("reg-id").value = idNumber;
  if (kiosk.readerName) $("reg-name").value = kiosk.readerName;
  show("register");
  $("reg-name").focus();
}

async function submitNewPin(ev) {
  ev.preventDefault();
  const input = $("new-pin");
  if (!/^\d{4,6}$/.test(input.value)) {
    setFieldError(input, t("k.pin.short"));
    return;
  }
  try {
    await api("PUT", "/me/pin", { token: session.token, body: { pin: input.value } });
    clearFieldErrors(ev.target);
    input.value = "";
    showNotice(t("k.newpin.done"));
    await carryOn();
  } catch (err) {
    input.value = "";
    showError(err, ev.target);
  }
}

async function submitPin(ev) {
  ev.preventDefault();
  const pin = $("pin").value;
  if (!/^\d{4,6}$/.test(pin)) {
    setFieldError($("pin"), t("k.pin.short"));
    return;
  }
  const idNumber = $("id-number").value.trim().toUpperCase();
  try {
    const result = await api("POST", "/kiosk/signin", {
      token: kiosk.deviceToken, body: { id_number: idNumber, pin },
    });
    clearFieldErrors(ev.target);
    await signedIn(result);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_registered") {
      // Not registered yet: the privacy notice comes before the registration takes the number.
      kiosk.mode = "register";
      kiosk.pendingId = idNumber;
      $("reg-pin").value = pin;
      show("privacy");
      return;
    }
    $("pin").value = "";
    if (err instanceof ApiError && err.status === 401 && err.code === "unauthorized") {
      // The device token itself was refused: this kiosk needs setting up again.
      show("setup");
      return;
    }
    showError(err, ev.target);
  }
}

async function submitRegister(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearFieldErrors(form);
  const name = $("reg-name").value.trim();
  const phone = $("reg-phone").value.trim();
  const pin = $("reg-pin").value;
  let bad = null;
  if (!/^\d{4,6}$/.test(pin)) { setFieldError($("reg-pin"), t("k.pin.short")); bad = bad || $("reg-pin"); }
  // No phone is fine (SPEC 11.2); a phone typed in must be a real one.
  if (phone && !checkPhone(phone)) { setFieldError($("reg-phone"), t("k.reg.phone.bad")); bad = $("reg-phone"); }
  if (!name) { setFieldError($("reg-name"), t("k.reg.name.missing")); bad = $("reg-name"); }
  if (bad) { bad.focus(); return; }
  const body = { id_number: $("reg-id").value, pin, name, consent: kiosk.consent || PRIVACY_NOTICE };
  if (phone) body.phone = phone;
  try {
    const result = await api("POST", "/kiosk/register", { token: kiosk.deviceToken, body });
    await signedIn(result);
    session.registering = true;
  } catch (err) {
    if (err instanceof ApiError && err.code === "already_registered") {
      // Registered before: sign in with the PIN instead.
      $("id-number").value = $("reg-id").value;
      kiosk.mode = "signin";
      show("pin");
    }
    showError(err, form);
  }
}

// ---- profile: skills and lowest wage ----------------------------------------------------

let picker = null;

function renderSkills() {
  if (!session) return;
  const skills = kiosk.catalogue.skills.filter((sk) => kiosk.market.skills.includes(sk.code));
  // The picker edits the session's Set in place; a new session brings a new Set.
  if (!picker || picker.selected !== session.skills) {
    picker = skillPicker($("skill-grid"), skills, session.skills);
    picker.selected = session.skills;
  } else picker.render();
}

function wageStep() { return session.wage.unit === "hour" ? 1 : 10; }

function renderWage() {
  if (!session) return;
  const w = session.wage;
  $("wage-unit").replaceChildren(...["day", "hour"].map((unit) => h("button", {
    type: "button", class: "choice", role: "radio", "aria-checked": w.unit === unit ? "true" : "false",
    onclick: () => {
      if (w.unit !== unit) {
        w.unit = unit;
        w.amount = unit === "hour" ? 25 : 200;
      }
      renderWage();
    },
  }, t(`k.wage.${unit}`))));
  $("wage-value").textContent = fmtNumber(w.amount);
  $("wage-text").textContent = t("k.wage.text", { money: fmtMoney(w) });
  $("wage-minus").setAttribute("aria-label", t(w.unit === "hour" ? "k.wage.less.h" : "k.wage.less"));
  $("wage-plus").setAttribute("aria-label", t(w.unit === "hour" ? "k.wage.more.h" : "k.wage.more"));
  const presets = w.unit === "hour" ? [25, 30, 35, 40] : [200, 250, 300, 350];
  $("wage-presets").replaceChildren(...presets.map((amount) => h("button", {
    type: "button", class: "choice", "aria-pressed": w.amount === amount ? "true" : "false",
    onclick: () => { w.amount = amount; renderWage(); },
  }, fmtMoney({ amount, unit: w.unit }))));
  // The worker's own longest trip: no offer goes further, even for a job that widened its
  // reach beyond the market's circle. "Any" leaves the market's reach alone.
  const travel = session.travel ?? null;
  const steps = [null, 10, 20, 30, 45];
  if (travel !== null && !steps.includes(travel)) steps.push(travel);
  $("travel-choices").replaceChildren(...steps.map((n) => h("button", {
    type: "button", class: "choice", role: "radio", "aria-checked": travel === n ? "true" : "false",
    onclick: () => { session.travel = n; renderWage(); },
  }, n === null ? t("k.travel.any") : t("k.travel.minutes", { n }))));
}

async function saveProfile() {
  try {
    session.me = await api("PUT", "/me/profile", {
      token: session.token,
      body: { name: session.me.name, skills: [...session.skills], min_wage: session.wage,
        max_travel_minutes: session.travel ?? null },
    });
    if (session.registering) {
      session.registering = false;
      await checkIn();
    } else show("home");
  } catch (err) {
    showError(err);
  }
}

function renderCerts() {
  if (!session || !session.me) return;
  const me = session.me;
  certificatePanel($("k-certs"), {
    token: session.token, me, keypad: true, idPrefix: "kc",
    skills: kiosk.catalogue.skills.filter((sk) => kiosk.market.skills.includes(sk.code)),
    profile: () => ({ name: me.name, skills: me.skills, ...(me.min_wage ? { min_wage: me.min_wage } : {}) }),
    onSaved: (saved) => { session.me = saved; renderCerts(); },
  });
}

// ---- home, check in / out, waiting ---------------------------------------------------

function renderHome() {
  if (!session || !session.me) return;
  const me = session.me;
  $("hello").textContent = t("k.hello", { name: me.name || "" });
  // Truthful (issue 10): "assigned" with every job settled (done, paid, cancelled) is not
  // "you have a job".
  const live = (session.assignments || []).some((a) => ["accepted", "checked_in"].includes(a.state));
  const settled = me.state === "assigned" && session.assignments && !live;
  $("home-state").textContent = settled ? t("k.state.done") : t(`k.state.${me.state}`);
  const waiting = me.state === "available" || me.state === "offered";
  $("checkin").hidden = waiting;
  $("to-wait").hidden = !waiting;
}

// ---- after the accept: pay confirmation, rating and claims, with big buttons ----------------

/** Completed work waiting for the worker: confirm the pay, rate the employer. */
async function loadAfter() {
  if (!session) return;
  const token = session.token;
  try {
    const [assignments, claimable] = await Promise.all([
      api("GET", "/me/assignments", { token }),
      session.me && session.me.market_id && ["available", "offered"].includes(session.me.state)
        ? api("GET", `/markets/${session.me.market_id}/claimable`, { token }).catch(() => ({ jobs: [] }))
        : Promise.resolve({ jobs: [] }),
    ]);
    if (!session || session.token !== token) return;
    session.assignments = assignments;
    session.claimable = claimable.jobs || [];
    session.rated = session.rated || new Set();
    if (screen === "home") renderHome();
    renderAfter();
  } catch (err) {
    if (err.status === 401) signOut();
  }
}

function renderAfter() {
  if (!session || !session.assignments) return;
  const rated = session.rated || new Set();
  const items = [];
  for (const a of session.assignments) {
    if (a.state === "accepted") {
      items.push(h("div", { class: "k-card", "data-accepted": a.id },
        h("p", { class: "k-lead" }, `${a.job.title} · ${fmtMoney(a.wage || a.job.wage)}`),
        h("p", {}, `${fmtWhen(a.job.start_at)} · ${a.job.address}`),
        h("button", { type: "button", class: "btn btn-danger k-huge btn-block", "data-cancel": a.id, onclick: (ev) => kioskCancel(a, ev.currentTarget) },
          icon("✕"), t("k.aa.cancel", { title: a.job.title })),
        reportAndBlock(a)));
    }
    // Only what was cancelled at this sitting: older cancellations are no news.
    if (a.state === "cancelled" && session.cancelled && session.cancelled.has(a.id)) {
      items.push(h("div", { class: "k-card", "data-cancelled": a.id },
        h("p", { class: "k-lead" }, a.job.title, " ", h("span", { class: "badge badge-warn" }, t("asg.cancelled"))),
        reportAndBlock(a)));
    }
    if (["checked_in", "completed", "paid", "disputed"].includes(a.state)) {
      items.push(h("div", { class: "k-card", "data-worked": a.id },
        h("p", { class: "k-lead" }, `${a.job.title} · ${fmtMoney(a.wage || a.job.wage)}`),
        reportAndBlock(a)));
    }
    if (["completed", "disputed"].includes(a.state)) {
      items.push(h("button", { type: "button", class: "btn btn-ok k-huge", "data-paid": a.id, onclick: () => kioskPaid(a) },
        icon("💴"), t("k.aa.paid", { title: a.job.title })));
    }
    if (["completed", "paid", "disputed"].includes(a.state) && !rated.has(a.id)) {
      const box = h("div", { class: "k-card", "data-rate": a.id }, h("h3", {}, t("k.aa.rate", { title: a.job.title })));
      box.append(ratingForm({ tags: EMPLOYER_TAGS, big: true, label: t("k.aa.rate", { title: a.job.title }), onRate: (r) => kioskRate(a, r) }));
      items.push(box);
    }
  }
  $("home-after").replaceChildren(...items);
  const claimCards = () => {
    const list = session.claimable || [];
    if (!list.length) return [];
    return [h("h3", {}, t("k.aa.claims")), ...list.map((j) => h("div", { class: "k-card", "data-claim": j.id },
      h("p", { class: "k-lead" }, `${j.title} · ${fmtMoney(j.wage)}`),
      offerFacts(j, kiosk.catalogue.skillByCode),
      h("button", { type: "button", class: "btn btn-ok k-huge", onclick: (ev) => kioskClaim(j, ev.currentTarget) }, icon("✋"), t("k.aa.claim", { title: j.title }))))];
  };
  $("home-claims").replaceChildren(...claimCards());
  $("wait-claims").replaceChildren(...claimCards());
}

/** The big report and block buttons for one piece of work, or what was already done. */
function reportAndBlock(a) {
  const reported = session.reported || new Set();
  const blocked = session.blocked || new Set();
  const bossId = (a.employer || {}).id || a.employer_id;
  const row = [];
  if (reported.has(a.job_id)) {
    row.push(h("span", { class: "badge badge-warn k-done", "data-reported": a.job_id }, icon("⚑"), t("k.aa.reported")));
  } else {
    row.push(h("button", { type: "button", class: "btn btn-danger k-big", "data-report": a.job_id, onclick: (ev) => kioskReport(a, ev.currentTarget) },
      icon("⚑"), t("k.aa.report")));
  }
  if (bossId && blocked.has(bossId)) {
    const badge = blockedBadge();
    badge.classList.add("k-done");
    row.push(badge);
  } else if (bossId) {
    row.push(h("button", { type: "button", class: "btn k-big", "data-block": bossId, onclick: (ev) => kioskBlock(bossId, ev.currentTarget) },
      icon("⛔"), t("aa.block.employer")));
  }
  return h("div", { class: "k-report-block" }, row);
}

/** Three huge reasons to pick from; resolves the reason code, or null when left alone. */
function pickReportReason(a) {
  return new Promise((resolve) => {
    // Work not yet begun past its start (and grace): nobody came is the likeliest reason.
    const absent = a.state === "accepted" && a.absent_after && Date.now() >= Date.parse(a.absent_after);
    const reasons = [...(absent ? ["no_show"] : []), "fake", "not_as_described", "unpaid"];
    const dlg = h("dialog", { "aria-labelledby": "k-report-title", class: "k-report-dialog" },
      h("form", { method: "dialog", class: "k-stack" },
        h("h2", { id: "k-report-title" }, t("k.aa.report.title")),
        h("p", { class: "k-lead" }, a.job.title),
        reasons.map((r) => h("button", { value: r, class: "btn btn-danger k-huge btn-block" }, t(`k.aa.report.${r}`))),
        h("button", { value: "no", class: "btn k-big btn-block" }, t("k.aa.report.back"))));
    dlg.addEventListener("close", () => {
      const picked = reasons.includes(dlg.returnValue) ? dlg.returnValue : null;
      dlg.remove();
      resolve(picked);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

async function kioskReport(a, button) {
  button.disabled = true;
  try {
    const reason = await pickReportReason(a);
    if (!reason || !session) return;
    const ok = await confirmDialog({
      title: t("k.aa.report.confirm", { title: a.job.title, reason: t(`k.aa.report.${reason}`) }),
      text: t("k.aa.report.text"), yes: t("k.aa.report.send"), no: t("k.aa.report.back"), big: true,
    });
    if (!ok || !session) return;
    session.reported = session.reported || new Set();
    try {
      await api("POST", `/jobs/${a.job_id}/report`, { token: session.token, body: { reason } });
      session.reported.add(a.job_id);
      showNotice(t("k.aa.report.done"));
    } catch (err) {
      // A second report of the same job is refused as a conflict: it stands reported.
      if (err.status === 409) session.reported.add(a.job_id);
      showError(err);
    }
  } finally {
    button.disabled = false;
  }
  renderAfter();
}

async function kioskBlock(bossId, button) {
  button.disabled = true;
  const token = session.token;
  const done = await blockOther(token, { employer_id: bossId });
  button.disabled = false;
  if (!session || session.token !== token) return;
  if (done) {
    session.blocked = session.blocked || new Set();
    session.blocked.add(bossId);
  }
  renderAfter();
}

async function kioskPaid(a) {
  const ok = await confirmDialog({ title: t("k.aa.paid.title"), text: t("k.aa.paid.text", { title: a.job.title, pay: fmtMoney(a.wage || a.job.wage) }), yes: t("k.aa.paid.title"), danger: false });
  if (!ok || !session) return;
  try {
    await api("POST", `/assignments/${a.id}/paid`, { token: session.token });
    showNotice(t("k.aa.paid.done"));
  } catch (err) {
    showError(err);
  }
  loadAfter();
}

async function kioskCancel(a, button) {
  button.disabled = true;
  const rules = (kiosk.market && kiosk.market.rules) || {};
  const done = await cancelAssignment(session.token, a, rules.late_cancel_hours, { big: true });
  button.disabled = false;
  if (!session) return;
  // The worker still checked in is waiting for work again: the state line changes too.
  if (done) {
    session.cancelled = session.cancelled || new Set();
    session.cancelled.add(done.id);
    await loadMe().catch(() => {});
  }
  renderHome();
  loadAfter();
}

async function kioskRate(a, r) {
  try {
    await api("POST", `/assignments/${a.id}/rate`, { token: session.token, body: r });
    session.rated.add(a.id);
    showNotice(t("aa.rated"));
  } catch (err) {
    if (err.code === "already_rated") session.rated.add(a.id);
    showError(err);
  }
  renderAfter();
}

async function kioskClaim(job, button) {
  button.disabled = true;
  try {
    const r = await api("POST", `/jobs/${job.id}/claim`, { token: session.token });
    showNotice(t("k.aa.claimed"));
    await loadMe();
    session.assignments = [r.assignment, ...(session.assignments || []).filter((a) => a.id !== r.assignment.id)];
    session.claimable = [];
    showJobs();
  } catch (err) {
    showError(err);
    loadAfter();
  } finally {
    button.disabled = false;
  }
}

async function checkIn() {
  try {
    const me = await api("POST", `/markets/${kiosk.market.id}/checkin`, {
      token: session.token, body: { station_id: kiosk.stationId },
    });
    session.me = { ...session.me, ...me };
    // Sound and speech need a user gesture first in Chrome: this tap is it.
    chime();
    show("wait");
  } catch (err) {
    showError(err);
  }
}

async function checkOut() {
  try {
    await api("POST", `/markets/${kiosk.market.id}/checkout`, { token: session.token });
    await signOut({ notice: t("k.checkedout") });
  } catch (err) {
    showError(err);
  }
}

async function refreshWhy() {
  if (!session) return;
  try {
    session.why = await api("GET", "/me/why", { token: session.token });
    session.whyAt = Date.now();
    renderWait();
  } catch (err) {
    if (err.status === 401) signOut();
  }
}

function renderWait() {
  if (!session) return;
  const why = session.why;
  let waited = 0;
  if (why && why.waiting_since) waited = (serverNow() - Date.parse(why.waiting_since)) / 1000;
  else if (why && why.waited_s != null) waited = why.waited_s + (Date.now() - session.whyAt) / 1000;
  const total = Math.max(0, Math.floor(waited));
  const mm = Math.floor(total / 60);
  const ss = String(total % 60).padStart(2, "0");
  $("waited").textContent = mm >= 60 ? fmtDuration(total) : `${mm}:${ss}`;
  $("waited").setAttribute("aria-label", fmtDuration(total));
  const reason = why && pick(why.reason_text);
  $("why").replaceChildren(icon("💡"), ` ${reason || t("k.wait.checking")}`);
}

// ---- offers -----------------------------------------------------------------------

/** Fetch pending offers; show the first. Returns true when an offer is on screen. */
async function syncOffers() {
  if (!session) return false;
  const asked = session;
  const shown = session.offer;
  try {
    const offers = await api("GET", "/me/offers", { token: session.token });
    if (session !== asked) return false;
    // An offer pushed while this answer was on its way is newer than the answer: keep it on
    // screen (a stale "nothing pending" used to send the worker back to waiting, and the
    // offer ran out unseen).
    if (session.offer !== shown) return Boolean(session.offer);
    // A pending offer first; else one that ran out and may still be taken (issue 14): a
    // worker who walked over too slowly signs in and finds it still here.
    const pending = offers.find((o) => o.state === "pending" && secondsLeft(o.expires_at) > 0)
      || offers.find((o) => o.state === "expired" && o.take_until && secondsLeft(o.take_until) > 0);
    if (pending) {
      if (!session.offer || session.offer.id !== pending.id) presentOffer(pending);
      return true;
    }
    if (session.offer && screen === "offer") {
      session.offer = null;
      show("wait");
    }
  } catch (err) {
    if (err.status === 401) signOut();
  }
  return false;
}

function presentOffer(offer) {
  session.offer = offer;
  show("offer");
  chime();
  const current = () => session && session.offer && session.offer.id === offer.id;
  offerWhy(offer.id, session.token).then((why) => {
    offer.why = why;
    if (current() && screen === "offer") $("offer-why").replaceWith(whyLine(why, { id: "offer-why" }));
  }).catch(() => { /* the offer stands without its reason */ });
  // Let the chime finish before the voice starts; the reason is usually back by then.
  setTimeout(() => {
    if (current()) say(offerSpeech(offer.job, offer.why));
  }, 700);
}

function renderOffer() {
  if (!session || !session.offer) return;
  const { job } = session.offer;
  const late = isLate(session.offer);
  $("offer-card").replaceChildren(
    h("p", { class: late ? "k-lead k-late" : "k-lead" }, icon(late ? "⏰" : "🔔"), ` ${t(late ? "k.offer.late" : "k.offer.new")}`),
    h("h3", { id: "offer-title" }, job.title),
    h("p", { class: "k-wage" }, fmtMoney(job.wage)),
    offerFacts(job, kiosk.catalogue.skillByCode),
    whyLine(session.offer.why, { id: "offer-why" }),
  );
  renderCountdown();
}

// An offer that ran out may still be taken until ``take_until`` (issue 14, rule late_take_s).
function isLate(offer) {
  return offer.state === "expired";
}

function lateTakeS() {
  return (kiosk.market.rules && kiosk.market.rules.late_take_s) || 0;
}

function renderCountdown() {
  if (!session || !session.offer) return;
  const offer = session.offer;
  if (!isLate(offer) && lateTakeS() > 0 && secondsLeft(offer.expires_at) <= 0) {
    // Ran out here: it may still be taken while a place is free. The server's offer_closed
    // says whether one is (take_until) and ends it if not; till then keep it on screen.
    offer.state = "expired";
    offer.take_until = new Date(Date.parse(offer.expires_at) + lateTakeS() * 1000).toISOString();
    renderOffer();
    return;
  }
  const late = isLate(offer);
  const total = late ? lateTakeS() : ((kiosk.market.rules && kiosk.market.rules.offer_timeout_s) || 45);
  const left = secondsLeft(late ? offer.take_until : offer.expires_at);
  const frac = Math.max(0, Math.min(1, left / total));
  const circ = 2 * Math.PI * 42;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("aria-hidden", "true");
  svg.innerHTML = `<circle class="ring-bg" cx="50" cy="50" r="42"/>`
    + `<circle class="ring" cx="50" cy="50" r="42" stroke-dasharray="${circ}" stroke-dashoffset="${circ * (1 - frac)}"/>`
    + `<text class="ring-text" x="50" y="62" text-anchor="middle">${left}</text>`;
  const box = $("offer-count");
  box.replaceChildren(svg, h("span", { role: "timer", "aria-label": t("offer.left.label", { s: left }) }, t("offer.left", { s: left })));
  if (left <= 0 && screen === "offer") offerGone("expired");
}

function offerGone(reason) {
  if (!session) return;
  session.offer = null;
  stopSpeaking();
  show("wait");
  showNotice(t(`k.offer.gone.${reason}`));
}

async function decide(accept) {
  if (!session || !session.offer) return;
  const offer = session.offer;
  if (!accept && isLate(offer)) {
    // Nothing to decline: it ran out already. Just put it away.
    offerGone("declined");
    return;
  }
  const buttons = [$("accept"), $("decline")];
  for (const b of buttons) b.disabled = true;
  stopSpeaking();
  try {
    const result = await api("POST", `/offers/${offer.id}/${accept ? "accept" : "decline"}`, { token: session.token });
    session.offer = null;
    if (accept) {
      session.assignment = result.assignment;
      show("slip");
    } else {
      show("wait");
      showNotice(t("k.offer.gone.declined"));
    }
  } catch (err) {
    showError(err);
    await syncOffers();
    if (screen === "offer" && !session.offer) show("wait");
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function onLive(msg) {
  if (!session) return;
  switch (msg.type) {
    case "offer": {
      const offer = { id: msg.offer_id, job_id: msg.job && msg.job.id, state: "pending", expires_at: msg.expires_at, job: msg.job };
      if (secondsLeft(offer.expires_at) > 0) presentOffer(offer);
      break;
    }
    case "offer_closed": {
      const shown = session.offer && session.offer.id === msg.offer_id;
      if (shown && msg.reason === "expired" && msg.take_until) {
        const first = !isLate(session.offer) || session.offer.take_until !== msg.take_until;
        session.offer = { ...session.offer, state: "expired", take_until: msg.take_until };
        if (screen === "offer") renderOffer();
        if (first) say(t("k.offer.late"));
      } else if (shown && msg.reason !== "accepted") {
        offerGone(msg.reason);
      }
      break;
    }
    case "assignment":
      // Later steps (checked in, completed, paid) update the home screen; only a new hire shows the slip.
      if (msg.assignment.state !== "accepted") {
        if (screen === "home") loadAfter();
        break;
      }
      if (screen !== "slip" && (!session.assignment || session.assignment.id !== msg.assignment.id)) {
        session.assignment = msg.assignment;
        session.offer = null;
        show("slip");
      }
      break;
    case "job_cancelled":
      showNotice(t("k.offer.gone.withdrawn"));
      break;
    default:
      break;
  }
}

// ---- slip ---------------------------------------------------------------------------

function slipFor(a, me) {
  const job = a.job || {};
  const boss = a.employer || {};
  const rows = [
    ["k.slip.worker", me ? me.name : ""],
    ["k.slip.job", job.title],
    ["k.slip.address", job.address],
    // The date in full: a slip kept in a pocket is read on another day than "today".
    ["k.slip.date", fmtDay(job.start_at)],
    ["k.slip.start", `${fmtWhen(job.start_at)} · ${fmtHours(job.duration_hours)}`],
    ["k.slip.pay", fmtMoney(a.wage || job.wage)],
    ["k.slip.employer", [boss.org_name, boss.name].filter(Boolean).join(" · ")],
    ["k.slip.phone", boss.phone],
  ];
  const qr = h("div", { class: "qr" });
  insertQr(qr, a.qr_svg, t("k.slip.qr.label"));
  return [
    h("h3", {}, t("k.slip.head")),
    h("dl", { class: "kv" }, rows.flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", { "data-slip": k.slice(7) }, v || "—")])),
    h("div", { class: "slip-qr" }, qr, h("p", { class: "center" }, t("k.slip.qr"))),
    a.code ? h("div", { class: "slip-code" },
      h("p", { class: "center" }, t("k.slip.code")),
      h("p", { class: "slip-digits center", "data-slip": "code", "aria-label": [...a.code].join(" ") }, `${a.code.slice(0, 3)} ${a.code.slice(3)}`),
      h("p", { class: "center small" }, t("k.slip.code.help"))) : null,
  ];
}

/** The slip read aloud: when, where, and the six digits one by one. */
function saySlip() {
  const a = session && session.assignment;
  if (!a || !a.job) return;
  const when = new Date(a.job.start_at);
  const time = new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", { hour: "numeric", minute: "2-digit", timeZone: timeZone() }).format(when);
  say(t("k.say.slip", { date: fmtDay(a.job.start_at), time, address: a.job.address, code: [...(a.code || "")].join(" ") }));
}

function renderSlip() {
  if (!session || !session.assignment) return;
  $("slip").replaceChildren(...slipFor(session.assignment, session.me));
}

function printSlip() {
  window.print();
  // After printing the slip is in the worker's hand; free the kiosk sooner.
  idleLimit = IDLE_MS.slipPrinted;
  lastTouch = Date.now();
  showNotice(t("k.printed"));
}

async function showJobs() {
  try {
    session.assignments = await api("GET", "/me/assignments", { token: session.token });
    show("jobs");
  } catch (err) {
    showError(err);
  }
}

function renderJobs() {
  if (!session || !session.assignments) return;
  const list = session.assignments.filter((a) => ["accepted", "checked_in"].includes(a.state));
  if (!list.length) {
    $("jobs").replaceChildren(h("p", { class: "k-lead" }, t("k.jobs.none")));
    return;
  }
  $("jobs").replaceChildren(...list.map((a) => h("div", { class: "k-card" },
    h("h3", {}, a.job.title),
    h("p", {}, `${fmtWhen(a.job.start_at)} · ${a.job.address}`),
    h("button", {
      type: "button", class: "btn btn-primary k-big",
      onclick: () => { session.assignment = a; show("slip"); },
    }, icon("📄"), ` ${t("k.jobs.print")}`))));
}

// ---- keypads and wiring -------------------------------------------------------------

function wireKeypads() {
  for (const pad of document.querySelectorAll(".keypad")) {
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", pad.dataset.x ? "X" : "", "0", "⌫"];
    let target = $(pad.dataset.target);
    if (pad.dataset.followFocus) {
      // One keypad for the registration form: it types into whichever number field has focus.
      pad.closest("form").addEventListener("focusin", (ev) => {
        if (ev.target.matches("input[inputmode=none]")) target = ev.target;
      });
    }
    pad.replaceChildren(...keys.map((k) => {
      if (!k) return h("span", {});
      const isBack = k === "⌫";
      return h("button", {
        type: "button",
        class: isBack ? "key-action" : null,
        "aria-label": isBack ? t("k.delete") : k,
        "data-i18n-label": isBack ? "k.delete" : null,
        // Keep focus in the field so a card reader can still type into it.
        onpointerdown: (ev) => ev.preventDefault(),
        onclick: () => {
          const max = Number(target.maxLength) > 0 ? Number(target.maxLength) : 99;
          if (isBack) target.value = target.value.slice(0, -1);
          else if (target.value.length < max) target.value += k;
          target.dispatchEvent(new Event("input", { bubbles: true }));
          target.focus();
        },
      }, isBack ? "⌫" : k);
    }));
  }
}

function renderIdCheck() {
  const input = $("id-number");
  // A card reader's "name|number" line arrives character by character: left as it is until
  // its Enter, when submitId reads it.
  if (isReaderLine(input.value)) return;
  input.value = input.value.toUpperCase().replace(/[^0-9X]/g, "").slice(0, 18);
  const state = checkIdNumber(input.value);
  const out = $("id-check");
  input.removeAttribute("aria-invalid");
  const err = document.getElementById("id-number-error");
  if (err) err.hidden = true;
  if (state === "ok") { out.dataset.state = "ok"; out.textContent = t("k.id.ok"); }
  else if (state === "short") { out.dataset.state = "typing"; out.textContent = t("k.id.short", { n: input.value.length }); }
  else { out.dataset.state = "bad"; out.textContent = t("k.id.bad"); }
}

function wireForms() {
  $("id-form").addEventListener("submit", submitId);
  $("pin-form").addEventListener("submit", submitPin);
  $("reg-form").addEventListener("submit", submitRegister);
  $("newpin-form").addEventListener("submit", submitNewPin);
  // The name is tapped in on the character pad; the digit keypad serves phone and PIN.
  namePad($("namepad"), $("reg-name"));
  $("reg-form").addEventListener("focusin", (ev) => {
    const onName = ev.target.id === "reg-name";
    $("namepad").hidden = !onName;
    $("reg-form").querySelector(".keypad").hidden = onName;
  });
  $("id-number").addEventListener("input", renderIdCheck);
}

function wireButtons() {
  $("start").addEventListener("click", () => {
    $("id-form").reset();
    renderIdCheck();
    kiosk.mode = "signin";
    show("id");
  });
  for (const b of document.querySelectorAll("[data-go]")) {
    b.addEventListener("click", () => {
      const to = b.dataset.go;
      if (to === "idle") signOut();
      else if (["home", "skills", "wage", "certs"].includes(to) && !session) show("idle");
      else show(to);
    });
  }
  for (const b of document.querySelectorAll("[data-action=signout]")) b.addEventListener("click", () => signOut());
  for (const b of document.querySelectorAll("[data-action=leave]")) {
    b.addEventListener("click", () => signOut({ notice: t("k.left") }));
  }
  $("skills-next").addEventListener("click", () => {
    if (!session.skills.size) {
      showError(new ApiError(422, "skills", t("k.skills.none"), null));
      return;
    }
    show("wage");
  });
  $("wage-minus").addEventListener("click", () => {
    session.wage.amount = Math.max(wageStep(), session.wage.amount - wageStep());
    renderWage();
  });
  $("wage-plus").addEventListener("click", () => {
    session.wage.amount += wageStep();
    renderWage();
  });
  $("wage-save").addEventListener("click", saveProfile);
  $("checkin").addEventListener("click", checkIn);
  $("to-wait").addEventListener("click", () => show("wait"));
  $("to-jobs").addEventListener("click", showJobs);
  $("checkout").addEventListener("click", checkOut);
  $("accept").addEventListener("click", () => decide(true));
  $("decline").addEventListener("click", () => decide(false));
  // "Read it again" is a request to hear it: it speaks even when muted.
  $("repeat").addEventListener("click", () => session && session.offer && speak(offerSpeech(session.offer.job, session.offer.why)));
  $("mute").addEventListener("click", () => {
    localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
    if (muted()) stopSpeaking();
    renderMute();
  });
  $("start-new").addEventListener("click", () => {
    $("id-form").reset();
    renderIdCheck();
    kiosk.mode = "register";
    kiosk.pendingId = null;
    show("privacy");
  });
  $("privacy-yes").addEventListener("click", () => {
    kiosk.consent = PRIVACY_NOTICE;
    if (kiosk.pendingId) toRegister(kiosk.pendingId);
    else show("id");
  });
  $("privacy-no").addEventListener("click", () => signOut());
  $("print").addEventListener("click", printSlip);
  $("still-here").addEventListener("click", touched);
  setInterval(idleTick, 1000);
  setInterval(() => {
    if (screen === "offer") renderCountdown();
    else if (screen === "wait") renderWait();
  }, 1000);
}

boot();
