"""Checking a worker in at the site through the employer's page (issue 10): the scan button
reads the slip's real QR through a camera (Chromium's fake camera filming a generated video),
and the six digits typed into the labelled field, with wrong codes refused and locked out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MANAGER,
    PHONE_TALL,
    api,
    watch_errors,
)
from tests.browser.fake_camera import write_y4m
from tests.browser.test_after_accept import accepted_assignment, phone_sign_in
from tests.browser.test_journey import LIVE_MS
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser


@pytest.fixture
def camera(browser: Any, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """A Chromium whose camera films a QR code of the given text (the employer's phone)."""
    launched: list[Any] = []

    def launch(text: str) -> Any:
        video = write_y4m(tmp_path / f"qr{len(launched)}.y4m", text)
        b = browser.browser_type.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
                  "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
        launched.append(b)
        return b

    yield launch
    for b in launched:
        b.close()


def _checked_in_with(server: ServerProcess, assignment_id: str) -> str | None:
    with closing(server.ledger()) as db:
        row = db.execute("SELECT payload FROM events WHERE subject = ? AND"
                         " type = 'assignment.checked_in'", (assignment_id,)).fetchone()
    return None if row is None else str(json.loads(row[0])["with"])


def test_the_scan_button_reads_the_slip_through_the_camera(
    camera: Callable[[str], Any],
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """The employer taps 扫码; the page reads the slip's QR from the camera with the vendored
    decoder (this Chromium has no BarcodeDetector) and checks the worker in."""
    from playwright.sync_api import expect

    assignment, _job = accepted_assignment(
        server, boss_phone="13500135301", worker_phone="13700137301", title="理货（扫码测试）",
        credit_body="91440114MA5D8K3Q3")
    phone = camera(assignment["qr"])
    ctx = phone.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
    ctx.grant_permissions(["camera"], origin=server.base_url)
    emp = watch_errors(ctx.new_page(), page_errors)
    phone_sign_in(emp, server.base_url, "/m/employer", "13500135301")
    row = emp.locator(f'[data-worker="{assignment["id"]}"]')
    expect(row).to_have_attribute("data-state", "accepted", timeout=LIVE_MS)
    expect(row.get_by_text("周* 单子上的签到码", exact=True)).to_be_visible()
    assert emp.evaluate("'BarcodeDetector' in window") is False
    row.get_by_role("button", name="扫码").click()
    expect(emp.locator("#alert")).to_contain_text("周* 已到岗", timeout=LIVE_MS)
    expect(row).to_have_attribute("data-state", "checked_in", timeout=LIVE_MS)
    shot(emp, "employer-390x844-scanned-slip", full_page=True)
    assert _checked_in_with(server, assignment["id"]) == "qr"
    ctx.close()


def test_the_six_digits_typed_with_wrong_ones_locked_out(
    browser: Any,
    server: ServerProcess,
    shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """The employer types codes into the labelled field: a wrong one is refused with the tries
    left, the fifth locks the assignment (even the right code is then refused, in words); after
    the market's manager unlocks it, the right six digits check the worker in."""
    from playwright.sync_api import expect

    assignment, _job = accepted_assignment(
        server, boss_phone="13500135302", worker_phone="13700137302", title="理货（输码测试）",
        credit_body="91440114MA5D8K3Q4")
    right = assignment["code"]
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    emp = watch_errors(browser.new_context(viewport=PHONE_TALL, is_mobile=True, has_touch=True)
                       .new_page(), page_errors, expected_refusals=("/checkin",))
    phone_sign_in(emp, server.base_url, "/m/employer", "13500135302")
    # The page reloads its jobs once its socket is live: typing before that raced the
    # reload (CI saw the first code submitted empty), as in the other walks here.
    expect(emp.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    row = emp.locator(f'[data-worker="{assignment["id"]}"]')
    expect(row).to_have_attribute("data-state", "accepted", timeout=LIVE_MS)
    field = row.get_by_label("周* 单子上的签到码")
    for left in (4, 3, 2, 1):
        field.fill(wrong)
        row.get_by_role("button", name="签到").click()
        expect(emp.locator("#alert")).to_contain_text(f"签到码不对，还能再试 {left} 次")
        if left == 4:
            shot(emp, "employer-390x844-wrong-code", full_page=True)
        emp.locator("#alert").evaluate("el => { el.hidden = true; el.textContent = ''; }")
    field.fill(wrong)
    row.get_by_role("button", name="签到").click()
    expect(emp.locator("#alert")).to_contain_text("已锁定")
    field.fill(right)
    row.get_by_role("button", name="签到").click()
    expect(emp.locator("#alert")).to_contain_text("已锁定")
    shot(emp, "employer-390x844-code-locked", full_page=True)
    expect(row).to_have_attribute("data-state", "accepted")

    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    api(server, "POST", f"/assignments/{assignment['id']}/unlock_code", token=mgr["token"])
    field.fill(right)
    row.get_by_role("button", name="签到").click()
    expect(emp.locator("#alert")).to_contain_text("周* 已到岗")
    expect(row).to_have_attribute("data-state", "checked_in", timeout=LIVE_MS)
    assert _checked_in_with(server, assignment["id"]) == "digits"
