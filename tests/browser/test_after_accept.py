"""After the accept, through the pages (issue 5): the employer checks the worker in with the
code on the slip and completes the work on the phone; the worker confirms the pay, rates the
employer and reports the posting; the employer rates the worker; the manager sees the report
in the dashboard's queue and suspends the employer, whose page is signed out at once."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
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
    watch_errors,
)
from tests.browser.test_journey import CST, HALL, LIVE_MS, credit_code, id_number
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

BOSS_PHONE = "13500135101"
WORKER_PHONE = "13700137101"
TITLE = "仓库理货（完工测试）"


def sign_in(server: ServerProcess, phone: str, role: str) -> dict[str, Any]:
    """A one-time-code sign-in over the API, as the scene is set."""
    sent = api(server, "POST", "/auth/otp", {"phone": phone})
    return dict(api(server, "POST", "/auth/verify",
                    {"phone": phone, "code": sent["dev_code"], "role": role}))


def accepted_assignment(
    server: ServerProcess, *, boss_phone: str = BOSS_PHONE, worker_phone: str = WORKER_PHONE,
    title: str = TITLE, credit_body: str = "91440114MA5D8K3Q1", skill: str = "loading",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A verified employer's job near the hall, offered to a checked-in worker who accepts
    (a skill of its own keeps workers of earlier tests on the same server out of it)."""
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, boss_phone, "employer")
    api(server, "PUT", "/me/profile", {"name": "钱七", "org_name": "狮岭理货站",
                                       "credit_code": credit_code(credit_body)},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    worker = sign_in(server, worker_phone, "worker")
    api(server, "PUT", "/me/profile", {"name": "周九", "skills": [skill],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])
    start = (datetime.now(CST) + timedelta(minutes=20)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": title, "skills": [skill], "headcount": 1,
        "wage": {"amount": 240, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇理货路 3 号",
    }, boss["token"])
    deadline = time.monotonic() + LIVE_MS / 1000
    offers: list[dict[str, Any]] = []
    while not offers and time.monotonic() < deadline:
        offers = [o for o in api(server, "GET", "/me/offers", token=worker["token"])
                  if o["job_id"] == job["id"] and o["state"] == "pending"]
        if not offers:
            time.sleep(0.2)
    assert offers, "the dispatcher made no offer for the job"
    taken = api(server, "POST", f"/offers/{offers[0]['id']}/accept", token=worker["token"])
    return dict(taken["assignment"]), job


def phone_sign_in(page: Any, base: str, path: str, phone: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}{path}")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_label("验证码（6 位）")).to_have_value(re.compile(r"^\d{6}$"))
    page.get_by_role("button", name="登录", exact=True).click()


def test_checkin_complete_paid_rated_reported_suspended(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """Slip check-in, completion, pay confirmed, both ratings, a report, a suspension: in the UI."""
    from playwright.sync_api import expect

    base = server.base_url
    assignment, job = accepted_assignment(server)
    slip_code = assignment["qr"]

    # -- the employer, at the site with a phone, checks the worker in by the slip's code ------
    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                       .new_page(), page_errors, expected_refusals=("/no_show", "/auth/logout"))
    phone_sign_in(emp, base, "/m/employer", BOSS_PHONE)
    row = emp.locator(f'[data-worker="{assignment["id"]}"]')
    expect(row).to_have_attribute("data-state", "accepted", timeout=LIVE_MS)
    expect(row.get_by_role("button", name="屏蔽这位工人")).to_be_visible()
    # Too early for a no-show: the server's refusal is shown in words.
    row.get_by_role("button", name="记为未到岗").click()
    emp.locator("#cancel-dialog").get_by_role("button", name="记为未到岗").click()
    expect(emp.locator("#alert")).to_contain_text("还没过开工后的等候时间")
    emp.get_by_role("button", name="显示工地签到码").click()
    expect(emp.locator(f'[data-site="{job["id"]}"] .qr svg')).to_be_visible()
    expect(emp.locator(f'[data-site-digits="{job["id"]}"]')).to_have_text(
        re.compile(r"^\d{3} \d{3}$"))
    row.get_by_label("周* 单子上的签到码").fill(slip_code)
    shot(emp, "employer-390x844-checkin-code", full_page=True)
    row.get_by_role("button", name="签到").click()
    expect(emp.locator("#alert")).to_contain_text("周* 已到岗")
    expect(row).to_have_attribute("data-state", "checked_in", timeout=LIVE_MS)
    expect(row.get_by_label("实际干了几小时")).to_have_value("4")
    row.get_by_label("实付工钱（元）").fill("240")
    shot(emp, "employer-390x844-complete-form", full_page=True)
    row.get_by_role("button", name="完工并记下工钱").click()
    expect(row).to_have_attribute("data-state", "completed", timeout=LIVE_MS)

    # -- the worker confirms the pay, rates the employer and reports the posting ---------------
    wk = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                      .new_page(), page_errors)
    phone_sign_in(wk, base, "/m/worker", WORKER_PHONE)
    wk.locator("#tabs").get_by_role("button", name="我的活").click()
    card = wk.locator("#assignments article").filter(has_text=TITLE)
    expect(card).to_contain_text("已完工", timeout=LIVE_MS)
    shot(wk, "worker-390x844-completed", full_page=True)
    card.get_by_role("button", name="我已收到工钱").click()
    wk.locator("dialog").get_by_role("button", name="我已收到工钱").click()
    expect(card).to_contain_text("已付款", timeout=LIVE_MS)
    # Truthful after pay (issue 10): no site check-in on the card, no "you have a job".
    expect(card.get_by_role("button", name="到岗签到")).to_have_count(0)
    expect(wk.locator("#status-title")).not_to_have_text("您已接活")
    card.get_by_label("4 星").check()
    card.get_by_label("按时发钱").check()
    card.get_by_role("button", name="提交评价").click()
    expect(card).to_contain_text("已评价")
    card.get_by_role("button", name="举报这个招工").click()
    report = wk.locator("dialog")
    report.get_by_label("和说的不一样").check()
    report.get_by_label("备注").fill("说是理货，其实是搬重货")
    shot(wk, "worker-390x844-report", full_page=True)
    report.get_by_role("button", name="提交举报").click()
    expect(card).to_contain_text("已举报")
    shot(wk, "worker-390x844-paid-rated-reported", full_page=True)

    # -- the employer rates the worker -------------------------------------------------------
    expect(row).to_have_attribute("data-state", "paid", timeout=LIVE_MS)
    row.get_by_label("5 星").check()
    row.get_by_label("准时").check()
    row.get_by_role("button", name="提交评价").click()
    expect(row).to_contain_text("已评价")
    shot(emp, "employer-390x844-rated", full_page=True)
    row.get_by_role("button", name="屏蔽这位工人").click()
    emp.locator("dialog.confirm-dialog").get_by_role("button", name="屏蔽").click()
    expect(row).to_contain_text("已屏蔽")
    ratings = api(server, "GET", "/me", token=sign_in(server, WORKER_PHONE, "worker")["token"])
    assert ratings["rating"] == 5

    # -- the manager finds the report in the queue and suspends the employer ------------------
    dash = manager_dashboard(browser, server, page_errors)
    queued = dash.locator("#reports tr").filter(has_text=TITLE)
    expect(queued).to_contain_text("和说的不一样", timeout=LIVE_MS)
    expect(queued).to_contain_text("说是理货，其实是搬重货")
    shot(dash, "manage-1920x1080-reports")
    queued.get_by_role("button", name="暂停用工方").click()
    dash.locator("dialog").get_by_role("button", name="暂停用工方").click()
    expect(dash.locator("#alert")).to_contain_text("已暂停")
    expect(dash.locator("#reports tr").filter(has_text=TITLE)).to_contain_text("已暂停",
                                                                              timeout=LIVE_MS)
    shot(dash, "manage-1920x1080-suspended")
    # The suspended employer's session is revoked: the phone page drops to the sign-in.
    expect(emp.locator("#v-signin")).to_be_visible(timeout=LIVE_MS)


def test_worker_cancels_then_blocks_the_employer(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """A worker cancels a taken job on the phone (the slot opens again) and blocks the employer."""
    from playwright.sync_api import expect

    base = server.base_url
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, "13500135102", "employer")
    api(server, "PUT", "/me/profile", {"name": "吴十", "org_name": "狮岭保洁队",
                                       "credit_code": credit_code("91440114MA5D8K3R2")},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    worker = sign_in(server, "13700137102", "worker")
    # Cleaning, which the first test's worker lacks: the offer can only come to this one.
    api(server, "PUT", "/me/profile", {"name": "郑十一", "skills": ["cleaning"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])

    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                       .new_page(), page_errors)
    phone_sign_in(emp, base, "/m/employer", "13500135102")
    wk = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                      .new_page(), page_errors)
    phone_sign_in(wk, base, "/m/worker", "13700137102")
    # Both sockets up before the job is posted, so neither page can miss its first message.
    for page in (emp, wk):
        expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    title = "商场保洁（取消测试）"
    # Starting in 20 minutes: well inside the 12 hours that make a cancel a late one.
    start = (datetime.now(CST) + timedelta(minutes=20)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": title, "skills": ["cleaning"], "headcount": 1,
        "wage": {"amount": 220, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇商场路 5 号",
    }, boss["token"])

    offer = wk.locator("article.offer-card").filter(has_text=title)
    offer.get_by_role("button", name="接这个活").click(timeout=LIVE_MS)
    emp.locator("#tabs").get_by_role("button", name="我的招工").click()
    slots = emp.locator(f'[data-job="{job["id"]}"] [data-progress]')
    expect(slots).to_have_attribute("data-progress", "1/1", timeout=LIVE_MS)

    card = wk.locator("#assignments article").filter(has_text=title)
    card.get_by_role("button", name="取消这份活").click()
    dialog = wk.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("离开工不到12小时取消，会影响您的守约记录")
    shot(wk, "worker-390x844-cancel-confirm")
    dialog.get_by_role("button", name="确定取消").click()
    expect(card).to_contain_text("已取消", timeout=LIVE_MS)
    expect(card.get_by_role("button", name="取消这份活")).to_have_count(0)
    expect(slots).to_have_attribute("data-progress", "0/1", timeout=LIVE_MS)
    shot(emp, "employer-390x844-slot-open-again", full_page=True)

    card.get_by_role("button", name="屏蔽这个老板").click()
    wk.locator("dialog.confirm-dialog").get_by_role("button", name="屏蔽").click()
    expect(card).to_contain_text("已屏蔽")
    shot(wk, "worker-390x844-cancelled-blocked", full_page=True)
    with closing(server.ledger()) as db:
        rows = db.execute("SELECT worker_id, employer_id, by_role FROM blocks"
                          " WHERE employer_id = ?", (boss["user_id"],)).fetchall()
    assert rows == [(worker["user_id"], boss["user_id"], "worker")]


def test_kiosk_worker_cancels_on_the_home_screen(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """At the kiosk a worker cancels accepted work, then reports the posting and blocks the boss."""
    from playwright.sync_api import expect

    number = id_number("44011419700301123")
    worker = api(server, "POST", "/kiosk/register", {"id_number": number, "pin": "1357",
                                                     "name": "王十二", "phone": "13700137103"},
                 kiosk_token)
    api(server, "PUT", "/me/profile", {"name": "王十二", "skills": ["kitchen_helper"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, "13500135103", "employer")
    api(server, "PUT", "/me/profile", {"name": "冯十三", "org_name": "狮岭饭堂",
                                       "credit_code": credit_code("91440114MA5D8K3T7")},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    title = "饭堂帮厨（取消测试）"
    start = (datetime.now(CST) + timedelta(minutes=20)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": title, "skills": ["kitchen_helper"], "headcount": 1,
        "wage": {"amount": 200, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇饭堂路 1 号",
    }, boss["token"])
    deadline = time.monotonic() + LIVE_MS / 1000
    offers: list[dict[str, Any]] = []
    while not offers and time.monotonic() < deadline:
        offers = [o for o in api(server, "GET", "/me/offers", token=worker["token"])
                  if o["state"] == "pending"]
        if not offers:
            time.sleep(0.2)
    assert offers, "the dispatcher made no offer for the job"
    taken = api(server, "POST", f"/offers/{offers[0]['id']}/accept", token=worker["token"])
    assignment_id = taken["assignment"]["id"]

    kctx = browser.new_context(viewport=KIOSK, has_touch=True)
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(kctx.new_page(), page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in "1357":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()
    kiosk.locator(f'[data-cancel="{assignment_id}"]').tap(timeout=LIVE_MS)
    dialog = kiosk.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("离开工不到12小时取消，会影响您的守约记录")
    shot(kiosk, "kiosk-1080x1920-cancel-confirm")
    dialog.get_by_role("button", name="确定取消").tap()
    expect(kiosk.locator(f'[data-cancelled="{assignment_id}"]')).to_contain_text(
        "已取消", timeout=LIVE_MS)
    expect(kiosk.locator(f'[data-cancel="{assignment_id}"]')).to_have_count(0)
    shot(kiosk, "kiosk-1080x1920-cancelled")

    # -- still on the home screen: report the posting and block the employer -----------------
    done = kiosk.locator(f'[data-cancelled="{assignment_id}"]')
    done.get_by_role("button", name="举报这个招工").tap()
    reasons = kiosk.locator("dialog.k-report-dialog")
    expect(reasons.get_by_role("button")).to_have_count(4)
    shot(kiosk, "kiosk-1080x1920-report-reasons")
    reasons.get_by_role("button", name="不给工钱").tap()
    dialog = kiosk.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("确定举报「饭堂帮厨（取消测试）」：不给工钱？")
    dialog.get_by_role("button", name="提交举报").tap()
    expect(done).to_contain_text("已举报", timeout=LIVE_MS)
    done.get_by_role("button", name="屏蔽这个老板").tap()
    expect(dialog).to_contain_text("确定屏蔽？")
    shot(kiosk, "kiosk-1080x1920-block-confirm")
    dialog.get_by_role("button", name="屏蔽", exact=True).tap()
    expect(done).to_contain_text("已屏蔽", timeout=LIVE_MS)
    expect(done.get_by_role("button")).to_have_count(0)
    shot(kiosk, "kiosk-1080x1920-reported-blocked", full_page=True)
    with closing(server.ledger()) as db:
        reports = db.execute("SELECT worker_id, employer_id, reason FROM reports WHERE job_id = ?",
                             (job["id"],)).fetchall()
        blocks = db.execute("SELECT worker_id, by_role FROM blocks WHERE employer_id = ?",
                            (boss["user_id"],)).fetchall()
    assert reports == [(worker["user_id"], boss["user_id"], "unpaid")]
    assert blocks == [(worker["user_id"], "worker")]
