// The signed-in life of a phone page, worker's or employer's alike: the stored session, the
// sign-in screen, starting the live channel, the tab views, signing out. Each page says only
// what differs: its views, what it loads, what it does with a live message, where it opens.

import { applyI18n, mountLangSwitch, onLangChange } from "./i18n.js";
import { api, Live, StoredSession, loadCatalogue, showError } from "./client.js";
import { mountOtp } from "./otp.js";

const $ = (id) => document.getElementById(id);
/** A first load that failed for want of a network is tried again this much later. */
const RETRY_MS = 5000;

export class PhoneApp {
  /**
   * @param {object} page
   * @param {"worker"|"employer"} page.role
   * @param {string[]} page.views the tab views (#v-<view>), in tab order
   * @param {object} page.state the page's state: ``session``, ``me``, ``live``, ``view``, ``cat`` and ``market`` are kept here
   * @param {() => Promise<void>} page.load everything the signed-in page shows (sets ``state.me``)
   * @param {() => Promise<void>} page.reload what to fetch again when the socket (re)connects
   * @param {(msg: object) => void} page.onMessage a live message
   * @param {() => string} page.firstView the view to open after signing in
   * @param {() => void} page.render draw the current view
   */
  constructor(page) {
    this.page = page;
    this.stored = new StoredSession(page.role);
  }

  /**
   * Open the page: the language switch, the sign-in form, the tabs and the sign-out button,
   * then ``wirePage`` (the page's own forms), all at once before anything loads; then the
   * market catalogue, and a stored session picked up or the sign-in shown.
   */
  async open(wirePage) {
    const { state } = this.page;
    applyI18n();
    mountLangSwitch($("lang"));
    mountOtp({ role: this.page.role, onSignedIn: (r) => this.signedIn(r) });
    for (const b of $("tabs").querySelectorAll("button")) b.addEventListener("click", () => this.go(b.dataset.view));
    $("signout").addEventListener("click", () => this.signOut());
    wirePage();
    onLangChange(this.page.render);
    try {
      state.cat = await loadCatalogue();
      // The market the link names (the board's QR says ?market=…); the first one otherwise.
      const named = new URLSearchParams(location.search).get("market");
      state.market = state.cat.markets.find((m) => m.id === named) || state.cat.markets[0];
    } catch (err) {
      showError(err);
    }
    await this.resume();
  }

  /** Pick up a stored session, or show the sign-in. */
  async resume() {
    const saved = this.stored.get();
    if (saved && saved.token) await this.start(saved);
    else this.showSignin();
  }

  showSignin() {
    for (const v of this.page.views) $(`v-${v}`).hidden = true;
    $("v-signin").hidden = false;
    $("tabs").hidden = true;
  }

  async signedIn(r) {
    this.stored.set({ token: r.token, userId: r.user_id });
    await this.start(this.stored.get());
  }

  async start(saved) {
    const { state } = this.page;
    state.session = saved;
    try {
      await this.page.load();
    } catch (err) {
      if (err.status === 401) { this.signOut(); return; }
      // Most likely the hall's network: say so, and try again rather than open half a page.
      showError(err);
      setTimeout(() => { if (state.session === saved && !state.live) this.start(saved); }, RETRY_MS);
      return;
    }
    const reload = () => this.page.reload().catch(() => {});
    state.live = new Live({
      token: saved.token,
      recipient: `${this.page.role}.${saved.userId}`,
      indicator: $("conn"),
      onMessage: this.page.onMessage,
      onReady: reload,
      onSnapshot: reload,
      onAuthFailed: () => this.signOut(),
    });
    state.live.start();
    $("v-signin").hidden = true;
    $("tabs").hidden = false;
    this.go(this.page.firstView());
  }

  signOut() {
    const { state } = this.page;
    if (state.session) api("POST", "/auth/logout", { token: state.session.token }).catch(() => {});
    if (state.live) state.live.stop();
    this.stored.clear();
    state.session = null;
    state.live = null;
    state.me = null;
    this.showSignin();
  }

  go(view) {
    this.page.state.view = view;
    for (const v of this.page.views) $(`v-${v}`).hidden = v !== view;
    for (const b of $("tabs").querySelectorAll("button")) {
      if (b.dataset.view === view) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    this.page.render();
    $("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}
