"""The kiosk for real people (issue 10), through the pages at the kiosk's three sizes: a
phoneless first-timer reads the privacy notice, registers with the card reader's line and the
character pad, hears every step (and can mute it), gets an offer whose buttons cover nothing,
and a slip with the date and the six digits; the manager sets a kiosk up from the console,
resets a forgotten PIN at the desk and revokes the kiosk."""

from __future__ import annotations

import json
import re
import urllib.error
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    MANAGER,
    SPEECH_AND_PRINT_RECORDER,
    api,
    manager_dashboard,
    wait_until,
    watch_errors,
)
from tests.browser.test_after_accept import sign_in
from tests.browser.test_journey import CST, HALL, LIVE_MS, credit_code, id_number
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.browser

#: The kiosk sizes of issue 10: portrait, landscape, and a small landscape panel.
SIZES = {"1080x1920": (1080, 1920), "1920x1080": (1920, 1080), "1280x800": (1280, 800)}

#: Whether an element is wholly inside the viewport and is what a finger at its centre hits.
UNOBSTRUCTED = """(el) => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) return "not shown";
  const box = [r.left, r.top, r.right, r.bottom].map(Math.round).join(",");
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
    return `cut off: ${box} in ${innerWidth}x${innerHeight}`;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (hit && (hit === el || el.contains(hit))) return "ok";
  return `covered by ${hit ? hit.outerHTML.slice(0, 90) : "nothing"}`;
}"""


def assert_tappable(page: Any, *selectors: str) -> None:
    for sel in selectors:
        verdict = page.locator(sel).first.evaluate(UNOBSTRUCTED)
        assert verdict == "ok", f"{sel}: {verdict}"


def kiosk_page(browser: Any, size: tuple[int, int], errors: list[str],
               refusals: tuple[str, ...] = ()) -> Any:
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    ctx.add_init_script(SPEECH_AND_PRINT_RECORDER)
    return watch_errors(ctx.new_page(), errors, expected_refusals=refusals)


def assert_no_english(page: Any) -> None:
    """The Chinese kiosk shows no English words (issue 10: "⚠ note is required" leaked)."""
    text = page.locator("main").inner_text() + page.locator("#alert").inner_text()
    words = re.findall(r"[A-Za-z]{3,}", text)
    assert not words, f"English in the Chinese kiosk: {words}"


def spoken(page: Any) -> list[str]:
    return [s["text"] for s in page.evaluate("window.__spoken")]


def wait_spoken(page: Any, words: str) -> None:
    wait_until(page, "w => window.__spoken.some((s) => s.text.includes(w))", words)


def post_job(server: ServerProcess, skill: str, title: str, boss_phone: str,
             credit_body: str) -> dict[str, Any]:
    """A verified employer's job near the hall for ``skill`` (one per size: no stray offers)."""
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    boss = sign_in(server, boss_phone, "employer")
    api(server, "PUT", "/me/profile", {"name": "钱老板", "org_name": "狮岭理货站",
                                       "credit_code": credit_code(credit_body)}, boss["token"])
    api(server, "POST", f"/employers/{boss['user_id']}/verify", token=mgr["token"])
    start = (datetime.now(CST) + timedelta(minutes=30)).isoformat(timespec="seconds")
    return dict(api(server, "POST", "/markets/shiling/jobs", {
        "title": title, "skills": [skill], "headcount": 1,
        "wage": {"amount": 260, "unit": "day"}, "start_at": start, "duration_hours": 4,
        "lat": HALL["latitude"], "lon": HALL["longitude"], "address": "狮岭镇理货路 5 号",
    }, boss["token"]))


@pytest.mark.parametrize(("size_name", "skill", "body17", "boss"), [
    ("1080x1920", "cleaning", "44011419550101201", "13500135401"),
    ("1920x1080", "sorting_packing", "44011419550101202", "13500135402"),
    ("1280x800", "caregiver", "44011419550101203", "13500135403"),
])
def test_a_phoneless_first_timer_at_each_kiosk_size(
    browser: Any, server: ServerProcess, kiosk_token: str, shot: Callable[..., Path],
    page_errors: list[str], size_name: str, skill: str, body17: str, boss: str,
) -> None:
    """First time → privacy notice → card reader's "name|number" → name corrected on the
    character pad, no phone → skills → wage → waiting → offer → slip with date and code; at
    every step the key controls are on screen and uncovered, the step is spoken, and the
    mute switch silences the steps until it is switched back."""
    from playwright.sync_api import expect

    size = SIZES[size_name]
    number = id_number(body17)
    kiosk = kiosk_page(browser, size, page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    expect(kiosk.locator("#s-idle")).to_be_visible()
    assert_tappable(kiosk, "#start", "#start-new", "#mute", "#lang")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-idle")

    kiosk.get_by_role("button", name="第一次来？先登记").tap()
    expect(kiosk.locator("#s-privacy")).to_be_visible()
    expect(kiosk.locator("#s-privacy")).to_contain_text("身份证号属于敏感个人信息")
    expect(kiosk.locator("#s-privacy")).to_contain_text("撤回")
    wait_spoken(kiosk, "第一次登记")
    assert_tappable(kiosk, "#privacy-yes", "#privacy-no")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-privacy")
    kiosk.get_by_role("button", name="我同意，开始登记").tap()

    expect(kiosk.locator("#s-id")).to_be_visible()
    wait_spoken(kiosk, "请把身份证放在读卡器上")
    assert_tappable(kiosk, "#s-id button[type=submit]", "#s-id .keypad button >> nth=-1")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-id")
    # The reader types the chip's name and number, then Enter (docs/kiosk.md).
    kiosk.keyboard.type(f"黄阿婆|{number}")
    kiosk.keyboard.press("Enter")

    expect(kiosk.locator("#s-register")).to_be_visible()
    expect(kiosk.locator("#reg-id")).to_have_value(number)
    expect(kiosk.locator("#reg-name")).to_have_value("黄阿婆")
    wait_spoken(kiosk, "请核对姓名")
    pad = kiosk.locator("#namepad")
    expect(pad).to_be_visible()
    # "阿婆" is what the neighbours call her: corrected to her name by touch alone.
    pad.get_by_role("button", name="删除一个字").tap()
    pad.get_by_role("button", name="删除一个字").tap()
    pad.get_by_role("tab", name="名").tap()
    pad.get_by_role("button", name="秀", exact=True).tap()
    pad.get_by_role("button", name="英", exact=True).tap()
    expect(kiosk.locator("#reg-name")).to_have_value("黄秀英")
    assert_tappable(kiosk, "#s-register button[type=submit]", '#namepad [data-char="英"]')
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-register-name")
    kiosk.get_by_label("设一个密码").tap()
    keys = kiosk.locator("#s-register .keypad")
    for digit in "2580":
        keys.get_by_role("button", name=digit, exact=True).tap()
    assert_tappable(kiosk, "#s-register button[type=submit]",
                    "#s-register .keypad button >> nth=-1")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-register-pin")
    kiosk.locator("#s-register").get_by_role("button", name="登记", exact=True).tap()

    expect(kiosk.locator("#s-skills")).to_be_visible()
    wait_spoken(kiosk, "您会做什么活")
    assert_tappable(kiosk, "#skills-next", f'#skill-grid [data-skill="{skill}"]')
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-skills")
    kiosk.locator(f'#skill-grid [data-skill="{skill}"]').tap()
    # Muted: the next step is shown but not spoken; the switch is remembered on the kiosk.
    kiosk.locator("#mute").tap()
    expect(kiosk.locator("#mute")).to_have_attribute("aria-pressed", "true")
    heard = len(spoken(kiosk))
    kiosk.locator("#skills-next").tap()
    expect(kiosk.locator("#s-wage")).to_be_visible()
    assert_tappable(kiosk, "#wage-save", "#wage-plus", "#wage-minus",
                    "#travel-choices [role=radio] >> nth=0",
                    "#travel-choices [role=radio] >> nth=-1")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-wage")
    assert len(spoken(kiosk)) == heard, spoken(kiosk)[heard:]
    assert kiosk.evaluate("localStorage.getItem('gm.kiosk.mute')") == "1"
    kiosk.locator("#mute").tap()
    expect(kiosk.locator("#mute")).to_have_attribute("aria-pressed", "false")
    kiosk.locator("#wage-presets").get_by_role("button", name="200 元/天").tap()
    # She goes no further than 20 minutes (issue 14: a widened job must not send her further).
    travel = kiosk.locator("#travel-choices")
    expect(travel.get_by_role("radio", name="不限")).to_have_attribute("aria-checked", "true")
    travel.get_by_role("radio", name="20 分钟").tap()
    expect(travel.get_by_role("radio", name="20 分钟")).to_have_attribute("aria-checked", "true")
    with kiosk.expect_response(lambda r: r.url.endswith("/me/profile")
                               and r.request.method == "PUT") as saved:
        kiosk.locator("#wage-save").tap()
    assert saved.value.json()["max_travel_minutes"] == 20

    expect(kiosk.locator("#s-wait")).to_be_visible()
    wait_spoken(kiosk, "已签到，正在帮您找活")
    assert_tappable(kiosk, "#checkout", "#s-wait [data-action=leave]")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-wait")

    title = f"保洁理货（{size_name}）"
    post_job(server, skill, title, boss, f"91440114MA5D8K3{boss[-2:]}")
    expect(kiosk.locator("#s-offer")).to_be_visible(timeout=LIVE_MS)
    expect(kiosk.locator("#offer-title")).to_have_text(title)
    wait_spoken(kiosk, title)
    # The action bar must not cover the employer's row (老板) nor the pay.
    assert_tappable(kiosk, "#accept", "#decline")
    kiosk.locator(".k-facts li").last.scroll_into_view_if_needed()
    assert_tappable(kiosk, ".k-facts li >> nth=-1")
    expect(kiosk.locator(".k-facts li").last).to_contain_text("老板")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-offer")
    kiosk.locator("#accept").tap()

    expect(kiosk.locator("#s-slip")).to_be_visible()
    slip = kiosk.locator("#slip")
    day = datetime.now(CST) + timedelta(minutes=30)
    expect(slip.locator('[data-slip="date"]')).to_contain_text(f"{day.year}年{day.month}月{day.day}日")
    code = slip.locator('[data-slip="code"]')
    expect(code).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(slip.locator(".qr svg")).to_be_visible()
    digits = code.inner_text().replace(" ", "")
    wait_spoken(kiosk, " ".join(digits))
    assert_tappable(kiosk, "#print")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-slip")
    kiosk.locator("#s-slip").get_by_role("button", name="好了，退出").tap()
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=LIVE_MS)

    # Returning: the PIN step fits too.
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#s-pin")).to_be_visible()
    wait_spoken(kiosk, "请输入您的密码")
    assert_tappable(kiosk, "#s-pin button[type=submit]", "#s-pin .keypad button >> nth=-1")
    assert_no_english(kiosk)
    shot(kiosk, f"kiosk-{size_name}-p-pin")

    with closing(server.ledger()) as db:
        row = db.execute("SELECT name, phone, consent_version FROM workers WHERE"
                         " id_number_masked LIKE ?", (f"%{number[-4:]}",)).fetchone()
        payload = db.execute("SELECT payload FROM events WHERE type = 'worker.registered'"
                             " ORDER BY seq DESC LIMIT 1").fetchone()
    assert row == ("黄秀英", None, "kiosk-privacy-2026-11")
    assert json.loads(payload[0])["consent"] == "kiosk-privacy-2026-11"


def test_the_manager_sets_up_a_kiosk_resets_a_pin_and_revokes_it(
    browser: Any, server: ServerProcess, shot: Callable[..., Path], page_errors: list[str],
) -> None:
    """At /manage#kiosks the manager registers a kiosk at a station and opens its link: the
    kiosk page comes up set up. A worker forgot the PIN: the desk finds her by the ID
    number's last digits and resets it; at the kiosk the temporary PIN leads to choosing a
    new one. The manager revokes the kiosk: its list shows the last contact and 已停用, and
    the kiosk can no longer sign anyone in."""
    from playwright.sync_api import expect

    dash = manager_dashboard(browser, server, page_errors)
    dash.goto(f"{server.base_url}/manage#kiosks")
    panel = dash.locator("#kiosks")
    expect(panel).to_be_visible(timeout=LIVE_MS)
    panel.get_by_label("放在哪个服务点").select_option(index=0)
    panel.get_by_label("自助机名称").fill("大厅 2 号机")
    panel.get_by_role("button", name="登记一台自助机").click()
    link = panel.locator("[data-setup-link]")
    expect(link).to_be_visible()
    expect(panel.locator("#kiosk-made .qr svg")).to_be_visible()
    shot(dash, "manage-1920x1080-kiosk-setup")
    kiosk_id = link.get_attribute("data-setup-link")
    url = link.get_attribute("href")
    assert url and "#kiosk_token=" in url

    kiosk = kiosk_page(browser, SIZES["1280x800"], page_errors,
                       refusals=("/api/v1/kiosk/signin",))
    kiosk.goto(url)
    expect(kiosk.locator("#s-idle")).to_be_visible()

    number = id_number("44011419600202301")
    api(server, "POST", "/kiosk/register", {"id_number": number, "pin": "1357", "name": "梁二妹",
                                            "consent": "kiosk-privacy-2026-11"},
        token=url.split("#kiosk_token=")[1])
    desk = dash.locator("#desk")
    desk.get_by_label("身份证后 4 位或姓名").fill(number[-4:])
    desk.get_by_role("button", name="查找").click()
    found = desk.locator("[data-desk-worker]")
    expect(found).to_contain_text("梁二妹")
    found.get_by_role("button", name="重置密码").click()
    dash.locator("dialog.confirm-dialog").get_by_role("button", name="重置密码").click()
    temp = found.locator("[data-temp-pin]")
    expect(temp).to_contain_text("临时密码")
    shot(dash, "manage-1920x1080-pin-reset")
    temporary = re.search(r"(\d{6})", temp.inner_text()).group(1)

    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in temporary:
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()
    expect(kiosk.locator("#s-newpin")).to_be_visible()
    wait_spoken(kiosk, "请设一个新密码")
    assert_tappable(kiosk, "#s-newpin button[type=submit]")
    shot(kiosk, "kiosk-1280x800-p-newpin")
    for digit in "8642":
        kiosk.locator("#s-newpin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-newpin").get_by_role("button", name="保存").tap()
    expect(kiosk.locator("#s-skills")).to_be_visible()
    kiosk.locator("#s-skills").get_by_role("button", name="返回").tap()
    kiosk.locator("#s-home").get_by_role("button", name="退出").tap()
    expect(kiosk.locator("body")).to_have_attribute("data-signed-out", "done", timeout=LIVE_MS)

    row = dash.locator(f'[data-kiosk="{kiosk_id}"]')
    dash.reload()
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row).not_to_contain_text("还没联系过")
    row.get_by_role("button", name="停用").click()
    dash.locator("dialog.confirm-dialog").get_by_role("button", name="停用").click()
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row).to_contain_text("已停用")
    shot(dash, "manage-1920x1080-kiosk-revoked")
    kiosk.locator("#start").tap()
    kiosk.keyboard.type(number)
    kiosk.keyboard.press("Enter")
    for digit in "8642":
        kiosk.locator("#s-pin .keypad").get_by_role("button", name=digit, exact=True).tap()
    kiosk.locator("#s-pin").get_by_role("button", name="登录").tap()
    # The revoked device token is refused: the kiosk says it needs setting up again.
    expect(kiosk.locator("#s-setup")).to_be_visible()


def test_the_board_shows_a_qr_that_opens_the_worker_page(
    browser: Any, server: ServerProcess, shot: Callable[..., Path], page_errors: list[str],
) -> None:
    """The hall board carries a QR (drawn by the server); decoded as a phone's camera would
    (the vendored jsQR), it is the worker page on this server, which opens on a phone."""
    from playwright.sync_api import expect

    board = watch_errors(browser.new_context(viewport={"width": 1920, "height": 1080})
                         .new_page(), page_errors)
    board.goto(f"{server.base_url}/board/shiling")
    qr = board.locator("#board-qr")
    expect(qr).to_be_visible(timeout=LIVE_MS)
    wait_until(board, "() => document.getElementById('board-qr').complete"
                      " && document.getElementById('board-qr').naturalWidth > 0")
    expect(board.locator(".board-qr")).to_contain_text("手机扫码接活")
    assert_tappable(board, "#board-qr")
    shot(board, "board-1920x1080-qr")
    url = board.evaluate("""async () => {
        const { decodeImage } = await import("/static/js/scan.js");
        return decodeImage(document.getElementById("board-qr"));
    }""")
    assert url == f"{server.base_url}/m/worker?market=shiling"
    phone = watch_errors(browser.new_context(viewport={"width": 390, "height": 844},
                                             is_mobile=True).new_page(), page_errors)
    phone.goto(url)
    expect(phone.get_by_label("手机号")).to_be_visible()


def test_the_desk_unlocks_a_check_in_code_locked_by_wrong_typing(
    browser: Any, server: ServerProcess, shot: Callable[..., Path], page_errors: list[str],
) -> None:
    """Five wrong codes lock a worker's check-in; at the desk the manager finds the worker by
    name, sees the locked job and unlocks it; the right six digits then check the worker in."""
    from playwright.sync_api import expect

    from tests.browser.test_after_accept import accepted_assignment

    assignment, _job = accepted_assignment(
        server, boss_phone="13500135501", worker_phone="13700137501", title="理货（解锁测试）",
        credit_body="91440114MA5D8K3Q5")
    boss = sign_in(server, "13500135501", "employer")
    wrong = f"{(int(assignment['code']) + 3) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(urllib.error.HTTPError) as refused:
            api(server, "POST", f"/assignments/{assignment['id']}/checkin", {"code": wrong},
                boss["token"])
        refused.value.close()

    dash = manager_dashboard(browser, server, page_errors)
    desk = dash.locator("#desk")
    expect(desk).to_be_visible(timeout=LIVE_MS)
    desk.get_by_label("身份证后 4 位或姓名").fill("周九")
    desk.get_by_role("button", name="查找").click()
    unlock = desk.get_by_role("button", name="解锁签到码：理货（解锁测试）")
    expect(unlock).to_be_visible()
    shot(dash, "manage-1920x1080-desk-locked")
    unlock.click()
    expect(dash.locator("#alert")).to_contain_text("已解锁")
    expect(unlock).to_have_count(0)
    done = api(server, "POST", f"/assignments/{assignment['id']}/checkin",
               {"code": assignment["code"]}, boss["token"])
    assert done["assignment"]["state"] == "checked_in"


def test_the_card_reader_lines_the_kiosk_reads(
    browser: Any, server: ServerProcess, page_errors: list[str],
) -> None:
    """The three reader outputs of docs/kiosk.md give the number and the name; anything else
    is refused rather than half-read."""
    number = id_number("44011419650301123")
    page = watch_errors(browser.new_context().new_page(), page_errors)
    page.goto(f"{server.base_url}/kiosk")
    read = page.evaluate("""async (lines) => {
        const { readCard } = await import("/static/js/idcard.js");
        return lines.map((l) => readCard(l));
    }""", [number, f"黄秀英|{number}", f"{number.lower()} | 黄 秀英",
           json.dumps({"id_number": number, "name": "黄秀英"}, ensure_ascii=False),
           f"黄秀英|{number[:-1]}", "{not json", "黄秀英", ""])
    assert read == [
        {"idNumber": number, "name": None},
        {"idNumber": number, "name": "黄秀英"},
        {"idNumber": number, "name": "黄秀英"},
        {"idNumber": number, "name": "黄秀英"},
        None, None, None, None,
    ]


def test_the_english_steps_fit_the_small_kiosk(
    browser: Any, server: ServerProcess, kiosk_token: str, shot: Callable[..., Path],
    page_errors: list[str],
) -> None:
    """In English (longer words), the first steps still fit 1280x800, and are spoken in
    English."""
    from playwright.sync_api import expect

    kiosk = kiosk_page(browser, SIZES["1280x800"], page_errors)
    kiosk.goto(f"{server.base_url}/kiosk?station=hall#kiosk_token={kiosk_token}")
    kiosk.get_by_role("button", name="English").tap()
    kiosk.get_by_role("button", name="First time here? Register").tap()
    expect(kiosk.locator("#s-privacy")).to_contain_text("sensitive personal information")
    wait_spoken(kiosk, "Please read the notice")
    assert kiosk.evaluate("window.__spoken.at(-1).lang") == "en-GB"
    assert_tappable(kiosk, "#privacy-yes", "#privacy-no")
    shot(kiosk, "kiosk-1280x800-p-privacy-en")
    kiosk.get_by_role("button", name="I agree, register").tap()
    expect(kiosk.locator("#s-id")).to_be_visible()
    assert_tappable(kiosk, "#s-id button[type=submit]", "#s-id .keypad button >> nth=-1")
    kiosk.keyboard.type(id_number("44011419700505401"))
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#s-register")).to_be_visible()
    assert_tappable(kiosk, "#s-register button[type=submit]", '#namepad [data-char="王"]')
    shot(kiosk, "kiosk-1280x800-p-register-en")
