// Check digits checked as people type, so a slip of the finger shows at once. The server
// checks again; these only save a round trip.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** GB 11643 citizen ID number: "ok" | "short" | "chars" | "check". */
export function checkIdNumber(raw) {
  const v = String(raw || "").trim().toUpperCase();
  if (v.length < 18) return /^\d*$/.test(v) ? "short" : "chars";
  if (!/^\d{17}[\dX]$/.test(v)) return "chars";
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(v[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11] === v[17] ? "ok" : "check";
}

const CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100 unified social credit code: "ok" | "short" | "long" | "chars" | "check". */
export function checkCreditCode(raw) {
  const v = String(raw || "").trim().toUpperCase();
  for (const ch of v) if (!CREDIT_CHARS.includes(ch)) return "chars";
  if (v.length < 18) return "short";
  if (v.length > 18) return "long";
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += CREDIT_CHARS.indexOf(v[i]) * CREDIT_WEIGHTS[i];
  const check = (31 - (sum % 31)) % 31;
  return CREDIT_CHARS[check] === v[17] ? "ok" : "check";
}

/** Mainland mobile numbers: 11 digits starting with 1. */
export function checkPhone(raw) {
  return /^1\d{10}$/.test(String(raw || "").trim());
}
