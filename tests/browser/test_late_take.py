"""Late takes on the real pages (issue 14): an offer the worker did not answer in time stays on
the kiosk and on the phone, marked "time ran out, a place is still free", and a tap takes it.

The kiosk worker reads the offer, hears it, is too slow; the ring runs out, the screen and the
voice say the job can still be taken, and the tap gives the slip. The phone worker lets the
countdown run out, the card turns to the late card, and a tap hires them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    KIOSK,
    PHONE_TALL,
    SPEECH_AND_PRINT_RECORDER,
    api,
    running_server,
    wait_until,
    watch_errors,
)
from tests.browser.test_after_accept import phone_sign_in, sign_in
from tests.browser.test_journey import LIVE_MS, id_number
from tests.browser.test_kiosk_people import post_job
from tests.browser.test_phoneless_day import kiosk_sign_in
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

#: Short enough that the walk does not wait long for an offer to run out.
OFFER_S = 10
LATE_S = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("late"),
                        rules={"offer_timeout_s": OFFER_S, "late_take_s": LATE_S}) as srv:
        yield srv


def _assignment_via(server: ServerProcess, job_id: str) -> list[tuple[str, str | None]]:
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:
        with closing(server.ledger()) as db:
            rows = db.execute("SELECT via, offer_id FROM assignments WHERE job_id = ?",
                              (job_id,)).fetchall()
        if rows or time.monotonic() > deadline:
            return [(str(r[0]), r[1]) for r in rows]
        time.sleep(0.2)


def test_the_kiosk_keeps_an_offer_that_ran_out_and_a_tap_takes_it(
    browser: Any, server: ServerProcess, kiosk_token: str, shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    number = id_number("44011419580505301")
    worker = api(server, "POST", "/kiosk/register", {"id_number": number, "pin": "2468",
                                                     "name": "李桂芳"}, kiosk_token)
    api(server, "PUT", "/me/profile", {"name": "李桂芳", "skills": ["cleaning"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])

    kctx = browser.new_context(viewport=KIOSK, has_touch=True, locale="zh-CN")
    kctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    kiosk = watch_errors(kctx.new_page(), page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?market=shiling&station=hall#kiosk_token={kiosk_token}")
    kiosk_sign_in(kiosk, number, "2468")

    job = post_job(server, "cleaning", "商场保洁（晚到也能接）", "13500135701",
                   "91440114MA5D8K3L1")
    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-title")).to_have_text("商场保洁（晚到也能接）")
    # She does not tap in time: the ring runs out and the offer stays, marked late.
    late = kiosk.locator("#offer-card .k-late")
    expect(late).to_contain_text("时间过了", timeout=(OFFER_S + 10) * 1000)
    expect(kiosk.locator("#s-offer")).to_be_visible()
    wait_until(kiosk, "w => window.__spoken.some((s) => s.text.includes(w))", "还能接")
    shot(kiosk, "kiosk-1080x1920-late-take")
    kiosk.locator("#accept").tap()
    expect(kiosk.locator("#s-slip")).to_be_visible(timeout=LIVE_MS)
    offers = api(server, "GET", "/me/offers", token=worker["token"])
    (offer,) = [o for o in offers if o["job_id"] == job["id"]]
    assert offer["state"] == "expired"
    assert _assignment_via(server, job["id"]) == [("late_take", offer["id"])]


def test_the_phone_turns_a_run_out_offer_into_a_late_card_and_a_tap_hires(
    browser: Any, server: ServerProcess, shot: Callable[..., Path], page_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    phone = "13700137701"
    worker = sign_in(server, phone, "worker")
    api(server, "PUT", "/me/profile", {"name": "陈大明", "skills": ["sorting_packing"],
                                       "min_wage": {"amount": 150, "unit": "day"}},
        worker["token"])
    api(server, "POST", "/markets/shiling/checkin", {"station_id": "hall"}, worker["token"])
    ctx = browser.new_context(viewport=PHONE_TALL, has_touch=True, locale="zh-CN")
    page = watch_errors(ctx.new_page(), page_errors)
    phone_sign_in(page, server.base_url, "/m/worker", phone)

    job = post_job(server, "sorting_packing", "快递分拣（晚到也能接）", "13500135702",
                   "91440114MA5D8K3L2")
    card = page.locator("article.offer-card").filter(has_text="快递分拣（晚到也能接）")
    expect(card).to_be_visible(timeout=LIVE_MS)
    expect(card.locator(".offer-late")).to_contain_text("还有空位",
                                                        timeout=(OFFER_S + 10) * 1000)
    shot(page, "phone-late-take")
    card.get_by_role("button", name="接这个活").tap()
    expect(page.locator("#assignments")).to_contain_text("快递分拣（晚到也能接）",
                                                         timeout=LIVE_MS)
    assert [v for v, _ in _assignment_via(server, job["id"])] == ["late_take"]
