// What an offer says, shown and spoken the same way on the kiosk and the worker's phone.

import {
  t, addStrings, fmtMoney, fmtWhen, fmtHours, fmtKm, fmtMinutes, fmtRating, fmtNumber, lang,
  speechLang, pick,
} from "./i18n.js";
import { api, h, icon, serverNow } from "./client.js";
import { skillNames } from "./skillpicker.js";

addStrings({
  zh: {
    "offer.what": "干什么",
    "offer.where": "在哪里",
    "offer.far": "多远",
    "offer.far.value": "{km}，路上约 {min}",
    "offer.pay": "工钱",
    "offer.when": "什么时候",
    "offer.when.value": "{when} 开始，干 {hours}",
    "offer.boss": "老板",
    "offer.left": "还剩 {s} 秒",
    "offer.left.label": "还剩 {s} 秒可以决定",
    "offer.far.here": "就在附近，走路几分钟",
    "offer.say": "有一份工作：{title}。地点：{address}，{far}。工钱：{pay}。{when}开始，干{hours}。老板是{boss}，{rating}。要接这个活，请按“接这个活”。不要，请按“不要”。",
    "offer.say.rating": "评分{r}分",
    "offer.say.norating": "还没有评分",
    "offer.why": "为什么给您：",
    "offer.say.why": "派给您，是因为{why}。",
    "offer.extra": "路费补贴",
    "offer.extra.value": "另加 {amount} 元（服务圈外 {km} 公里，每公里 {per} 元）",
    "offer.say.extra": "路远，另加路费补贴{amount}元。",
  },
  en: {
    "offer.what": "Work",
    "offer.where": "Where",
    "offer.far": "How far",
    "offer.far.value": "{km}, about {min} to get there",
    "offer.pay": "Pay",
    "offer.when": "When",
    "offer.when.value": "starts {when}, for {hours}",
    "offer.boss": "Employer",
    "offer.left": "{s} s left",
    "offer.left.label": "{s} seconds left to decide",
    "offer.extra": "Travel supplement",
    "offer.extra.value": "{amount} yuan extra ({km} km beyond the service circle at {per} yuan/km)",
    "offer.say.extra": "It is further than usual, so it pays {amount} yuan extra for the trip.",
    "offer.far.here": "close by, a few minutes' walk",
    "offer.say": "A job for you: {title}. Where: {address}, {far}. Pay: {pay}. Starts {when}, for {hours}. The employer is {boss}, {rating}. To take it, press Take this job. If not, press No.",
    "offer.say.rating": "rated {r}",
    "offer.say.norating": "not rated yet",
    "offer.why": "Why you: ",
    "offer.say.why": "It came to you because {why}.",
  },
});

/** The facts of a job summary as an icon list (icon + label + value: never icon alone). */
export function offerFacts(job, skillByCode) {
  const boss = job.employer || {};
  const rows = [
    ["🧰", t("offer.what"), skillNames(job.skills, skillByCode)],
    ["📍", t("offer.where"), job.address],
    ["🚶", t("offer.far"), farText(job)],
    // Issue 14: a job that waited may reach beyond the circle, and pays for the extra trip.
    ...(job.travel_supplement ? [["🚌", t("offer.extra"), t("offer.extra.value", {
      amount: fmtNumber(job.travel_supplement.amount, 2),
      km: fmtNumber(job.travel_supplement.beyond_km, 1),
      per: fmtNumber(job.travel_supplement.per_km, 2),
    })]] : []),
    ["🕖", t("offer.when"), t("offer.when.value", { when: fmtWhen(job.start_at), hours: fmtHours(job.duration_hours) })],
    ["👤", t("offer.boss"), `${boss.name || ""} · ${fmtRating(boss.rating)}`],
  ];
  return h("ul", { class: "k-facts" }, rows.map(([glyph, label, value]) =>
    h("li", {}, icon(glyph), h("span", {}, h("b", {}, label), value))));
}

/** How far, in words; "right here" rather than "0 km, 0 minutes". */
function farText(job) {
  if (job.distance_km != null && job.distance_km < NEARBY_KM) return t("offer.far.here");
  return t("offer.far.value", { km: fmtKm(job.distance_km), min: fmtMinutes(job.travel_minutes) });
}

const NEARBY_KM = 0.15;

/**
 * Why the solver chose this worker, as {zh, en} from GET /offers/{id}/why (its two heaviest
 * cost terms in words, e.g. 路程近、您等候较久); null when the server has nothing to say.
 */
export async function offerWhy(offerId, token) {
  const why = await api("GET", `/offers/${offerId}/why`, { token });
  const explain = why && why.explain;
  return explain && pick(explain) ? explain : null;
}

/** The "why you" line under an offer; empty until the reason is known. */
export function whyLine(explain, attrs = {}) {
  const text = pick(explain);
  return h("p", { class: "offer-why", hidden: !text, ...attrs },
    icon("💡"), h("b", {}, t("offer.why")), text);
}

/** The sentence read aloud for an offer, with why it came to this worker when known. */
export function offerSpeech(job, explain = null) {
  const boss = job.employer || {};
  const rating = boss.rating == null
    ? t("offer.say.norating")
    : t("offer.say.rating", { r: fmtNumber(boss.rating, 1) });
  const why = pick(explain);
  const said = t("offer.say", {
    title: job.title,
    address: job.address,
    far: farText(job),
    pay: fmtMoney(job.wage),
    when: fmtWhen(job.start_at),
    hours: fmtHours(job.duration_hours),
    boss: boss.name || "",
    rating,
  });
  const extra = job.travel_supplement
    ? t("offer.say.extra", { amount: fmtNumber(job.travel_supplement.amount, 2) }) : "";
  if (!why && !extra) return said;
  // Before the closing instruction, so the last thing heard is which button to press.
  const cut = said.lastIndexOf(lang() === "zh" ? "要接" : "To take");
  const reason = [why ? t("offer.say.why", { why }) : "", extra].filter(Boolean)
    .join(lang() === "zh" ? "" : " ");
  return cut > 0 ? `${said.slice(0, cut)}${reason}${lang() === "zh" ? "" : " "}${said.slice(cut)}` : `${said} ${reason}`;
}

/** Read text aloud in the page's language; a no-op where the browser cannot speak. */
export function speak(text) {
  const synth = window.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
  synth.cancel();
  const u = new SpeechSynthesisUtterance(text);
  u.lang = speechLang();
  // Slower than default: many listeners are older and the hall is noisy.
  u.rate = lang() === "zh" ? 0.85 : 0.9;
  const voice = (synth.getVoices() || []).find((v) => v.lang && v.lang.replace("_", "-").startsWith(u.lang.slice(0, 2)));
  if (voice) u.voice = voice;
  synth.speak(u);
}

export function stopSpeaking() {
  if (window.speechSynthesis) window.speechSynthesis.cancel();
}

/** Seconds left on an offer by the server's clock. */
export function secondsLeft(expiresAt) {
  return Math.max(0, Math.ceil((Date.parse(expiresAt) - serverNow()) / 1000));
}

/** A short chime made on the spot (no sound files to fetch). */
let audio = null;
export function chime() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    [880, 1175, 1568].forEach((freq, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.3, now + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.4);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.18);
      osc.stop(now + i * 0.18 + 0.45);
    });
  } catch { /* no audio device: the screen and speech still carry the offer */ }
}
