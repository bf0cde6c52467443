"""Issue 10's acceptance walk: one phoneless worker's whole day through the real pages.

At a portrait kiosk she reads the privacy notice, registers with the card reader's line and a
PIN (no phone), picks her skills and wage, declares her electrician's card; the manager
verifies it in the dashboard's queue; she steps away still checked in. An employer posts an
electrician's job from a phone: the offer made while she is away runs out without burning
the pair. Back at the kiosk she signs in with ID number and PIN, gets the job again, accepts,
and the slip shows the date and six digits. The employer types the digits on the phone,
checks her in and completes the job; she confirms the pay at the kiosk and, still checked
in, takes a second job the same day. The ledger is read at the end for the order of it all.

Screenshots go to test-output/screenshots/day-NN-*.png (the closing note of issue 10)."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    KIOSK,
    MANAGER,
    PHONE_TALL,
    SPEECH_AND_PRINT_RECORDER,
    api,
    manager_dashboard,
    running_server,
    watch_errors,
)
from tests.browser.test_after_accept import phone_sign_in, sign_in
from tests.browser.test_journey import CST, LIVE_MS, credit_code, id_number
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

#: An offer to a worker with no screen lasts this long (shipped: 15 s), so the walk does not
#: wait for it; the offer to a worker at the kiosk keeps the shipped 45 s.
AWAY_OFFER_S = 3

NUMBER = id_number("44011419620815202")
PIN = "2580"
BOSS_PHONE = "13500135601"
FIRST_JOB = "配电箱检修（一天的路）"
SECOND_JOB = "仓库卸货（一天的路）"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's own server: the config copy shortens only the away offer."""
    with running_server(tmp_path_factory.mktemp("day"),
                        rules={"away_offer_timeout_s": AWAY_OFFER_S}) as srv:
        yield srv


def kiosk_sign_in(kiosk: Any, number: str = NUMBER, pin: str = PIN) -> None:
    """Card on the reader (its number and Enter), then the PIN on the screen's keypad."""
    from playwright.sync_api import expect

    kiosk.locator("#start").tap()
    expect(kiosk.locator("#s-id")).to_be_visible()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#s-pin")).to_be_visible()
    for digit in pin:
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()


def post_job(emp: Any, *, skill: str, title: str, wage: str, start: str, hours: str) -> str:
    """The employer's posting form on the phone, filled by tapping and typing; the job's id."""
    from playwright.sync_api import expect

    emp.locator("#tabs").get_by_role("button", name="发布").click()
    expect(emp.locator("#v-post")).to_be_visible()
    emp.locator(f'#j-skills [data-skill="{skill}"]').click()
    emp.get_by_label("标题").fill(title)
    emp.locator("#j-wage").fill(wage)
    emp.locator(f'[data-start="{start}"]').click()
    emp.locator("#j-dur").fill(hours)
    emp.locator('#j-stations [data-station="hall"]').click()
    expect(emp.get_by_label("详细地址")).to_have_value(re.compile("狮岭镇"))
    emp.locator("#j-submit").click()
    card = emp.locator("article.job-card").filter(has_text=title)
    expect(card.locator(".badge[data-state]")).to_have_attribute("data-state", "open",
                                                                 timeout=LIVE_MS)
    job_id = card.get_attribute("data-job")
    assert job_id
    return job_id


def wait_for_ledger(server: ServerProcess, sql: str, args: tuple[Any, ...]) -> list[Any]:
    """Rows of ``sql`` once there are any: what the dispatcher writes, waited for, not slept
    for."""
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:
        with closing(server.ledger()) as db:
            rows = db.execute(sql, args).fetchall()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_one_phoneless_workers_whole_day(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """Register at the kiosk, step away, come back to an offer, take a certified
    electrician's job, be checked in by the typed code, be paid, take a second job."""
    from playwright.sync_api import expect

    base = server.base_url
    kctx = browser.new_context(viewport=KIOSK, has_touch=True, locale="zh-CN")
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    # An ID card the market has not seen is looked up first (404) and leads to registering.
    kiosk = watch_errors(kctx.new_page(), page_errors, expected_refusals=("/kiosk/signin",))
    # The market's second copy (huashan) has a "hall" too: the link names the market, as the
    # console's setup link does.
    kiosk.goto(f"{base}/kiosk?market=shiling&station=hall#kiosk_token={kiosk_token}")

    # -- 1. first time at the kiosk: notice, card, name, PIN, skills, wage, certificate -----
    kiosk.get_by_role("button", name="第一次来？先登记").tap()
    expect(kiosk.locator("#s-privacy")).to_contain_text("身份证号属于敏感个人信息")
    shot(kiosk, "day-01-privacy")
    kiosk.get_by_role("button", name="我同意，开始登记").tap()
    expect(kiosk.locator("#s-id")).to_be_visible()
    # The reader types the chip's name and number, then Enter (docs/kiosk.md).
    kiosk.keyboard.type(f"黄秀英|{NUMBER}")
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#reg-id")).to_have_value(NUMBER)
    expect(kiosk.locator("#reg-name")).to_have_value("黄秀英")
    kiosk.get_by_label("设一个密码").tap()
    for digit in PIN:
        kiosk.locator("#s-register .keypad").get_by_role("button", name=digit,
                                                          exact=True).tap()
    expect(kiosk.get_by_label("手机号（11 位）")).to_have_value("")
    shot(kiosk, "day-02-register")
    kiosk.locator("#s-register").get_by_role("button", name="登记", exact=True).tap()

    expect(kiosk.locator("#s-skills")).to_be_visible()
    kiosk.locator('#skill-grid [data-skill="electrician"]').tap()
    kiosk.locator('#skill-grid [data-skill="loading"]').tap()
    expect(kiosk.locator('#skill-grid [data-skill="electrician"]')).to_have_attribute(
        "aria-pressed", "true")
    shot(kiosk, "day-03-skills")
    kiosk.locator("#skills-next").tap()
    expect(kiosk.locator("#s-wage")).to_be_visible()
    kiosk.locator("#wage-presets").get_by_role("button", name="200 元/天").tap()
    kiosk.locator("#wage-save").tap()
    # Saving the first profile checks her in at this station.
    expect(kiosk.locator("#s-wait")).to_be_visible(timeout=LIVE_MS)

    kiosk.locator("#s-wait").get_by_role("button", name="我的证书和接的活").tap()
    kiosk.locator("#s-home").get_by_role("button", name="我的证书").tap()
    panel = kiosk.locator("#k-certs")
    panel.get_by_label("证书对应的工种").select_option("electrician")
    for key in "T440114":
        panel.locator(".cert-keypad").get_by_role("button", name=key, exact=True).tap()
    expect(panel.get_by_label("证书编号", exact=True)).to_have_value("T440114")
    expires = str(datetime.now(CST).year + 2)
    panel.get_by_label("年", exact=True).select_option(expires)
    panel.get_by_label("月", exact=True).select_option("6")
    panel.get_by_label("日", exact=True).select_option("30")
    panel.get_by_role("button", name="提交证书").tap()
    expect(panel.locator("[data-cert=electrician]")).to_contain_text("等待核验",
                                                                      timeout=LIVE_MS)
    shot(kiosk, "day-04-certificate-declared")

    # -- 2. the manager verifies the card in the dashboard's queue -------------------------
    dash = manager_dashboard(browser, server, page_errors)
    row = dash.locator("#certs [data-cert]").filter(has_text="T440114")
    expect(row).to_contain_text("黄**", timeout=LIVE_MS)
    shot(dash, "day-05-manager-queue")
    row.get_by_role("button", name="核验通过").click()
    expect(dash.locator("#certs")).to_contain_text("没有待核验的证书。", timeout=LIVE_MS)
    dash.context.close()

    # -- 3. still checked in, she steps away: the kiosk signs her out -----------------------
    kiosk.locator("#s-certs").get_by_role("button", name="返回").tap()
    kiosk.locator("#s-home").get_by_role("button", name="看派工进度").tap()
    expect(kiosk.locator("#s-wait")).to_be_visible()
    shot(kiosk, "day-06-waiting")
    kiosk.locator("#s-wait").get_by_role("button", name="先离开（保持签到）").tap()
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=LIVE_MS)
    expect(kiosk.locator("#s-idle")).to_be_visible()
    expect(kiosk.locator("#alert")).to_contain_text("您还在签到名单上")
    shot(kiosk, "day-07-stepped-away")

    with closing(server.ledger()) as db:
        worker_id = db.execute("SELECT id FROM workers WHERE id_number_masked LIKE ?",
                               (f"%{NUMBER[-4:]}",)).fetchone()[0]

    # -- 4. an employer posts the electrician's job; the offer runs out while she is away ---
    # Verifying a business is the dashboard's review (tests/browser/test_journey.py): set here.
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, BOSS_PHONE, "employer")
    api(server, "PUT", "/me/profile", {"name": "钱老板", "org_name": "狮岭电工队",
                                       "credit_code": credit_code("91440114MA5D8K3D1")},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True,
                                           locale="zh-CN").new_page(), page_errors)
    # The market named in the link, as the board's QR names it (huashan shares the ground).
    phone_sign_in(emp, base, "/m/employer?market=shiling", BOSS_PHONE)
    expect(emp.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    first_job = post_job(emp, skill="electrician", title=FIRST_JOB, wage="400", start="now",
                         hours="0.5")
    shot(emp, "day-08-employer-posted")
    away = wait_for_ledger(
        server, "SELECT id FROM offers WHERE worker_id = ? AND job_id = ? AND state = 'expired'"
        " AND absent = 1", (worker_id, first_job))
    assert away, "the offer made while she was away did not run out as an absence"

    # -- 5. back at the kiosk: ID card and PIN, and the same job is offered again -----------
    kiosk_sign_in(kiosk)
    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-title")).to_have_text(FIRST_JOB)
    # The parting notice was for whoever stood here before, not for this sign-in.
    expect(kiosk.get_by_text("您还在签到名单上")).to_be_hidden()
    shot(kiosk, "day-09-offer-again")
    kiosk.locator("#accept").tap()
    expect(kiosk.locator("#s-slip")).to_be_visible()
    slip = kiosk.locator("#slip")
    # The job's own day in the market's zone: a job posted just before midnight starts on
    # the next day (this failed in a CI run at 23:5x in Shiling).
    (starts,), = wait_for_ledger(server, "SELECT start_at FROM jobs WHERE id = ?",
                                 (first_job,))
    day = datetime.fromtimestamp(starts, CST)
    expect(slip.locator('[data-slip="date"]')).to_contain_text(
        f"{day.year}年{day.month}月{day.day}日")
    code = slip.locator('[data-slip="code"]')
    expect(code).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    digits = code.inner_text().replace(" ", "")
    shot(kiosk, "day-10-slip")
    kiosk.locator("#s-slip").get_by_role("button", name="好了，退出").tap()
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=LIVE_MS)

    # -- 6. at the site: the six digits typed on the employer's phone, work done, pay ------
    emp.locator("#tabs").get_by_role("button", name="我的招工").click()
    card = emp.locator(f'[data-job="{first_job}"]')
    hired = card.locator("[data-worker]")
    expect(hired).to_have_attribute("data-state", "accepted", timeout=LIVE_MS)
    hired.get_by_label("黄** 单子上的签到码").fill(digits)
    shot(emp, "day-11-employer-types-code", full_page=True)
    hired.get_by_role("button", name="签到").click()
    expect(emp.locator("#alert")).to_contain_text("黄** 已到岗")
    expect(hired).to_have_attribute("data-state", "checked_in", timeout=LIVE_MS)
    expect(hired.get_by_label("实际干了几小时")).to_have_value("0.5")
    hired.get_by_label("实付工钱（元）").fill("400")
    hired.get_by_role("button", name="完工并记下工钱").click()
    expect(hired).to_have_attribute("data-state", "completed", timeout=LIVE_MS)
    shot(emp, "day-12-employer-completed", full_page=True)

    kiosk_sign_in(kiosk)
    # The job is over: she is waiting for work again, and the pay is on her own screen.
    expect(kiosk.locator("#s-wait")).to_be_visible(timeout=LIVE_MS)
    kiosk.locator("#s-wait").get_by_role("button", name="我的证书和接的活").tap()
    paid = kiosk.locator("#s-home").get_by_role("button", name=f"确认收到工钱：{FIRST_JOB}")
    paid.tap(timeout=LIVE_MS)
    confirm = kiosk.locator("dialog.confirm-dialog")
    expect(confirm).to_contain_text(FIRST_JOB)
    shot(kiosk, "day-13-confirm-pay")
    confirm.get_by_role("button", name="确认已收到工钱？").tap()
    expect(kiosk.locator("#alert")).to_contain_text("已确认收到工钱", timeout=LIVE_MS)
    expect(hired).to_have_attribute("data-state", "paid", timeout=LIVE_MS)
    kiosk.locator("#s-home").get_by_role("button", name="看派工进度").tap()
    expect(kiosk.locator("#s-wait")).to_be_visible()

    # -- 7. still checked in: a second job the same day, after the first ------------------
    second_job = post_job(emp, skill="loading", title=SECOND_JOB, wage="260", start="1h",
                          hours="4")
    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-title")).to_have_text(SECOND_JOB)
    shot(kiosk, "day-14-second-offer")
    kiosk.locator("#accept").tap()
    expect(kiosk.locator("#s-slip")).to_be_visible()
    expect(kiosk.locator("#slip").locator('[data-slip="job"]')).to_have_text(SECOND_JOB)
    shot(kiosk, "day-15-second-slip")
    kiosk.locator("#s-slip").get_by_role("button", name="好了，退出").tap()
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=LIVE_MS)

    # -- the ledger: what happened, in order, and nothing broken --------------------------
    with closing(server.ledger()) as db:
        offers = db.execute(
            "SELECT id, job_id, state, absent, created_at, closed_at FROM offers"
            " WHERE worker_id = ? ORDER BY created_at", (worker_id,)).fetchall()
        assignments = db.execute(
            "SELECT id, job_id, state FROM assignments WHERE worker_id = ? ORDER BY created_at",
            (worker_id,)).fetchall()
        subjects = [worker_id, *(o[0] for o in offers), *(a[0] for a in assignments)]
        marks = ",".join("?" * len(subjects))
        events = db.execute(
            f"SELECT type, subject, payload FROM events WHERE subject IN ({marks})"
            " OR actor = ? ORDER BY seq", (*subjects, worker_id)).fetchall()
    assert [(o[1], o[2], o[3]) for o in offers] == [
        (first_job, "expired", 1), (first_job, "accepted", 0), (second_job, "accepted", 0)]
    # One pending offer at a time: each closed before the next was made.
    for earlier, later in itertools.pairwise(offers):
        assert earlier[5] is not None and earlier[5] <= later[4], (earlier, later)
    assert [(a[1], a[2]) for a in assignments] == [(first_job, "paid"),
                                                    (second_job, "accepted")]
    first_asg = assignments[0][0]
    expired = next(json.loads(p) for t, s, p in events
                   if t == "offer.expired" and s == offers[0][0])
    assert expired["detail"] == "worker_away"
    checked_in = next(json.loads(p) for t, s, p in events
                      if t == "assignment.checked_in" and s == first_asg)
    assert checked_in["with"] == "digits"
    story = [t for t, _s, _p in events if t in {
        "worker.registered", "worker.checked_in", "certificate.declared",
        "certificate.verified", "offer.expired", "offer.accepted", "assignment.checked_in",
        "assignment.completed", "assignment.paid"}]
    # Each step's first appearance, in the order of the day.
    firsts = list(dict.fromkeys(story))
    assert firsts == ["worker.registered", "worker.checked_in", "certificate.declared",
                      "certificate.verified", "offer.expired", "offer.accepted",
                      "assignment.checked_in", "assignment.completed", "assignment.paid"]
    assert story.count("offer.accepted") == 2
    assert story.index("assignment.paid") < len(story) - 1 - story[::-1].index("offer.accepted")


def test_an_offer_pushed_during_the_sign_in_stays_on_the_kiosk(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    page_errors: list[str],
) -> None:
    """The kiosk's first look at the offers answers "nothing" slowly; meanwhile a job is posted
    and its offer pushed over the socket. The late answer must not send the worker back to
    waiting (the day walk lost its re-offer this way about once in 13 runs)."""
    from playwright.sync_api import expect

    number = id_number("44011419640606303")
    worker = api(server, "POST", "/kiosk/register",
                 {"id_number": number, "pin": "1357", "name": "梁二妹",
                  "consent": "kiosk-privacy-2026-11"}, kiosk_token)
    api(server, "PUT", "/me/profile", {"name": "梁二妹", "skills": ["kitchen_helper"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])
    kctx = browser.new_context(viewport=KIOSK, has_touch=True, locale="zh-CN")
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(kctx.new_page(), page_errors)
    # The first answer of GET /me/offers is the server's real one, held back like a slow
    # network until after the offer has been pushed.
    held: list[tuple[Any, Any]] = []

    def hold_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    kiosk.route("**/api/v1/me/offers", hold_first)
    kiosk.goto(f"{server.base_url}/kiosk?market=shiling&station=hall#kiosk_token={kiosk_token}")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in "1357":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()
    expect(kiosk.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    deadline = time.monotonic() + LIVE_MS / 1000
    while not held and time.monotonic() < deadline:
        kiosk.wait_for_timeout(50)  # lets Playwright run the route handler; waits for it
    assert held and held[0][1].json() == [], "the first look should find no offer yet"

    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, "13500135602", "employer")
    api(server, "PUT", "/me/profile", {"name": "冯老板", "org_name": "狮岭饭堂",
                                       "credit_code": credit_code("91440114MA5D8K3D2")},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    start = (datetime.now(CST) + timedelta(minutes=30)).isoformat(timespec="seconds")
    api(server, "POST", "/markets/shiling/jobs", {
        "title": "饭堂帮厨（迟到的回答）", "skills": ["kitchen_helper"], "headcount": 1,
        "wage": {"amount": 220, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": 23.4595, "lon": 113.1505, "address": "狮岭镇饭堂路 2 号"}, boss["token"])
    expect(kiosk.locator("#offer-title")).to_have_text("饭堂帮厨（迟到的回答）",
                                                       timeout=LIVE_MS)
    route, stale = held[0]
    route.fulfill(response=stale)
    kiosk.locator("#accept").tap()
    expect(kiosk.locator("#s-slip")).to_be_visible(timeout=LIVE_MS)
