// The manager console's kiosk panel (/manage#kiosks) and service desk (issue 10): register a
// kiosk at a station and open it already set up (link and QR, shown once); see each kiosk's
// last contact and revoke it; find a worker by the ID number's last digits or name, reset a
// forgotten PIN (the temporary PIN is shown once) and unlock a check-in code locked by typing.

import { t, addStrings, fmtWhen } from "./i18n.js";
import { api, showError, showNotice, h, icon, insertQr } from "./client.js";
import { confirmDialog } from "./after.js";

addStrings({
  zh: {
    "ka.title": "自助机",
    "ka.station": "放在哪个服务点",
    "ka.name": "自助机名称（可不填）",
    "ka.add": "登记一台自助机",
    "ka.made": "已登记「{name}」。在自助机上打开下面的链接（或用它的摄像头扫码），就设置好了。链接只显示这一次。",
    "ka.open": "打开自助机页面",
    "ka.link": "设置链接",
    "ka.qr": "自助机设置二维码",
    "ka.devices": "已登记的自助机",
    "ka.none": "还没有登记自助机。",
    "ka.col.name": "名称",
    "ka.col.station": "服务点",
    "ka.col.contact": "最后联系",
    "ka.col.state": "状态",
    "ka.never": "还没联系过",
    "ka.active": "在用",
    "ka.revoked": "已停用",
    "ka.revoke": "停用",
    "ka.revoke.title": "停用自助机「{name}」？",
    "ka.revoke.text": "停用后它马上不能再用，要重新登记一台才能恢复。",
    "ka.revoke.done": "已停用「{name}」。",
    "ka.desk": "服务台 · 找工人",
    "ka.desk.help": "先当面核对身份证，再重置密码或解锁签到码。",
    "ka.desk.q": "身份证后 4 位或姓名",
    "ka.desk.find": "查找",
    "ka.desk.none": "没找到。工人要在本市场登记或签到过。",
    "ka.pin.reset": "重置密码",
    "ka.pin.title": "已核对 {name} 的身份证，重置密码？",
    "ka.pin.text": "会给一个 6 位临时密码；工人下次在自助机登录时要换成自己的新密码。",
    "ka.pin.shown": "{name} 的临时密码：{pin}（只显示这一次，请当面告诉工人）",
    "ka.pin.pending": "等工人换新密码",
    "ka.unlock": "解锁签到码：{title}",
    "ka.unlock.done": "已解锁，老板可以再输签到码。",
  },
  en: {
    "ka.title": "Kiosks",
    "ka.station": "At which station",
    "ka.name": "Kiosk name (optional)",
    "ka.add": "Register a kiosk",
    "ka.made": "“{name}” is registered. Open the link below on the kiosk (or scan the QR with its camera) and it is set up. The link is shown only this once.",
    "ka.open": "Open the kiosk page",
    "ka.link": "Setup link",
    "ka.qr": "Kiosk setup QR code",
    "ka.devices": "Registered kiosks",
    "ka.none": "No kiosk is registered yet.",
    "ka.col.name": "Name",
    "ka.col.station": "Station",
    "ka.col.contact": "Last contact",
    "ka.col.state": "State",
    "ka.never": "never yet",
    "ka.active": "in use",
    "ka.revoked": "revoked",
    "ka.revoke": "Revoke",
    "ka.revoke.title": "Revoke the kiosk “{name}”?",
    "ka.revoke.text": "It stops working at once; only registering a kiosk again brings it back.",
    "ka.revoke.done": "“{name}” is revoked.",
    "ka.desk": "Service desk · find a worker",
    "ka.desk.help": "Check the ID card in person before resetting a PIN or unlocking a code.",
    "ka.desk.q": "Last 4 of the ID number, or the name",
    "ka.desk.find": "Find",
    "ka.desk.none": "Nobody found. The worker must have registered or checked in at this market.",
    "ka.pin.reset": "Reset PIN",
    "ka.pin.title": "ID card of {name} checked: reset the PIN?",
    "ka.pin.text": "A 6-digit temporary PIN is given; at the next kiosk sign-in the worker chooses a new one.",
    "ka.pin.shown": "Temporary PIN for {name}: {pin} (shown only this once; tell the worker in person)",
    "ka.pin.pending": "waiting for a new PIN",
    "ka.unlock": "Unlock the check-in code: {title}",
    "ka.unlock.done": "Unlocked; the employer may type the code again.",
  },
});

const $ = (id) => document.getElementById(id);
let ctx = null;
let wired = false;

/** Show the panel for ``market``; called again when the manager switches markets. */
export function mountKioskAdmin({ token, market, onAuthFailed }) {
  ctx = { token, market, onAuthFailed };
  if (!wired) {
    wired = true;
    $("kiosk-form").addEventListener("submit", registerKiosk);
    $("desk-form").addEventListener("submit", findWorkers);
  }
  $("kiosk-station").replaceChildren(...market.stations.map((s) => h("option", { value: s.id }, s.name)));
  $("kiosk-made").hidden = true;
  $("kiosk-made").replaceChildren();
  $("desk-found").replaceChildren();
  loadKiosks();
  if (location.hash === "#kiosks") $("kiosks").scrollIntoView();
}

async function call(method, path, body) {
  try {
    return await api(method, path, { token: ctx.token, body });
  } catch (err) {
    if (err.status === 401 && ctx.onAuthFailed) ctx.onAuthFailed();
    throw err;
  }
}

async function registerKiosk(ev) {
  ev.preventDefault();
  const body = { station_id: $("kiosk-station").value };
  const name = $("kiosk-name").value.trim();
  if (name) body.name = name;
  try {
    const made = await call("POST", `/markets/${ctx.market.id}/kiosks`, body);
    const station = ctx.market.stations.find((s) => s.id === made.station_id);
    const shownName = name || (station ? station.name : made.station_id);
    const qr = h("div", { class: "qr" });
    insertQr(qr, made.setup_qr_svg, t("ka.qr"));
    $("kiosk-made").replaceChildren(
      h("p", {}, t("ka.made", { name: shownName })),
      qr,
      h("p", {}, h("a", { href: made.setup_url, target: "_blank", rel: "noopener", "data-setup-link": made.id }, icon("🖥"), " ", t("ka.open"))),
      h("label", { for: "kiosk-link" }, t("ka.link")),
      h("input", { id: "kiosk-link", readonly: true, value: made.setup_url, class: "mono" }),
    );
    $("kiosk-made").hidden = false;
    $("kiosk-form").reset();
    loadKiosks();
  } catch (err) {
    showError(err, $("kiosk-form"));
  }
}

async function loadKiosks() {
  const marketId = ctx.market.id;
  try {
    const { kiosks } = await call("GET", `/markets/${marketId}/kiosks`);
    if (!ctx || ctx.market.id !== marketId) return;
    renderKiosks(kiosks);
  } catch (err) {
    showError(err);
  }
}

function renderKiosks(kiosks) {
  if (!kiosks.length) {
    $("kiosk-list").replaceChildren(h("p", { class: "muted" }, t("ka.none")));
    return;
  }
  $("kiosk-list").replaceChildren(h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["name", "station", "contact", "state"].map((c) => h("th", {}, t(`ka.col.${c}`))), h("th", {}, ""))),
    h("tbody", {}, kiosks.map((k) => h("tr", { "data-kiosk": k.id, "data-state": k.state },
      h("td", {}, k.name),
      h("td", {}, k.station_name || k.station_id),
      h("td", {}, k.last_contact_at ? fmtWhen(k.last_contact_at) : t("ka.never")),
      h("td", {}, h("span", { class: `badge ${k.state === "active" ? "badge-ok" : "badge-warn"}` }, t(`ka.${k.state}`))),
      h("td", {}, k.state === "active"
        ? h("button", { type: "button", class: "btn btn-danger", onclick: () => revoke(k) }, t("ka.revoke"))
        : null))))));
}

async function revoke(k) {
  const ok = await confirmDialog({ title: t("ka.revoke.title", { name: k.name }), text: t("ka.revoke.text"), yes: t("ka.revoke"), danger: true });
  if (!ok) return;
  try {
    await call("POST", `/kiosks/${k.id}/revoke`);
    showNotice(t("ka.revoke.done", { name: k.name }));
  } catch (err) {
    showError(err);
  }
  loadKiosks();
}

async function findWorkers(ev) {
  ev && ev.preventDefault();
  const q = $("desk-q").value.trim();
  try {
    const { workers } = await call("GET", `/markets/${ctx.market.id}/workers?q=${encodeURIComponent(q)}`);
    renderFound(workers);
  } catch (err) {
    showError(err, $("desk-form"));
  }
}

function renderFound(workers) {
  if (!workers.length) {
    $("desk-found").replaceChildren(h("p", { class: "muted" }, t("ka.desk.none")));
    return;
  }
  $("desk-found").replaceChildren(...workers.map((w) => h("div", { class: "desk-worker", "data-desk-worker": w.id },
    h("p", {}, h("strong", {}, w.name || "—"), " ", h("span", { class: "mono" }, w.id_number || ""), " ", w.phone || "",
      w.must_change_pin ? h("span", { class: "badge badge-warn" }, t("ka.pin.pending")) : null),
    h("div", { class: "inline" },
      h("button", { type: "button", class: "btn", onclick: () => resetPin(w) }, icon("🔑"), " ", t("ka.pin.reset")),
      (w.locked_assignments || []).map((a) => h("button", { type: "button", class: "btn", "data-unlock": a.id, onclick: () => unlock(a) }, icon("🔓"), " ", t("ka.unlock", { title: a.title })))),
    h("p", { class: "desk-pin", "data-temp-pin": w.id, role: "status" }))));
}

async function resetPin(w) {
  const ok = await confirmDialog({ title: t("ka.pin.title", { name: w.name }), text: t("ka.pin.text"), yes: t("ka.pin.reset") });
  if (!ok) return;
  try {
    const r = await call("POST", `/workers/${w.id}/pin_reset`);
    const out = document.querySelector(`[data-temp-pin="${CSS.escape(w.id)}"]`);
    if (out) out.textContent = t("ka.pin.shown", { name: w.name, pin: r.temporary_pin });
  } catch (err) {
    showError(err);
  }
}

async function unlock(a) {
  try {
    await call("POST", `/assignments/${a.id}/unlock_code`);
    showNotice(t("ka.unlock.done"));
    await findWorkers();
  } catch (err) {
    showError(err);
  }
}
