// A worker's certificates (特种作业操作证 and the like): the list with each one's state and the
// manager's note, and a small form to declare one. Used by the phone page and the kiosk; the
// kiosk adds a touch keypad for the number and every field is a big tap target (issue 10).

import { t, addStrings, skillLabel, dayParts } from "./i18n.js";
import { api, h, icon, showError, showNotice, clearFieldErrors } from "./client.js";

addStrings({
  zh: {
    "c.title": "我的证书",
    "c.lead": "电工、焊工等活要有经过核验的证书。填好后请带原件到市场服务台核验。",
    "c.none": "还没有登记证书。",
    "c.skill": "证书对应的工种",
    "c.number": "证书编号",
    "c.expires": "有效期至",
    "c.year": "年",
    "c.month": "月",
    "c.day": "日",
    "c.add": "提交证书",
    "c.saved": "证书已提交，请带原件到服务台核验。",
    "c.state.pending": "等待核验",
    "c.state.verified": "已核验",
    "c.state.rejected": "未通过",
    "c.state.expired": "已过期",
    "c.until": "有效期至 {date}",
    "c.note": "服务台说明：{note}",
    "c.delete": "删除一位",
    "c.keypad": "输入证书编号的按键",
    "err.certificate_expired": "证书已过期。请换新证后，带原件到市场服务台核验。",
    "err.bad_certificate_number": "证书编号请按证上的写：3 到 40 位字母或数字。",
    "err.bad_date": "日期不对，请重新选择。",
    "err.no_such_certificate": "没有登记这个工种的证书。",
  },
  en: {
    "c.title": "My certificates",
    "c.lead": "Electrician and welder jobs need a verified certificate. Declare it here, then show the card at the market desk.",
    "c.none": "No certificate declared yet.",
    "c.skill": "Skill it certifies",
    "c.number": "Certificate number",
    "c.expires": "Valid until",
    "c.year": "Year",
    "c.month": "Month",
    "c.day": "Day",
    "c.add": "Declare certificate",
    "c.saved": "Certificate declared. Show the card at the market desk to have it verified.",
    "c.state.pending": "waiting for the desk",
    "c.state.verified": "verified",
    "c.state.rejected": "not accepted",
    "c.state.expired": "expired",
    "c.until": "valid until {date}",
    "c.note": "From the desk: {note}",
    "c.delete": "Delete one",
    "c.keypad": "Keys for the certificate number",
    "err.certificate_expired": "The certificate has expired. Renew it and show the new card at the market desk.",
    "err.bad_certificate_number": "Type the number as on the card: 3 to 40 letters or digits.",
    "err.bad_date": "That date does not exist. Choose it again.",
    "err.no_such_certificate": "No certificate is declared for that skill.",
  },
});

const KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "T", "0", "X"];

function pad2(n) { return String(n).padStart(2, "0"); }

function select(id, name, label, values, chosen) {
  return h("div", { class: "field cert-date-part" },
    h("label", { for: id }, label),
    h("select", { id, name }, values.map((v) => h("option", { value: String(v), selected: v === chosen }, String(v)))));
}

/**
 * Draw the certificates panel into root.
 * opts: token, me (GET /me), skills (catalogue entries offered here), profile() -> the rest of
 * the PUT /me/profile body, onSaved(me), keypad (true at the kiosk), idPrefix.
 */
export function certificatePanel(root, opts) {
  const { me, skills, keypad = false, idPrefix = "c" } = opts;
  const certs = me.certificates || [];
  const byCode = new Map(skills.map((s) => [s.code, s]));
  const needing = skills.filter((s) => s.certificate_required);
  const today = dayParts(new Date());
  const ids = { skill: `${idPrefix}-skill`, number: `${idPrefix}-number`, year: `${idPrefix}-year`, month: `${idPrefix}-month`, day: `${idPrefix}-day` };
  const years = Array.from({ length: 11 }, (_, i) => today.year + i);
  const number = h("input", {
    id: ids.number, name: "number", maxlength: "40", autocomplete: "off", spellcheck: "false",
    class: keypad ? "k-input" : null, inputmode: keypad ? "none" : "text", required: true,
  });
  const form = h("form", { class: "cert-form", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: ids.skill }, t("c.skill")),
      h("select", { id: ids.skill, name: "skill" }, needing.map((s) => h("option", { value: s.code }, `${s.icon || ""} ${skillLabel(s)}`)))),
    h("div", { class: "field" }, h("label", { for: ids.number }, t("c.number")), number),
    keypad ? h("div", { class: "keypad cert-keypad", role: "group", "aria-label": t("c.keypad") },
      [...KEYPAD, "⌫"].map((k) => h("button", {
        type: "button",
        class: k === "⌫" ? "key-action" : null,
        "aria-label": k === "⌫" ? t("c.delete") : k,
        onpointerdown: (ev) => ev.preventDefault(),
        onclick: () => {
          number.value = k === "⌫" ? number.value.slice(0, -1) : (number.value + k).slice(0, 40);
          number.focus();
        },
      }, k))) : null,
    h("fieldset", { class: "cert-date" },
      h("legend", {}, t("c.expires")),
      // The year select carries the field's name: an error about expires_on lands on it.
      select(ids.year, "expires_on", t("c.year"), years, today.year + 1),
      select(ids.month, "expires_month", t("c.month"), Array.from({ length: 12 }, (_, i) => i + 1), today.month),
      select(ids.day, "expires_day", t("c.day"), Array.from({ length: 31 }, (_, i) => i + 1), today.day)),
    h("button", { type: "submit", class: `btn btn-primary${keypad ? " k-big" : ""}` }, icon("📜"), ` ${t("c.add")}`));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const skill = form.elements.skill.value;
    const expires = `${form.elements.expires_on.value}-${pad2(form.elements.expires_month.value)}-${pad2(form.elements.expires_day.value)}`;
    const declared = { skill, number: number.value.trim(), expires_on: expires };
    // The whole list is declared each time: the others unchanged keep their state.
    const list = certs.filter((c) => c.skill !== skill).map((c) => ({ skill: c.skill, number: c.number, expires_on: c.expires_on }));
    try {
      const saved = await api("PUT", "/me/profile", { token: opts.token, body: { ...opts.profile(), certificates: [...list, declared] } });
      showNotice(t("c.saved"));
      opts.onSaved(saved);
    } catch (err) {
      showError(err, form);
    }
  });

  const todayIso = `${today.year}-${pad2(today.month)}-${pad2(today.day)}`;
  const items = certs.map((c) => {
    const s = byCode.get(c.skill);
    const state = c.state === "verified" && c.expires_on < todayIso ? "expired" : c.state;
    return h("li", { class: "cert-item", "data-cert": c.skill, "data-state": state },
      h("b", {}, s ? `${s.icon || ""} ${skillLabel(s)}` : c.skill), " ",
      h("span", { class: `badge ${state === "verified" ? "badge-ok" : state === "pending" ? "badge-info" : "badge-warn"}` }, t(`c.state.${state}`)),
      h("br"),
      h("span", { class: "small" }, `${c.number} · ${t("c.until", { date: c.expires_on })}`),
      c.note ? h("p", { class: "small cert-note" }, t("c.note", { note: c.note })) : null);
  });
  root.replaceChildren(
    h("h2", {}, icon("📜"), ` ${t("c.title")}`),
    h("p", { class: "small" }, t("c.lead")),
    items.length ? h("ul", { class: "cert-list" }, items) : h("p", { class: "muted" }, t("c.none")),
    needing.length ? form : null);
}
