"""One whole day's journey through the pages in a real Chromium, each page at its own size:
an employer registers and posts on a phone, the manager approves it on the dashboard, a worker
registers and checks in at the kiosk, hears the offer, accepts and gets the slip; the employer
sees the worker, the dashboard's figures move and the hall board lists and then drops the job."""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    KIOSK,
    MANAGER,
    PHONE,
    PHONE_TALL,
    SPEECH_AND_PRINT_RECORDER,
    api,
    manager_dashboard,
    wait_until,
    watch_errors,
)
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

#: Live things (a round, a websocket push, the board's poll) get this long to show up.
LIVE_MS = 20_000

HALL = {"latitude": 23.4595, "longitude": 113.1505}
CST = timezone(timedelta(hours=8))


def credit_code(body17: str) -> str:
    """A unified social credit code with its GB 32100 check character."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body17, CREDIT_WEIGHTS, strict=True))
    return body17 + CREDIT_CHARS[(31 - total % 31) % 31]


def id_number(body17: str) -> str:
    """A resident ID number with its GB 11643 check character."""
    total = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True))
    return body17 + "10X98765432"[total % 11]


def test_credit_code_and_id_number_helpers_make_valid_codes() -> None:
    """The test's own code makers agree with published valid examples."""
    assert credit_code("91350100M000100Y4") == "91350100M000100Y43"
    assert id_number("11010519491231002") == "11010519491231002X"


def test_journey_post_approve_offer_speak_accept_fill(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """Employer posts, manager approves, kiosk speaks the offer, worker accepts; pages follow."""
    from playwright.sync_api import expect

    base = server.base_url
    title = "仓库搬货（旅程测试）"
    other_title = "厂房保洁（明早）"

    # -- the manager opens the dashboard --------------------------------------------------
    dash = manager_dashboard(browser, server, page_errors)
    fills = dash.locator('[data-tile="fills"] .tile-value')
    expect(fills).to_have_text("0", timeout=LIVE_MS)
    expect(dash.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    # The day's charts are drawn from the ledger's hourly history, empty so far.
    fills_chart = dash.locator("#chart-hours")
    expect(fills_chart).to_have_attribute("data-fills", "0", timeout=LIVE_MS)
    expect(dash.locator("#day-totals")).to_contain_text("签到 0")
    expect(dash.locator("#h-day")).to_contain_text("来自台账")
    shot(dash, "manage-1920x1080-start")

    # -- an employer registers and posts on a phone ----------------------------------------
    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                       .new_page(), page_errors)
    emp.goto(f"{base}/m/employer")
    shot(emp, "employer-390x844-signin")
    emp.get_by_label("手机号").fill("13800138001")
    emp.get_by_role("button", name="获取验证码").click()
    expect(emp.get_by_label("验证码（6 位）")).to_have_value(re.compile(r"^\d{6}$"))
    emp.get_by_role("button", name="登录", exact=True).click()

    expect(emp.locator("#v-business")).to_be_visible()
    emp.get_by_label("联系人姓名").fill("李四")
    emp.get_by_label("单位名称（与营业执照一致）").fill("狮岭某皮具厂")
    code = credit_code("91440114MA5D8K3P2")
    code_input = emp.get_by_label("统一社会信用代码（18 位）")
    code_input.fill(code[:17])
    expect(emp.locator("#b-code-check")).to_have_attribute("data-state", "typing")
    wrong_check = CREDIT_CHARS[(CREDIT_CHARS.index(code[17]) + 1) % 31]
    code_input.fill(code[:17] + wrong_check)
    expect(emp.locator("#b-code-check")).to_have_attribute("data-state", "bad")
    code_input.fill(code.lower())
    expect(emp.locator("#b-code-check")).to_have_attribute("data-state", "ok")
    expect(code_input).to_have_value(code)
    shot(emp, "employer-390x844-business")
    emp.get_by_role("button", name="保存登记").click()

    expect(emp.locator("#v-post")).to_be_visible()
    emp.locator('#j-skills [data-skill="loading"]').click()
    expect(emp.get_by_label("标题")).to_have_value("搬运装卸")
    emp.get_by_label("标题").fill(title)
    emp.get_by_label("多一个人").click()
    emp.get_by_label("少一个人").click()
    expect(emp.locator("#j-head")).to_have_value("1")
    emp.locator("#j-wage").fill("300")
    expect(emp.locator('[data-start="now"]')).to_have_attribute("aria-checked", "true")
    # Tap the hall station on the locally drawn map: the place and the address follow.
    hall_marker = emp.locator('#j-map [data-station="hall"] rect')
    # Centre it: the sticky tab bar at the bottom would take a tap near the screen's edge.
    hall_marker.evaluate("el => el.scrollIntoView({block: 'center'})")
    hall_marker.tap()
    expect(emp.locator("#j-place")).to_contain_text("狮岭镇零工市场")
    expect(emp.get_by_label("详细地址")).to_have_value(re.compile("狮岭镇"))
    emp.locator("#j-submit").scroll_into_view_if_needed()
    shot(emp, "employer-390x844-post")
    shot(emp, "employer-390x844-post-whole", full_page=True)
    emp.locator("#j-submit").click()

    card = emp.locator("article.job-card").filter(has_text=title)
    expect(card).to_be_visible()
    expect(card.locator(".badge[data-state]")).to_have_attribute("data-state", "pending_review")
    job_id = card.get_attribute("data-job")
    assert job_id
    shot(emp, "employer-390x844-pending")

    # A second posting, for tomorrow morning, that this worker's skills do not fit.
    emp.locator("#tabs").get_by_role("button", name="发布").click()
    emp.locator('#j-skills [data-skill="cleaning"]').click()
    emp.get_by_label("标题").fill(other_title)
    emp.get_by_label("多一个人").click()
    emp.locator('[data-start="tomorrow7"]').click()
    expect(emp.locator("#j-start-text")).to_contain_text("明天 07:00")
    emp.locator("#j-stations [data-station=\"leather_city\"]").click()
    emp.get_by_label("详细地址").fill("狮岭镇皮具城 3 号楼")
    emp.locator("#j-submit").click()
    other_card = emp.locator("article.job-card").filter(has_text=other_title)
    expect(other_card).to_be_visible()
    other_id = other_card.get_attribute("data-job")

    # -- the manager approves one posting and verifies the employer on the dashboard ---------
    employer_row = dash.locator("#review-employers tr").filter(has_text="狮岭某皮具厂")
    job_row = dash.locator(f'#review-jobs [data-job="{job_id}"]')
    other_row = dash.locator(f'#review-jobs [data-job="{other_id}"]')
    expect(job_row).to_be_visible(timeout=LIVE_MS)
    expect(other_row).to_be_visible(timeout=LIVE_MS)
    expect(employer_row).to_be_visible(timeout=LIVE_MS)
    shot(dash, "manage-1920x1080-review")
    other_row.get_by_role("button", name="通过", exact=True).click()
    expect(other_row).to_have_count(0, timeout=LIVE_MS)
    # Verifying the employer opens its other waiting posting too (auto_approve_verified).
    employer_row.get_by_role("button", name="核实通过").click()
    expect(employer_row).to_have_count(0, timeout=LIVE_MS)
    expect(job_row).to_have_count(0, timeout=LIVE_MS)
    expect(card.locator(".badge[data-state]")).to_have_attribute("data-state", "open",
                                                                 timeout=LIVE_MS)
    expect(other_card.locator(".badge[data-state]")).to_have_attribute("data-state", "open")

    # -- the hall board lists it ----------------------------------------------------------
    board = watch_errors(browser.new_context(viewport=DESKTOP).new_page(), page_errors)
    board.goto(f"{base}/board/shiling")
    board_row = board.locator(f'.board-row[data-job="{job_id}"]')
    expect(board_row).to_be_visible(timeout=LIVE_MS)
    expect(board_row).to_contain_text(title)
    expect(board_row).to_contain_text("300 元/天")
    expect(board.locator(f'.board-row[data-job="{other_id}"]')).to_contain_text("2 人")
    shot(board, "board-1920x1080-open")

    # -- a worker registers at the kiosk and checks in ---------------------------------------
    kctx = browser.new_context(viewport=KIOSK, has_touch=True)
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    # A card the market has not seen is refused (404), and the kiosk offers to register it.
    kiosk = watch_errors(kctx.new_page(), page_errors, expected_refusals=("/api/v1/kiosk/signin",))
    kiosk.goto(f"{base}/kiosk?station=hall#kiosk_token={kiosk_token}")
    expect(kiosk.locator("#s-idle")).to_be_visible()
    assert "kiosk_token" not in kiosk.url, "the device token must leave the address bar"
    shot(kiosk, "kiosk-1080x1920-idle")
    kiosk.locator("#start").tap()
    expect(kiosk.locator("#s-id")).to_be_visible()
    # The card reader types the number and Enter into the focused field.
    number = id_number("44011419650301123")
    kiosk.keyboard.type(number)
    expect(kiosk.locator("#id-check")).to_have_attribute("data-state", "ok")
    shot(kiosk, "kiosk-1080x1920-id")
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#s-pin")).to_be_visible()
    pin_pad = kiosk.locator('#s-pin .keypad')
    for digit in "2468":
        pin_pad.get_by_role("button", name=digit, exact=True).tap()
    expect(kiosk.locator("#pin")).to_have_value("2468")
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()

    # Not registered: the privacy notice comes first, then the registration (issue 10).
    expect(kiosk.locator("#s-privacy")).to_be_visible()
    kiosk.get_by_role("button", name="我同意，开始登记").tap()
    expect(kiosk.locator("#s-register")).to_be_visible()
    expect(kiosk.locator("#reg-id")).to_have_value(number)
    kiosk.get_by_label("姓名").fill("王五")
    kiosk.get_by_label("手机号（11 位）").tap()
    reg_pad = kiosk.locator("#s-register .keypad")
    for digit in "13900139002":
        reg_pad.get_by_role("button", name=digit, exact=True).tap()
    expect(kiosk.locator("#reg-phone")).to_have_value("13900139002")
    shot(kiosk, "kiosk-1080x1920-register")
    kiosk.locator("#s-register").get_by_role("button", name="登记", exact=True).tap()

    expect(kiosk.locator("#s-skills")).to_be_visible()
    kiosk.locator('#skill-grid [data-skill="loading"]').tap()
    expect(kiosk.locator('#skill-grid [data-skill="loading"]')).to_have_attribute(
        "aria-pressed", "true")
    shot(kiosk, "kiosk-1080x1920-skills")
    kiosk.locator("#skills-next").tap()
    expect(kiosk.locator("#s-wage")).to_be_visible()
    kiosk.locator("#wage-presets").get_by_role("button", name="200 元/天").tap()
    shot(kiosk, "kiosk-1080x1920-wage")
    kiosk.locator("#wage-save").tap()

    # -- the offer comes, on screen and aloud ------------------------------------------------
    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-title")).to_have_text(title)
    # Every step speaks now (issue 10): wait for the offer's own words.
    wait_until(kiosk, "t => window.__spoken.some((s) => s.text.includes(t))", title)
    spoken = kiosk.evaluate("window.__spoken")
    assert title in spoken[-1]["text"]
    assert spoken[-1]["lang"] == "zh-CN"
    expect(kiosk.locator("#offer-count [role=timer]")).to_contain_text("秒")
    # Why this worker: the offer's two heaviest cost terms, in words, shown and then heard.
    expect(kiosk.locator("#offer-why")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-why")).to_have_text(re.compile(r"为什么给您：\S"))
    heard = len(kiosk.evaluate("window.__spoken"))
    kiosk.locator("#repeat").tap()
    wait_until(kiosk, "n => window.__spoken.length > n", heard)
    assert "派给您，是因为" in kiosk.evaluate("window.__spoken")[-1]["text"]
    shot(kiosk, "kiosk-1080x1920-offer")

    kiosk.locator("#accept").tap()
    expect(kiosk.locator("#s-slip")).to_be_visible()
    slip = kiosk.locator("#slip")
    expect(slip.locator('[data-slip="address"]')).to_contain_text("狮岭镇")
    expect(slip.locator('[data-slip="phone"]')).to_have_text(re.compile(r"\d"))
    expect(slip.locator(".qr svg")).to_be_visible()
    shot(kiosk, "kiosk-1080x1920-slip")
    kiosk.locator("#print").tap()
    assert kiosk.evaluate("window.__printed") == 1
    kiosk.emulate_media(media="print")
    shot(kiosk, "kiosk-slip-print")
    kiosk.emulate_media(media="screen")
    # The kiosk leaves nobody signed in. Tapped at once: after printing the kiosk signs out
    # by itself within 15 s, and the checks below may take longer than that.
    kiosk.locator("#s-slip").get_by_role("button", name="好了，退出").tap()
    expect(kiosk.locator("#s-idle")).to_be_visible()

    # -- the employer sees the worker; the job is filled ------------------------------------
    expect(card.locator("[data-progress]")).to_have_attribute("data-progress", "1/1",
                                                              timeout=LIVE_MS)
    expect(card.locator(".worker-row")).to_contain_text("王*")
    expect(card.locator(".badge[data-state]")).to_have_attribute("data-state", "filled")
    shot(emp, "employer-390x844-filled")

    # -- the dashboard's figures move ----------------------------------------------------
    expect(fills).to_have_text("1", timeout=LIVE_MS)
    expect(dash.locator('[data-tile="acceptance"] .tile-value')).to_have_text("100%")
    # The ledger's history now has the fill, and the bar chart draws it.
    expect(fills_chart).to_have_attribute("data-fills", "1", timeout=LIVE_MS)
    expect(fills_chart.locator("svg")).to_have_attribute("aria-label", re.compile("共 1 人"))
    drawn = fills_chart.locator("rect.bar").evaluate_all(
        "bars => bars.filter(b => Number(b.getAttribute('height')) > 0).length")
    assert drawn == 1
    expect(dash.locator("#day-totals")).to_contain_text("签到 1")
    # The feed reads the documented event shape: the title comes in the payload.
    accepted = dash.locator('#events li[data-event="offer.accepted"]')
    expect(accepted).to_contain_text(title, timeout=LIVE_MS)
    expect(accepted).to_contain_text("就在附近")
    posted = dash.locator('#events li[data-event="job.posted"]')
    expect(posted.filter(has_text=title)).to_contain_text("招 1 人 · 待审核")
    expect(posted.filter(has_text=other_title)).to_contain_text("招 2 人")
    shot(dash, "manage-1920x1080-after")

    # -- the employer cancels the other posting -------------------------------------------
    other_card.get_by_role("button", name="取消招工").click()
    dialog = emp.locator("#cancel-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(other_title)
    shot(emp, "employer-390x844-cancel")
    dialog.get_by_role("button", name="取消招工").click()
    expect(other_card.locator(".badge[data-state]")).to_have_attribute("data-state", "cancelled",
                                                                       timeout=LIVE_MS)

    # -- the board drops the filled job and the cancelled one -------------------------------
    expect(board_row).to_have_count(0, timeout=LIVE_MS)
    expect(board.locator(f'.board-row[data-job="{other_id}"]')).to_have_count(0, timeout=LIVE_MS)
    expect(board.locator("#f-filled")).to_have_text("1")
    shot(board, "board-1920x1080-filled")



def test_worker_phone_checks_in_by_location_gets_an_offer_and_reads_english(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """A phone worker checks in where they stand, is marked, rings with an offer, reads English."""
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                              geolocation=HALL, permissions=["geolocation"])
    ctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    page = watch_errors(ctx.new_page(), page_errors)
    page.goto(f"{server.base_url}/m/worker")
    shot(page, "worker-360x640-signin")
    page.get_by_label("手机号").fill("13700137003")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_label("验证码（6 位）")).to_have_value(re.compile(r"^\d{6}$"))
    page.get_by_role("button", name="登录", exact=True).click()

    expect(page.locator("#v-profile")).to_be_visible()
    page.get_by_label("姓名").fill("赵六")
    page.get_by_label("身份证号（可以以后再填）").fill(id_number("44011419700101123")[:17])
    expect(page.locator("#p-id-check")).to_have_text("17/18")
    page.get_by_label("身份证号（可以以后再填）").fill("")
    page.locator('#p-skills [data-skill="cleaning"]').tap()
    page.locator("#p-wage").fill("220")
    travel = page.get_by_label("最远去多远（路上时间）")
    expect(travel).to_have_value("")
    travel.select_option(label="最多 30 分钟")
    shot(page, "worker-360x640-profile")
    with page.expect_response(lambda r: r.url.endswith("/me/profile")
                              and r.request.method == "PUT") as saved:
        page.get_by_role("button", name="保存").click()
    assert saved.value.json()["max_travel_minutes"] == 30

    expect(page.locator("#v-work")).to_be_visible()
    page.get_by_role("button", name="用我现在的位置签到").click()
    expect(page.locator("#status-title")).to_contain_text("已签到", timeout=LIVE_MS)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    expect(page.locator("#status-why")).to_be_visible(timeout=LIVE_MS)
    shot(page, "worker-360x640-waiting")

    # The manager marks this worker's key group on the dashboard.
    dash = manager_dashboard(browser, server, page_errors)
    row = dash.locator("#kg tr").filter(has_text="赵*")
    expect(row).to_be_visible(timeout=LIVE_MS)
    row.get_by_label("赵* 的重点群体").select_option("older_worker")
    row.get_by_role("button", name="保存").click()
    expect(dash.locator("#alert")).to_contain_text("已标记：赵*")
    expect(dash.locator("#kg tr").filter(has_text="赵*")).to_contain_text("大龄劳动者",
                                                                        timeout=LIVE_MS)

    # An employer's cleaning job nearby is approved: the phone rings with the offer.
    boss = api(server, "POST", "/auth/otp", {"phone": "13500135005"})
    boss = api(server, "POST", "/auth/verify",
               {"phone": "13500135005", "code": boss["dev_code"], "role": "employer"})
    api(server, "PUT", "/me/profile", {"name": "孙八", "org_name": "狮岭物业",
                                       "credit_code": credit_code("91440114MA5D8K3P3")},
        boss["token"])
    start = (datetime.now(CST) + timedelta(minutes=20)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": "写字楼保洁", "skills": ["cleaning"], "headcount": 1,
        "wage": {"amount": 260, "unit": "day"}, "start_at": start, "duration_hours": 6,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇康政路 8 号",
    }, boss["token"])
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    api(server, "POST", f"/jobs/{job['id']}/approve", token=mgr["token"])

    offer = page.locator("article.offer-card")
    expect(offer).to_be_visible(timeout=LIVE_MS)
    expect(offer).to_contain_text("写字楼保洁")
    expect(offer).to_contain_text("260 元/天")
    expect(offer.locator(".countdown")).to_contain_text("秒")
    assert page.evaluate("window.__vibrated") >= 1
    shot(page, "worker-360x640-offer")
    offer.get_by_role("button", name="接这个活").click()
    expect(page.locator("#v-jobs")).to_be_visible()
    job_card = page.locator("#assignments article").filter(has_text="写字楼保洁")
    expect(job_card.locator(".qr svg")).to_be_visible()
    expect(job_card).to_contain_text("狮岭物业")
    shot(page, "worker-360x640-job-qr")
    page.locator("#tabs").get_by_role("button", name="找活").click()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#status-title")).to_have_text("You have a job")
    page.reload()
    expect(page.locator("#status-title")).to_have_text("You have a job", timeout=LIVE_MS)
    shot(page, "worker-360x640-work-en")

    page.locator("#tabs").get_by_role("button", name="My jobs").click()
    expect(page.locator("#assignments")).to_contain_text("Accepted")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_kiosk_waits_then_signs_the_worker_out_when_nobody_touches_it(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """A returning worker signs in, checks in and waits; untouched, the kiosk goes back to idle."""
    from playwright.sync_api import expect

    number = id_number("44011419580715432")
    worker = api(server, "POST", "/kiosk/register",
                 {"id_number": number, "pin": "1357", "name": "陈七", "phone": "13600136004"},
                 kiosk_token)
    api(server, "PUT", "/me/profile",
        {"name": "陈七", "skills": ["kitchen_helper"], "min_wage": {"amount": 25, "unit": "hour"}},
        worker["token"])

    ctx = browser.new_context(viewport=KIOSK, has_touch=True)
    ctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(ctx.new_page(), page_errors)
    worker_tokens: list[str] = []
    kiosk.on("request", lambda r: worker_tokens.append(r.headers["authorization"][7:])
             if r.url.endswith("/api/v1/me") and "authorization" in r.headers else None)
    # A fake clock, moved by hand: the inactivity limits are a minute and more.
    kiosk.clock.install()
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in "1357":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.keyboard.press("Enter")

    expect(kiosk.locator("#s-home")).to_be_visible()
    expect(kiosk.locator("#hello")).to_have_text("陈七，您好！")
    shot(kiosk, "kiosk-1080x1920-home")
    kiosk.get_by_role("button", name="English").tap()
    expect(kiosk.locator("#checkin")).to_contain_text("Check in for work")
    kiosk.locator("#checkin").tap()
    expect(kiosk.locator("#s-wait")).to_be_visible()
    expect(kiosk.locator("#why")).not_to_be_empty()
    shot(kiosk, "kiosk-1080x1920-wait-en")

    # A touch restarts the count; then nobody touches the screen for almost three minutes.
    kiosk.locator("#waited").tap()
    kiosk.clock.fast_forward(171_000)
    expect(kiosk.locator("#idle-warning")).to_be_visible()
    expect(kiosk.locator("#idle-text")).to_contain_text("signing out")
    # The warning is spoken too (issue 10), in the language the worker chose.
    wait_until(kiosk, "() => window.__spoken.some((s) => s.text.includes(\"I'm still here\"))")
    shot(kiosk, "kiosk-1080x1920-idle-warning")
    kiosk.clock.fast_forward(11_000)
    expect(kiosk.locator("#s-idle")).to_be_visible()
    # The page awaits the server's sign-out and then says so: wait for that, not for time.
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=30_000)
    # The next person starts in Chinese, and the worker's session is gone from the server.
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-CN")
    assert worker_tokens, "the kiosk signed the worker in with a token of its own"
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(server, "GET", "/me", token=worker_tokens[-1])
    assert refused.value.code == 401
