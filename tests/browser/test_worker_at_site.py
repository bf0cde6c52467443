"""A worker at the site, on the phone: checking in with the code the boss's phone shows; and,
at a locked gate past the start (and the market's grace), "nobody there to start the work",
which calls the work off and reaches the manager's queue as the employer not showing up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE_TALL,
    api,
    manager_dashboard,
    running_server,
    watch_errors,
)
from tests.browser.test_after_accept import (
    TITLE,
    WORKER_PHONE,
    accepted_assignment,
    phone_sign_in,
    sign_in,
)
from tests.browser.test_journey import LIVE_MS
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's server: absence may be called from two hours before the start, so work
    starting in twenty minutes is already past it."""
    with running_server(tmp_path_factory.mktemp("at-site"), {"no_show_grace_minutes": -120}) as srv:
        yield srv


def test_worker_reports_that_nobody_came_and_the_manager_sees_it(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    assignment, job = accepted_assignment(server)
    wk = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                      .new_page(), page_errors)
    phone_sign_in(wk, server.base_url, "/m/worker", WORKER_PHONE)
    wk.locator("#tabs").get_by_role("button", name="我的活").click()
    card = wk.locator("#assignments article").filter(has_text=TITLE)
    expect(card).to_contain_text("已接受", timeout=LIVE_MS)
    card.get_by_role("button", name="到了现场没人开工？").click()
    dialog = wk.locator("dialog")
    reason = dialog.get_by_label("到了现场没人开工（这份活取消，不算您爽约）")
    expect(reason).to_be_checked()
    dialog.get_by_label("备注").fill("厂门锁着，电话没人接")
    shot(wk, "worker-390x844-nobody-came", full_page=True)
    dialog.get_by_role("button", name="提交举报").click()
    expect(card).to_contain_text("已取消", timeout=LIVE_MS)
    expect(card).to_contain_text("已举报")
    expect(card.get_by_role("button", name="到了现场没人开工？")).to_have_count(0)

    dash = manager_dashboard(browser, server, page_errors)
    queued = dash.locator("#reports tr").filter(has_text=TITLE)
    expect(queued).to_contain_text("雇主未到场", timeout=LIVE_MS)
    expect(queued).to_contain_text("厂门锁着，电话没人接")
    shot(dash, "manage-1920x1080-nobody-came")

    with closing(server.ledger()) as db:
        assert db.execute("SELECT reason FROM reports WHERE job_id = ?",
                          (job["id"],)).fetchall() == [("no_show",)]
        assert db.execute("SELECT state FROM assignments WHERE id = ?",
                          (assignment["id"],)).fetchone() == ("cancelled",)
        assert db.execute("SELECT late_cancels FROM workers WHERE phone = ?",
                          (WORKER_PHONE,)).fetchone() == (0,)


def test_worker_checks_in_with_the_code_on_the_bosss_phone(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    boss_phone, worker_phone, title = "13500135202", "13700137202", "车间搬运（到岗测试）"
    assignment, job = accepted_assignment(server, boss_phone=boss_phone,
                                          worker_phone=worker_phone, title=title,
                                          credit_body="91440114MA5D8K3Q2", skill="cleaning")
    boss = sign_in(server, boss_phone, "employer")
    site = api(server, "GET", f"/jobs/{job['id']}/site_code", token=boss["token"])
    wk = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                      .new_page(), page_errors, expected_refusals=("/checkin",))
    phone_sign_in(wk, server.base_url, "/m/worker", worker_phone)
    wk.locator("#tabs").get_by_role("button", name="我的活").click()
    card = wk.locator("#assignments article").filter(has_text=title)
    expect(card).to_contain_text("已接受", timeout=LIVE_MS)
    # The slip's six digits are on the phone too, for an employer who cannot scan (issue 10).
    code = assignment["code"]
    expect(card.locator(f'[data-code="{assignment["id"]}"]')).to_contain_text(
        f"{code[:3]} {code[3:]}")
    field = card.get_by_label("工地签到码（老板手机上的二维码）")
    # The worker's own slip code is not the site's: refused, the field named, nothing changed.
    field.fill(assignment["qr"])
    card.get_by_role("button", name="到岗签到").click()
    expect(card.locator("[aria-invalid=true]")).to_have_count(1)
    expect(card).to_contain_text("签到码不对或已过期")
    # The site's six digits, typed as a worker without a camera would (issue 10).
    field.fill(site["digits"])
    shot(wk, "worker-390x844-site-checkin", full_page=True)
    card.get_by_role("button", name="到岗签到").click()
    expect(card).to_contain_text("已到岗", timeout=LIVE_MS)
    expect(card.get_by_label("工地签到码（老板手机上的二维码）")).to_have_count(0)
    with closing(server.ledger()) as db:
        assert db.execute("SELECT state FROM assignments WHERE id = ?",
                          (assignment["id"],)).fetchone() == ("checked_in",)
