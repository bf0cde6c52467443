// The manager's certificate review queue (issue 10): each declared certificate with the number
// to compare with the card in front of the desk, verify, or reject with a note the worker reads.

import { t, addStrings, fmtWhen, pick } from "./i18n.js";
import { api, ApiError, h, icon, showError, showNotice, clearFieldErrors } from "./client.js";

addStrings({
  zh: {
    "cr.title": "证书核验",
    "cr.none": "没有待核验的证书。",
    "cr.col.worker": "工人",
    "cr.col.cert": "证书",
    "cr.col.action": "处理",
    "cr.until": "有效期至 {date}",
    "cr.verify": "核验通过",
    "cr.reject": "退回",
    "cr.note": "退回原因（工人会看到）",
    "cr.verified": "证书已核验。",
    "cr.rejected": "证书已退回。",
    "cr.note.required": "请写明退回原因，工人会看到。",
    "ev.certificate.declared": "工人登记证书",
    "ev.certificate.verified": "证书核验通过",
    "ev.certificate.rejected": "证书被退回",
  },
  en: {
    "cr.title": "Certificates to verify",
    "cr.none": "No certificate waiting.",
    "cr.col.worker": "Worker",
    "cr.col.cert": "Certificate",
    "cr.col.action": "Action",
    "cr.until": "valid until {date}",
    "cr.verify": "Verify",
    "cr.reject": "Reject",
    "cr.note": "Why (the worker reads this)",
    "cr.verified": "Certificate verified.",
    "cr.rejected": "Certificate rejected.",
    "cr.note.required": "Write why: the worker reads it.",
    "ev.certificate.declared": "Certificate declared",
    "ev.certificate.verified": "Certificate verified",
    "ev.certificate.rejected": "Certificate rejected",
  },
});

function row(c, token, done) {
  const key = `${c.worker_id}-${c.skill}`;
  const note = h("input", { id: `cr-note-${key}`, name: "note", maxlength: "200", autocomplete: "off" });
  const reject = h("form", { class: "cert-reject", novalidate: true },
    h("label", { for: note.id }, t("cr.note")), note,
    h("button", { type: "submit", class: "btn btn-danger" }, icon("✕"), ` ${t("cr.reject")}`));
  reject.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFieldErrors(reject);
    if (!note.value.trim()) {
      // Asked here, in the manager's language, before a round trip the server would refuse.
      showError(new ApiError(422, "required", t("cr.note.required"), "note"), reject);
      return;
    }
    try {
      await api("POST", `/workers/${c.worker_id}/certificates/${c.skill}/reject`, { token, body: { note: note.value.trim() } });
      showNotice(t("cr.rejected"));
      done();
    } catch (err) {
      showError(err, reject);
    }
  });
  const verify = async () => {
    try {
      await api("POST", `/workers/${c.worker_id}/certificates/${c.skill}/verify`, { token });
      showNotice(t("cr.verified"));
      done();
    } catch (err) {
      showError(err);
    }
  };
  return h("tr", { "data-cert": key },
    h("td", {}, h("b", {}, c.worker || "—"), h("br"), h("span", { class: "small muted" }, c.phone || "")),
    h("td", {}, h("b", {}, c.skill_name ? pick(c.skill_name) : c.skill), h("br"),
      h("span", { class: "nowrap" }, c.number), h("br"),
      h("span", { class: "small muted" }, `${t("cr.until", { date: c.expires_on })} · ${fmtWhen(c.declared_at)}`)),
    h("td", {},
      h("button", { type: "button", class: "btn btn-ok", onclick: verify }, icon("✓"), ` ${t("cr.verify")}`),
      reject));
}

/** Load the market's pending certificates into container; returns how many wait. */
export async function refreshCertificateQueue(container, countBadge, { marketId, token }) {
  let list;
  try {
    list = (await api("GET", `/markets/${marketId}/certificates?state=pending`, { token })).certificates || [];
  } catch (err) {
    showError(err);
    return 0;
  }
  const again = () => refreshCertificateQueue(container, countBadge, { marketId, token });
  countBadge.textContent = String(list.length);
  countBadge.hidden = list.length === 0;
  container.replaceChildren(list.length ? h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ["cr.col.worker", "cr.col.cert", "cr.col.action"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, list.map((c) => row(c, token, again))),
  ) : h("p", { class: "muted" }, t("cr.none")));
  return list.length;
}
