"""The manager console in Chromium, used as a manager would: the daily report with its
charts and CSV, the ledger export, the rules editor applied live, the what-if with its
progress bar and comparison, and the audit log."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DESKTOP, MANAGER, api, watch_errors
from tests.browser.test_journey import LIVE_MS, credit_code
from tests.e2e.people import HALL, in_hours
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser


def sign_in(server: ServerProcess, phone: str, role: str) -> str:
    code = api(server, "POST", "/auth/otp", {"phone": phone})["dev_code"]
    return str(api(server, "POST", "/auth/verify",
                   {"phone": phone, "code": code, "role": role})["token"])


@pytest.fixture(scope="module")
def market_day(server: ServerProcess) -> Iterator[dict[str, Any]]:
    """The scene: a worker checked in, a verified employer's job for two, one slot filled."""
    boss = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    worker = sign_in(server, "13800000501", "worker")
    api(server, "PUT", "/me/profile", {"name": "赵师傅", "skills": ["loading"],
                                       "min_wage": {"amount": 150, "unit": "day"}}, worker)
    api(server, "POST", "/markets/shiling/checkin", {"lat": HALL[0], "lon": HALL[1]}, worker)
    employer = sign_in(server, "13900000501", "employer")
    me = api(server, "PUT", "/me/profile", {"name": "钱老板", "org_name": "狮岭某箱包厂",
                                            "credit_code": credit_code("91440114MA5D8K3P5")},
             employer)
    api(server, "POST", f"/employers/{me['id']}/verify", None, boss["token"])
    job = api(server, "POST", "/markets/shiling/jobs", {
        "title": "装车", "skills": ["loading"], "headcount": 2,
        "wage": {"amount": 300, "unit": "day"}, "start_at": in_hours(1), "duration_hours": 8,
        "lat": HALL[0] + 0.004, "lon": HALL[1] + 0.004, "address": "狮岭镇阳光路2号"}, employer)
    deadline = time.monotonic() + LIVE_MS / 1000
    offers: list[dict[str, Any]] = []
    while not offers:  # the dispatcher's round comes within seconds; wait for it
        assert time.monotonic() < deadline, "no offer reached the worker"
        offers = [o for o in api(server, "GET", "/me/offers", None, worker)
                  if o["state"] == "pending"]
        time.sleep(0.2)
    api(server, "POST", f"/offers/{offers[0]['id']}/accept", None, worker)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    yield {"boss": boss, "job": job, "today": today}


def console(browser: Any, server: ServerProcess, errors: list[str],
            refusals: tuple[str, ...] = ()) -> Any:
    page = watch_errors(browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page(),
                        errors, expected_refusals=refusals)
    page.goto(f"{server.base_url}/manage")
    page.get_by_label("用户名").fill(MANAGER[0])
    page.get_by_label("密码").fill(MANAGER[1])
    page.get_by_role("button", name="登录").click()
    return page


def test_daily_report_table_charts_and_csv(browser: Any, server: ServerProcess,
                                           market_day: dict[str, Any],
                                           page_errors: list[str]) -> None:
    """The manager picks today, sees the row and four charts, and downloads the same as CSV."""
    from playwright.sync_api import expect

    page = console(browser, server, page_errors)
    report = page.locator("#p-report")
    today = market_day["today"]
    report.get_by_label("从", exact=True).fill(today)
    report.get_by_label("到", exact=True).fill(today)
    report.get_by_role("button", name="查看报表").click()
    row = page.locator(f'#report-table tr[data-date="{today}"]')
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(page.locator("#report-table tbody tr")).to_have_count(1)
    expect(row.locator('[data-col="jobs_posted"]')).to_have_text("1")
    expect(row.locator('[data-col="slots_posted"]')).to_have_text("2")
    expect(row.locator('[data-col="slots_filled"]')).to_have_text("1")
    expect(row.locator('[data-col="workers_checked_in"]')).to_have_text("1")
    for chart, words in (("#chart-report-hours svg", "共 1 人"),
                         ("#chart-report-ttf svg", "匹配用时"),
                         ("#chart-report-kg svg", "共 0 人"),
                         ("#chart-report-wages svg", "共 0 元")):
        expect(page.locator(chart)).to_have_attribute("aria-label", _containing(words))
    expect(page.locator("#chart-report-hours svg rect.bar")).to_have_count(24)
    with page.expect_download() as got:
        report.get_by_role("button", name="下载 CSV").click()
    data = Path(got.value.path()).read_bytes()
    assert data.startswith("\ufeff日期,新登记劳动者,签到劳动者".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{today},")
    assert lines[1].split(",")[3:6] == ["1", "2", "1"]
    assert got.value.suggested_filename.endswith(".csv")
    # The same in English, at the switch of the language button.
    page.locator("#lang").click()
    expect(page.locator("#h-report")).to_have_text("Daily report")
    expect(page.locator("#report-table thead")).to_contain_text("Filled")
    expect(page.locator("#chart-report-hours svg")).to_have_attribute(
        "aria-label", _containing("1 in all"))


def _containing(words: str) -> Any:
    import re

    return re.compile(re.escape(words))


def test_ledger_export_button_downloads_the_range(browser: Any, server: ServerProcess,
                                                 market_day: dict[str, Any],
                                                 page_errors: list[str]) -> None:
    """The export button streams today's ledger into a CSV file and says how many records."""
    from playwright.sync_api import expect

    page = console(browser, server, page_errors)
    panel = page.locator("#p-ledger")
    panel.get_by_label("从", exact=True).fill(market_day["today"])
    panel.get_by_label("到", exact=True).fill(market_day["today"])
    with page.expect_download() as got:
        panel.get_by_role("button", name="导出台账 CSV").click()
    text = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("seq,event_id,at,market_id,type")
    kinds = {line.split(",")[4] for line in lines[1:]}
    assert {"job.posted", "offer.created", "offer.accepted"} <= kinds
    expect(page.locator("#ledger-status")).to_contain_text(f"已导出 {len(lines) - 1} 条记录")


def test_rules_editor_refuses_by_field_then_applies_live(browser: Any, server: ServerProcess,
                                                        market_day: dict[str, Any],
                                                        page_errors: list[str]) -> None:
    """A timeout too short is refused at its box; a good one is saved with who and when,
    shows in the history, and is in force for the market without a restart."""
    from playwright.sync_api import expect

    page = console(browser, server, page_errors, refusals=("/rules",))
    panel = page.locator("#p-rules")
    box = panel.get_by_label("派单等待时间（秒）")
    expect(box).to_have_value("45", timeout=LIVE_MS)
    box.fill("5")
    panel.get_by_role("button", name="保存规则").click()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#alert")).to_contain_text("超出了允许的范围")
    box.fill("30")
    panel.get_by_label("最远路程（分钟）").fill("20")
    panel.get_by_role("button", name="保存规则").click()
    expect(page.locator("#rules-changed")).to_contain_text("boss", timeout=LIVE_MS)
    expect(page.locator("#rules-history li").first).to_contain_text("派单等待时间（秒） 45 → 30")
    expect(page.locator("#rules-history li").first).to_contain_text("最远路程（分钟） 15 → 20")
    # Applied: the market the phones and kiosks read carries the new rules at once.
    listed = {m["id"]: m for m in api(server, "GET", "/markets")}
    assert listed["shiling"]["rules"]["offer_timeout_s"] == 30
    # And a fresh console shows the rules in force, not the config's.
    page.reload()
    expect(page.locator("#p-rules").get_by_label("派单等待时间（秒）")).to_have_value(
        "30", timeout=LIVE_MS)
    # Put the rules back for the other tests of this module.
    api(server, "PUT", "/markets/shiling/rules",
        {"offer_timeout_s": 45, "max_travel_minutes": 15}, market_day["boss"]["token"])


def test_whatif_shows_progress_then_the_comparison(browser: Any, server: ServerProcess,
                                                   market_day: dict[str, Any],
                                                   shot: Callable[..., Path],
                                                   page_errors: list[str]) -> None:
    """The manager proposes a wider circle and runs the what-if: the progress bar moves while
    the page stays usable, then four comparison charts show current against proposed."""
    from playwright.sync_api import expect

    page = console(browser, server, page_errors)
    # Every state the progress text passes through, so a quick run is still seen running.
    page.evaluate("""() => {
      window.__progress = [];
      const el = document.getElementById('whatif-percent');
      new MutationObserver(() => window.__progress.push(el.textContent))
        .observe(el, { childList: true, characterData: true, subtree: true });
    }""")
    panel = page.locator("#p-whatif")
    reach = panel.get_by_label("最远路程（分钟）")
    expect(reach).to_have_value("15", timeout=LIVE_MS)
    reach.fill("30")
    panel.get_by_role("button", name="开始推演").click()
    expect(page.locator("#whatif-run")).to_be_disabled()
    # The page answers while the simulation runs: the report can be asked for meanwhile.
    page.locator("#p-report").get_by_role("button", name="查看报表").click()
    expect(page.locator("#whatif-percent")).to_contain_text("推演完成", timeout=120_000)
    expect(page.locator("#whatif-progress")).to_have_attribute("value", "100")
    seen = page.evaluate("window.__progress")
    assert any(s.startswith("推演中") for s in seen), seen
    assert seen.index(next(s for s in seen if s.startswith("推演中"))) < seen.index(
        "推演完成 100%")
    expect(page.locator("#whatif-result")).to_be_visible()
    for chart in ("fill", "ttf", "travel", "kg"):
        svg = page.locator(f"#chart-whatif-{chart} svg")
        expect(svg).to_have_attribute("aria-label", _containing("现行"))
        expect(svg.locator("rect.pair-a")).to_have_count(1)
        expect(svg.locator("rect.pair-b")).to_have_count(1)
    expect(page.locator("#whatif-run")).to_be_enabled()
    page.locator("#p-report").get_by_role("button", name="查看报表").click()
    expect(page.locator("#report-table tbody tr")).to_have_count(7)
    shot(page, "console-tools", full_page=True)


def test_audit_log_panel_lists_manager_actions(browser: Any, server: ServerProcess,
                                               market_day: dict[str, Any],
                                               page_errors: list[str]) -> None:
    """The manager opens the audit log and sees their own earlier action (verifying the
    employer) with their name."""
    from playwright.sync_api import expect

    page = console(browser, server, page_errors)
    page.get_by_role("button", name="查看操作日志").click()
    rows = page.locator("#audit-table tbody tr")
    expect(rows.first).to_contain_text("boss", timeout=LIVE_MS)
    expect(page.locator("#audit-table")).to_contain_text("employer.verify")
    expect(page.locator("#audit-status")).to_have_text("")
    assert rows.count() >= 1
