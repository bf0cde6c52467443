"""Certificates through the pages (issue 10): a worker declares an electrician's certificate
on the phone, the manager rejects it with a note from the dashboard's queue, the worker reads
the note and declares the card again, the manager verifies it, the worker's page says so, and
the employer of the job it brings sees the worker's phone as a link to call."""

from __future__ import annotations

from collections.abc import Callable
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
from tests.browser.test_after_accept import phone_sign_in, sign_in
from tests.browser.test_journey import CST, HALL, LIVE_MS, credit_code, id_number
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

WORKER_PHONE = "13700137301"
BOSS_PHONE = "13500135301"


def test_a_certificate_declared_on_the_phone_is_reviewed_on_the_dashboard(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """Declare on the phone, reject with a note and verify on the dashboard, all by typing and
    clicking; the verified card brings the electrician job and the employer's call link."""
    from playwright.sync_api import expect

    base = server.base_url
    worker = sign_in(server, WORKER_PHONE, "worker")
    api(server, "PUT", "/me/profile", {"name": "吴电工", "skills": ["electrician"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])

    # The worker declares the card on the phone page.
    wk = watch_errors(browser.new_context(viewport=PHONE_TALL, locale="zh-CN").new_page(),
                      page_errors, expected_refusals=("/me/profile",))
    phone_sign_in(wk, base, "/m/worker", WORKER_PHONE)
    wk.get_by_role("button", name="资料").click()
    certs = wk.locator("#certs")
    expect(certs.get_by_text("还没有登记证书。")).to_be_visible(timeout=LIVE_MS)
    certs.get_by_label("证书对应的工种").select_option("electrician")
    certs.get_by_label("证书编号").fill("T4401")
    next_year = str(datetime.now(CST).year + 1)
    certs.get_by_label("年", exact=True).select_option(next_year)
    certs.get_by_label("月", exact=True).select_option("6")
    certs.get_by_label("日", exact=True).select_option("30")
    certs.get_by_role("button", name="提交证书").click()
    item = certs.locator("[data-cert=electrician]")
    expect(item).to_contain_text("等待核验", timeout=LIVE_MS)
    expect(item).to_contain_text(f"T4401 · 有效期至 {next_year}-06-30", timeout=LIVE_MS)
    shot(wk, "certificate-declared-phone")

    # The desk rejects it: a note is required, then typed.
    dash = manager_dashboard(browser, server, page_errors)
    row = dash.locator(f"[data-cert='{worker['user_id']}-electrician']")
    expect(row).to_contain_text("T4401", timeout=LIVE_MS)
    expect(row).to_contain_text("吴**", timeout=LIVE_MS)
    row.get_by_role("button", name="退回").click()
    expect(dash.locator("#alert")).to_be_visible(timeout=LIVE_MS)
    row.get_by_label("退回原因（工人会看到）").fill("编号少了几位，请带原件来服务台")
    row.get_by_role("button", name="退回").click()
    expect(dash.locator("#certs")).to_contain_text("没有待核验的证书。", timeout=LIVE_MS)

    # The worker reads the note and declares the whole number.
    wk.reload()
    wk.get_by_role("button", name="资料").click()
    item = wk.locator("#certs [data-cert=electrician]")
    expect(item).to_contain_text("未通过", timeout=LIVE_MS)
    expect(item).to_contain_text("服务台说明：编号少了几位，请带原件来服务台", timeout=LIVE_MS)
    certs = wk.locator("#certs")
    certs.get_by_label("证书编号").fill("T440114199001011235")
    certs.get_by_label("年", exact=True).select_option(next_year)
    certs.get_by_role("button", name="提交证书").click()
    expect(item).to_contain_text("等待核验", timeout=LIVE_MS)

    # The desk verifies it; the worker's page says so.
    row = dash.locator(f"[data-cert='{worker['user_id']}-electrician']")
    expect(row).to_contain_text("T440114199001011235", timeout=LIVE_MS)
    row.get_by_role("button", name="核验通过").click()
    expect(dash.locator("#certs")).to_contain_text("没有待核验的证书。", timeout=LIVE_MS)
    shot(dash, "certificate-queue-dashboard")
    wk.reload()
    wk.get_by_role("button", name="资料").click()
    expect(wk.locator("#certs [data-cert=electrician]")).to_contain_text("已核验", timeout=LIVE_MS)
    shot(wk, "certificate-verified-phone")

    # An electrician's job now reaches them; its employer can call them from the job.
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, BOSS_PHONE, "employer")
    api(server, "PUT", "/me/profile", {"name": "郑老板", "org_name": "狮岭电工队",
                                       "credit_code": credit_code("91440114MA5D8K3R1")},
        boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    start = (datetime.now(CST) + timedelta(minutes=30)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": "厂房电路检修", "skills": ["electrician"], "headcount": 1,
        "wage": {"amount": 400, "unit": "day"}, "start_at": start, "duration_hours": 6,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇电工路 1 号",
    }, boss["token"])
    wk.get_by_role("button", name="找活").click()
    offer = wk.locator(".offer-card")
    expect(offer).to_contain_text("厂房电路检修", timeout=LIVE_MS)
    offer.get_by_role("button", name="接这个活").click()
    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, locale="zh-CN").new_page(),
                       page_errors)
    phone_sign_in(emp, base, "/m/employer", BOSS_PHONE)
    card = emp.locator(f"[data-job='{job['id']}']")
    call = card.get_by_role("link", name=f"给 吴** 打电话 {WORKER_PHONE}")
    expect(call).to_have_attribute("href", f"tel:{WORKER_PHONE}", timeout=LIVE_MS)
    shot(emp, "employer-call-link")


def test_a_certificate_declared_at_the_kiosk_by_touch(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """At the kiosk the card number is tapped on the screen's keypad and the date chosen from
    lists; the card is then waiting for the desk."""
    from playwright.sync_api import expect

    number = id_number("44011419700301124")
    worker = api(server, "POST", "/kiosk/register", {"id_number": number, "pin": "2468",
                                                     "name": "何焊工", "phone": "13700137302"},
                 kiosk_token)
    api(server, "PUT", "/me/profile", {"name": "何焊工", "skills": ["welder"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    kctx = browser.new_context(viewport=KIOSK, has_touch=True, locale="zh-CN")
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(kctx.new_page(), page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in "2468":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()
    kiosk.locator("#s-home").get_by_role("button", name="我的证书").tap(timeout=LIVE_MS)
    panel = kiosk.locator("#k-certs")
    panel.get_by_label("证书对应的工种").select_option("welder")
    pad = panel.locator(".cert-keypad")
    for key in "T44019":
        pad.get_by_role("button", name=key, exact=True).tap()
    expect(panel.get_by_label("证书编号", exact=True)).to_have_value("T44019", timeout=LIVE_MS)
    next_year = str(datetime.now(CST).year + 2)
    panel.get_by_label("年", exact=True).select_option(next_year)
    panel.get_by_label("月", exact=True).select_option("3")
    panel.get_by_label("日", exact=True).select_option("15")
    panel.get_by_role("button", name="提交证书").tap()
    item = panel.locator("[data-cert=welder]")
    expect(item).to_contain_text("等待核验", timeout=LIVE_MS)
    expect(item).to_contain_text(f"T44019 · 有效期至 {next_year}-03-15", timeout=LIVE_MS)
    shot(kiosk, "kiosk-1080x1920-certificate-declared")
