// Phone + one-time code sign-in, shared by the worker's and the employer's phone pages.
// Expects #otp-form (#phone, #send-code), #verify-form (#code) and #dev-code in the page.

import { t, addStrings } from "./i18n.js";
import { api, showError, clearFieldErrors, setFieldError, showNotice } from "./client.js";
import { checkPhone } from "./codes.js";

addStrings({
  zh: {
    "skip": "跳到正文",
    "otp.title": "手机号登录",
    "otp.phone": "手机号",
    "otp.send": "获取验证码",
    "otp.resend": "{s} 秒后可重发",
    "otp.code": "验证码（6 位）",
    "otp.signin": "登录",
    "otp.sent": "验证码已发送，请查看短信。",
    "otp.dev": "开发模式验证码：{code}（已自动填好）",
    "otp.phone.bad": "手机号是 1 开头的 11 位数字",
    "otp.code.bad": "请填 6 位验证码",
  },
  en: {
    "skip": "Skip to content",
    "otp.title": "Sign in with your phone",
    "otp.phone": "Mobile number",
    "otp.send": "Get code",
    "otp.resend": "Resend in {s} s",
    "otp.code": "Code (6 digits)",
    "otp.signin": "Sign in",
    "otp.sent": "Code sent. Check your messages.",
    "otp.dev": "Dev mode code: {code} (filled in for you)",
    "otp.phone.bad": "A mobile number has 11 digits and starts with 1",
    "otp.code.bad": "Enter the 6-digit code",
  },
});

const RESEND_AFTER_S = 60;

export function mountOtp({ role, onSignedIn }) {
  const otpForm = document.getElementById("otp-form");
  const verifyForm = document.getElementById("verify-form");
  const phone = document.getElementById("phone");
  const code = document.getElementById("code");
  const send = document.getElementById("send-code");
  const dev = document.getElementById("dev-code");
  let resendTimer = 0;

  otpForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFieldErrors(otpForm);
    const p = phone.value.replace(/\s+/g, "");
    if (!checkPhone(p)) {
      setFieldError(phone, t("otp.phone.bad"));
      phone.focus();
      return;
    }
    send.disabled = true;
    try {
      const r = await api("POST", "/auth/otp", { body: { phone: p } });
      if (r && r.dev_code) {
        code.value = r.dev_code;
        dev.hidden = false;
        dev.textContent = t("otp.dev", { code: r.dev_code });
      } else {
        showNotice(t("otp.sent"));
      }
      code.focus();
      let left = RESEND_AFTER_S;
      send.textContent = t("otp.resend", { s: left });
      clearInterval(resendTimer);
      resendTimer = setInterval(() => {
        left -= 1;
        if (left <= 0) {
          clearInterval(resendTimer);
          send.disabled = false;
          send.textContent = t("otp.send");
        } else send.textContent = t("otp.resend", { s: left });
      }, 1000);
    } catch (err) {
      send.disabled = false;
      showError(err, otpForm);
    }
  });

  verifyForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFieldErrors(verifyForm);
    if (!/^\d{6}$/.test(code.value.trim())) {
      setFieldError(code, t("otp.code.bad"));
      code.focus();
      return;
    }
    try {
      const r = await api("POST", "/auth/verify", {
        body: { phone: phone.value.replace(/\s+/g, ""), code: code.value.trim(), role },
      });
      clearInterval(resendTimer);
      dev.hidden = true;
      verifyForm.reset();
      await onSignedIn(r);
    } catch (err) {
      showError(err, verifyForm);
    }
  });
}
