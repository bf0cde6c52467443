// Pieces the pages share for the steps after an accept: a 1–5 star rating with a few tags,
// a confirm dialog built on <dialog>, and the block action.

import { t } from "./i18n.js";
import { api, ApiError, h, icon, showError, showNotice } from "./client.js";

export const WORKER_TAGS = ["on_time", "hard_working", "skilled", "polite", "late"];
export const EMPLOYER_TAGS = ["paid_on_time", "as_described", "safe", "fair", "not_as_described"];

let formSeq = 0;

/**
 * A rating form: five star radios (each named "N 星" for screen readers) and tag checkboxes.
 * onRate({stars, tags}) returns a promise; the form disables itself while it is sent.
 */
export function ratingForm({ tags, onRate, big = false, label }) {
  const id = `rate-${++formSeq}`;
  const starBox = h("div", { class: "stars", role: "radiogroup", "aria-label": t("aa.stars") },
    [1, 2, 3, 4, 5].map((n) => h("label", { class: "star" },
      h("input", { type: "radio", name: id, value: String(n), "aria-label": t("aa.star", { n }) }),
      h("span", { "aria-hidden": "true" }, "★"))));
  const tagBox = h("fieldset", { class: "tags" }, h("legend", { class: "small" }, t("aa.tags")),
    tags.map((tag) => h("label", { class: "tag" },
      h("input", { type: "checkbox", value: tag }), ` ${t(`aa.tag.${tag}`)}`)));
  const submit = h("button", { type: "submit", class: `btn btn-primary${big ? " btn-block k-big" : ""}` }, icon("★"), t("aa.rate"));
  const form = h("form", { class: "rate-form", "aria-label": label || t("aa.rate"), novalidate: true },
    starBox, tagBox, submit);
  // Stars light up to the chosen one, so the choice reads as a row of filled stars.
  const paint = () => {
    const chosen = Number((form.querySelector("input[type=radio]:checked") || {}).value || 0);
    form.querySelectorAll(".star").forEach((el, i) => { el.dataset.on = i < chosen ? "true" : "false"; });
  };
  starBox.addEventListener("change", paint);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector("input[type=radio]:checked");
    if (!chosen) { starBox.querySelector("input").focus(); showError(new ApiError(0, "pick_stars", t("err.pick_stars"), null)); return; }
    const picked = [...tagBox.querySelectorAll("input:checked")].map((i) => t(`aa.tag.${i.value}`));
    submit.disabled = true;
    try {
      await onRate({ stars: Number(chosen.value), tags: picked });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Ask yes/no in a modal <dialog>; resolves true on yes. An optional note field is returned too. */
export function confirmDialog({ title, text, yes, no, danger = true, note = false, big = false }) {
  return new Promise((resolve) => {
    const noteInput = note ? h("textarea", { id: "confirm-note", maxlength: "200" }) : null;
    const dlg = h("dialog", { "aria-labelledby": "confirm-title", class: "confirm-dialog" },
      h("form", { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        text ? h("p", {}, text) : null,
        note ? h("div", { class: "field" }, h("label", { for: "confirm-note" }, t("aa.note")), noteInput) : null,
        h("div", { class: "btn-row" },
          h("button", { value: "no", class: `btn${big ? " k-big" : ""}` }, no || t("aa.no")),
          h("button", { value: "yes", class: `btn ${danger ? "btn-danger" : "btn-primary"}${big ? " k-big" : ""}` }, yes || t("aa.yes")))));
    dlg.addEventListener("close", () => {
      const ok = dlg.returnValue === "yes";
      const value = noteInput ? noteInput.value.trim() : "";
      dlg.remove();
      resolve(note ? { ok, note: value } : ok);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** Block the other side after a confirm; body is {worker_id} or {employer_id}. */
export async function blockOther(token, body) {
  const ok = await confirmDialog({ title: t("aa.block.title"), text: t("aa.block.text"), yes: t("aa.block") });
  if (!ok) return false;
  try {
    await api("POST", "/blocks", { token, body });
    showNotice(t("aa.block.done"));
    return true;
  } catch (err) {
    showError(err);
    // A repeated block is refused as a conflict: the pair is blocked all the same.
    return err instanceof ApiError && err.status === 409;
  }
}

/** A blocked pair shown as done instead of the button. */
export function blockedBadge() {
  return h("span", { class: "badge badge-warn", "data-blocked": "true" }, icon("⛔"), t("aa.blocked"));
}

/**
 * The worker calls off accepted work after a confirm that says plainly whether it is a late
 * cancel (within the market's late_cancel_hours of the start), which costs reliability.
 * Resolves the cancelled ASSIGNMENT, or null when not cancelled.
 */
export async function cancelAssignment(token, a, lateHours, { big = false } = {}) {
  const hours = lateHours == null ? 12 : lateHours;
  const startAt = Date.parse((a.job || {}).start_at || a.start_at || "");
  const late = Number.isFinite(startAt) && startAt - Date.now() < hours * 3600 * 1000;
  const ok = await confirmDialog({
    title: t("aa.cancel.title"),
    text: t(late ? "aa.cancel.late" : "aa.cancel.early", { h: hours }),
    yes: t("aa.cancel.yes"),
    no: t("aa.cancel.keep"),
    big,
  });
  if (!ok) return null;
  try {
    const r = await api("POST", `/assignments/${a.id}/cancel`, { token });
    showNotice(t("aa.cancel.done"));
    return r.assignment;
  } catch (err) {
    showError(err);
    return null;
  }
}

/** A clear sentence for the lifecycle's refusals: bad_code here means a check-in code, not an
 * OTP; ``sentence`` names whose code (the worker's slip by default, or the site's). */
export function lifecycleError(err, sentence = "err.bad_code_checkin") {
  if (err && err.code === "bad_code") {
    return new ApiError(err.status, "bad_code_checkin", t(sentence), err.field);
  }
  return err;
}
