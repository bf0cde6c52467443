// How an employer reaches a worker it hired (issue 10, SPEC 11.2): the whole phone number as a
// tap-to-call link while the hire is live; a worker without a phone through the market desk.

import { t, addStrings } from "./i18n.js";
import { h, icon } from "./client.js";

addStrings({
  zh: {
    "ct.call": "打电话 {phone}",
    "ct.call.label": "给 {name} 打电话 {phone}",
    "ct.nophone": "没有手机：请到市场服务台询问",
    "ct.desk": "没有手机：请打市场服务台 {phone}",
  },
  en: {
    "ct.call": "Call {phone}",
    "ct.call.label": "Call {name} on {phone}",
    "ct.nophone": "No phone: ask at the market desk",
    "ct.desk": "No phone: call the market desk on {phone}",
  },
});

/** The contact line of a hired worker in a job view, or null when there is none to show. */
export function workerContact(w) {
  if (w.phone_shown && w.phone) {
    return h("a", { class: "btn btn-ok contact-call", href: `tel:${w.phone}`, "aria-label": t("ct.call.label", { name: w.name, phone: w.phone }) },
      icon("📞"), ` ${t("ct.call", { phone: w.phone })}`);
  }
  if (w.phone === null && ["accepted", "checked_in"].includes(w.state)) {
    return h("p", { class: "small contact-desk" }, icon("🏢"), " ",
      w.desk_phone ? h("a", { href: `tel:${w.desk_phone}` }, t("ct.desk", { phone: w.desk_phone })) : t("ct.nophone"));
  }
  return null;
}
