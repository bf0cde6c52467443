"""The kiosk, the dashboard and the hall board at 200% zoom. Playwright has no browser-zoom
control; 200% zoom is what a CSS viewport of half the window's size at two device pixels per
CSS pixel gives, so that is what these tests open. Each screen must work there without
script or console errors and without making the reader scroll sideways."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    KIOSK,
    MANAGER,
    SPEECH_AND_PRINT_RECORDER,
    api,
    watch_errors,
)
from tests.browser.test_journey import CST, HALL, LIVE_MS, credit_code, id_number
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

ZOOM = 2


def zoomed(size: dict[str, int]) -> dict[str, Any]:
    """Context options for a window of ``size`` device pixels at 200% zoom."""
    return {"viewport": {"width": size["width"] // ZOOM, "height": size["height"] // ZOOM},
            "device_scale_factor": ZOOM}


def sideways_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its window (0 when it reflows)."""
    return int(page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_zoomed_viewport_is_half_the_window_at_two_device_pixels() -> None:
    """200% zoom of a 1920x1080 window is a 960x540 CSS viewport at 2 device pixels each."""
    assert zoomed(DESKTOP) == {"viewport": {"width": 960, "height": 540},
                               "device_scale_factor": 2}


def test_kiosk_at_200_percent_from_card_to_offer(
    browser: Any,
    server: ServerProcess,
    kiosk_token: str,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """At 200% the kiosk signs a worker in, checks in and shows an offer, all without errors."""
    from playwright.sync_api import expect

    number = id_number("44011419620505321")
    worker = api(server, "POST", "/kiosk/register",
                 {"id_number": number, "pin": "8642", "name": "周九", "phone": "13300133009"},
                 kiosk_token)
    api(server, "PUT", "/me/profile",
        {"name": "周九", "skills": ["caregiver"], "min_wage": {"amount": 180, "unit": "day"}},
        worker["token"])

    ctx = browser.new_context(**zoomed(KIOSK), has_touch=True)
    ctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(ctx.new_page(), page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    expect(kiosk.locator("#s-idle")).to_be_visible()
    assert sideways_overflow(kiosk) == 0
    shot(kiosk, "kiosk-zoom200-idle")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#s-pin")).to_be_visible()
    assert sideways_overflow(kiosk) == 0
    shot(kiosk, "kiosk-zoom200-pin")
    for digit in "8642":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.keyboard.press("Enter")

    expect(kiosk.locator("#s-home")).to_be_visible()
    kiosk.locator("#s-home").get_by_role("button", name="改技能和工钱").tap()
    expect(kiosk.locator('#skill-grid [data-skill="caregiver"]')).to_have_attribute(
        "aria-pressed", "true")
    assert sideways_overflow(kiosk) == 0
    shot(kiosk, "kiosk-zoom200-skills")
    kiosk.locator("#skills-next").tap()
    kiosk.locator("#wage-presets").get_by_role("button", name="200 元/天").tap()
    assert sideways_overflow(kiosk) == 0
    kiosk.locator("#wage-save").tap()
    expect(kiosk.locator("#s-home")).to_be_visible()
    assert sideways_overflow(kiosk) == 0
    shot(kiosk, "kiosk-zoom200-home")
    kiosk.locator("#checkin").tap()
    expect(kiosk.locator("#s-wait")).to_be_visible(timeout=LIVE_MS)
    assert sideways_overflow(kiosk) == 0
    shot(kiosk, "kiosk-zoom200-wait")

    # A verified employer's caregiving job at the hall: the offer reaches this worker.
    boss = api(server, "POST", "/auth/otp", {"phone": "13200132008"})
    boss = api(server, "POST", "/auth/verify",
               {"phone": "13200132008", "code": boss["dev_code"], "role": "employer"})
    api(server, "PUT", "/me/profile", {"name": "吴十", "org_name": "狮岭康养中心",
                                       "credit_code": credit_code("91440114MA5D8K3P4")},
        boss["token"])
    start = (datetime.now(CST) + timedelta(minutes=30)).isoformat(timespec="seconds")
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": "陪护老人（半天）", "skills": ["caregiver"], "headcount": 1,
        "wage": {"amount": 240, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇康政路 12 号",
    }, boss["token"])
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    if job["state"] == "pending_review":
        api(server, "POST", f"/jobs/{job['id']}/approve", token=mgr["token"])

    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-why")).to_be_visible(timeout=LIVE_MS)
    assert sideways_overflow(kiosk) == 0
    # The offer is taller than the zoomed screen; the countdown and both buttons stay pinned
    # in view at the top of the page and at its foot while the worker reads and scrolls.
    for where in ("0", "document.body.scrollHeight / 2"):
        kiosk.evaluate(f"window.scrollTo(0, {where})")
        for button in ("#accept", "#decline", "#offer-count"):
            expect(kiosk.locator(button)).to_be_in_viewport(ratio=1)
    kiosk.evaluate("window.scrollTo(0, 0)")
    shot(kiosk, "kiosk-zoom200-offer")
    shot(kiosk, "kiosk-zoom200-offer-whole", full_page=True)
    kiosk.locator("#decline").tap()
    expect(kiosk.locator("#s-wait")).to_be_visible(timeout=LIVE_MS)


def test_dashboard_and_board_at_200_percent(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """At 200% the dashboard signs in, goes live and draws the day; the board lists; no errors."""
    from playwright.sync_api import expect

    dash = watch_errors(browser.new_context(**zoomed(DESKTOP)).new_page(), page_errors)
    dash.goto(f"{server.base_url}/manage")
    assert sideways_overflow(dash) == 0
    dash.get_by_label("用户名").fill(MANAGER[0])
    dash.get_by_label("密码").fill(MANAGER[1])
    dash.get_by_role("button", name="登录").click()
    expect(dash.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    expect(dash.locator("#chart-hours")).to_have_attribute("data-fills", "0", timeout=LIVE_MS)
    expect(dash.locator('[data-tile="waiting"] .tile-value')).not_to_be_empty()
    assert sideways_overflow(dash) == 0
    shot(dash, "manage-zoom200")
    shot(dash, "manage-zoom200-whole", full_page=True)
    dash.get_by_role("button", name="English").click()
    expect(dash.locator("#h-day")).to_contain_text("from the ledger")
    assert sideways_overflow(dash) == 0

    board = watch_errors(browser.new_context(**zoomed(DESKTOP)).new_page(), page_errors)
    board.goto(f"{server.base_url}/board/shiling")
    expect(board.locator("#f-filled")).to_have_text(re.compile(r"\d"), timeout=LIVE_MS)
    assert sideways_overflow(board) == 0
    shot(board, "board-zoom200")
