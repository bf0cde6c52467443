"""The daily report (SPEC 11.5) against a scripted day on a real server: every figure exact,
the day cut at the market's own midnight, the CSV from the API and from the command line."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import write_config
from tests.e2e.people import (
    Person,
    check_in,
    gb11643,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import REPO, ServerProcess


def _zone_off_utc() -> str:
    """A market zone whose date today differs from the UTC date, so a report cut at UTC
    midnight (or Beijing's) would put the day's events on the wrong row."""
    now = datetime.now(UTC)
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):  # UTC+14, UTC-12
        if now.astimezone(ZoneInfo(zone)).date() != now.date():
            return zone
    raise AssertionError("one of the two zones is always on another date")


@pytest.fixture
def far_server(tmp_path: Path) -> Iterator[ServerProcess]:
    zone = _zone_off_utc()
    config = write_config(tmp_path / "config", {"no_show_grace_minutes": -120,
                                                 "pay_confirm_hours": 0.002})
    market = config / "markets" / "shiling.toml"
    market.write_text(market.read_text().replace('timezone = "Asia/Shanghai"',
                                                 f'timezone = "{zone}"'))
    srv = ServerProcess(tmp_path / "data", env={"GIGMARKET_CONFIG": str(config)})
    srv.zone = zone  # type: ignore[attr-defined]
    srv.start()
    srv.cli("manager", "add", "--username", "boss", "--market", "shiling",
            "--password", "correct-horse")
    srv.cli("manager", "add", "--username", "other", "--market", "huashan",
            "--password", "correct-horse")
    try:
        yield srv
    finally:
        srv.stop()
    assert "Traceback" not in srv.log_tail(100_000)


def _assignment_is(w: Person, assignment_id: str, state: str) -> object:
    return lambda m: (m["type"] == "assignment" and m["assignment"]["id"] == assignment_id
                      and m["assignment"]["state"] == state)


async def test_a_scripted_day_is_reported_exactly(far_server: ServerProcess) -> None:
    """Three workers sign up and check in (one a veteran), a job for three fills; one works
    and confirms pay, one's pay becomes a dispute resolved as paid, one never comes and
    reports the posting. A kiosk sign-up takes a second job and calls it off, and a fifth
    worker fills the reopened slot. The market's day has exactly these figures; its
    neighbours none."""
    srv = far_server
    api, ws = srv.api, srv.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    workers = [await new_worker(api, ws, f"1380000010{i}") for i in range(3)]
    for w in workers:
        await w.connect()
        await check_in(w)
    # After the check-in: a manager acts only on a worker of their market (SPEC 11.3).
    await boss.ok("PUT", f"/workers/{workers[0].user_id}/key_group", {"key_group": "veteran"})
    await check_in(workers[1])  # twice: still one worker checked in, one registered
    employer = await new_employer(api, ws, "13900000101", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=3))
    hired = []
    for w in workers:
        offer = await w.wait_for(lambda m: m["type"] == "offer")
        hired.append((await w.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"])
    a1, a2, a3 = hired
    pay = {"amount": 300, "unit": "day"}

    # A kiosk sign-up takes a second job and calls it off; the slot reopens and a fifth
    # worker fills it: two placements, the second timed from the call-off.
    kiosk = await boss.ok("POST", "/markets/shiling/kiosks", {"station_id": "hall"})
    async with httpx.AsyncClient(base_url=api, timeout=30,
                                 headers={"Authorization": f"Bearer {kiosk['token']}"}) as c:
        r = await c.post("/kiosk/register", json={
            "id_number": gb11643("44011419650203123"), "pin": "2468", "name": "陈伯",
            "phone": "13700000101"})
        assert r.status_code == 201, r.text
    w4 = Person(api, ws, token=r.json()["token"], user_id=r.json()["user_id"])
    await w4.ok("PUT", "/me/profile", {"name": "陈伯", "skills": ["loading"],
                                       "min_wage": {"amount": 150, "unit": "day"}})
    await w4.connect()
    await w4.ok("POST", "/markets/shiling/checkin", {"station_id": "hall"})
    job_b = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1,
                                                                        title="卸货"))
    offer = await w4.wait_for(lambda m: m["type"] == "offer")
    b1 = (await w4.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"]
    await w4.ok("POST", f"/assignments/{b1['id']}/cancel")
    w5 = await new_worker(api, ws, "13800000109")
    await w5.connect()
    await check_in(w5)
    offer = await w5.wait_for(lambda m: m["type"] == "offer")
    b2 = (await w5.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"]
    assert b2["job_id"] == job_b["id"]
    workers += [w4, w5]

    # The second's pay is never confirmed: a dispute, resolved by the manager as paid.
    await employer.ok("POST", f"/assignments/{a2['id']}/checkin", {"code": a2["qr"]})
    await employer.ok("POST", f"/assignments/{a2['id']}/complete", {"hours": 8, "pay": pay})
    await workers[1].wait_for(_assignment_is(workers[1], a2["id"], "disputed"))
    dispute = (await boss.ok("GET", "/markets/shiling/disputes"))["disputes"][0]
    await boss.ok("POST", f"/disputes/{dispute['id']}/resolve",
                  {"note": "雇主出示转账记录", "outcome": "paid"})
    # The first works and confirms the pay at once.
    await employer.ok("POST", f"/assignments/{a1['id']}/checkin", {"code": a1["qr"]})
    await employer.ok("POST", f"/assignments/{a1['id']}/complete",
                      {"hours": 8, "pay": {"amount": 280, "unit": "day"}})
    await workers[0].ok("POST", f"/assignments/{a1['id']}/paid")
    # The third never came, and says the job was not as described.
    await employer.ok("POST", f"/assignments/{a3['id']}/no_show")
    await workers[2].ok("POST", f"/jobs/{job['id']}/report",
                        {"reason": "not_as_described", "note": "工资不对"})
    for w in workers:
        await w.disconnect()

    zone = ZoneInfo(srv.zone)  # type: ignore[attr-defined]
    today = datetime.now(zone).date()
    db = srv.ledger()
    posted = dict(db.execute("SELECT subject, at FROM events WHERE type = 'job.posted'"))
    accepted = db.execute("SELECT json_extract(payload, '$.job_id'), at FROM events"
                          " WHERE type = 'offer.accepted' ORDER BY seq").fetchall()
    (called_off,), = db.execute("SELECT at FROM events WHERE type = 'assignment.cancelled'")
    first_at = db.execute("SELECT MIN(at) FROM events WHERE market_id = 'shiling'").fetchone()[0]
    db.close()
    assert datetime.fromtimestamp(first_at, zone).date() == today, "the day turned mid-test"
    span = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    report = await boss.ok("GET", f"/markets/shiling/reports/daily?{span}")
    assert report["market_id"] == "shiling"
    quiet = {"workers_registered": 0, "workers_checked_in": 0, "jobs_posted": 0,
             "slots_posted": 0, "slots_filled": 0, "median_time_to_fill_s": None,
             "key_group_placed": 0, "wages_confirmed_fen": 0, "disputes_opened": 0,
             "disputes_resolved": 0, "reports_opened": 0, "fills_by_hour": [0] * 24}
    hours = [0] * 24
    for _, a in accepted:
        hours[datetime.fromtimestamp(a, zone).hour] += 1
    # Job A's three from its posting; job B's first from its posting, its refill from the
    # call-off that reopened the slot.
    fills_b = [a for j, a in accepted if j == job_b["id"]]
    waits = [a - posted[job["id"]] for j, a in accepted if j == job["id"]]
    waits += [fills_b[0] - posted[job_b["id"]], fills_b[1] - called_off]
    assert report["rows"] == [
        {"date": str(today - timedelta(days=1)), **quiet},
        {"date": str(today), "workers_registered": 5, "workers_checked_in": 5,
         "jobs_posted": 2, "slots_posted": 4, "slots_filled": 5,
         "median_time_to_fill_s": round(statistics.median(waits), 3),
         "key_group_placed": 1, "wages_confirmed_fen": 30000 + 28000, "disputes_opened": 1,
         "disputes_resolved": 1, "reports_opened": 1, "fills_by_hour": hours},
        {"date": str(today + timedelta(days=1)), **quiet},
    ]

    # The CSV: the same figures, Chinese headers, a BOM; the command line gives the same bytes.
    r = await boss.call("GET", f"/markets/shiling/reports/daily?{span}&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff日期,新登记劳动者,签到劳动者".encode())
    lines = r.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[2].startswith(f"{today},5,5,2,4,5,")
    assert lines[2].endswith(",1,58000,1,1,1")
    out = subprocess.run(
        [sys.executable, "-m", "gigmarket.cli", "export", "--report", "daily", "--market",
         "shiling", "--from", str(today - timedelta(days=1)), "--to",
         str(today + timedelta(days=1))],
        env=srv.env, capture_output=True, check=True, cwd=REPO)
    assert out.stdout == r.content


async def test_report_refusals_name_the_field(far_server: ServerProcess) -> None:
    """Bad dates, a backwards or too long range and a bad format are 4xx naming the field;
    another market's manager and a worker are refused."""
    srv = far_server
    boss = await manager(srv.api, srv.ws_url, "boss", "correct-horse")
    base = "/markets/shiling/reports/daily"
    for query, field in (("from=2026-02-30", "from"), ("from=2026-11-20&to=2026-11-19", "to"),
                         ("from=2024-01-01&to=2026-01-01", "to"), ("format=xml", "format"),
                         ("to=tomorrow", "to")):
        r = await boss.call("GET", f"{base}?{query}")
        assert r.status_code in (400, 422), (query, r.text)
        assert r.json()["error"]["field"] == field, (query, r.text)
    other = await manager(srv.api, srv.ws_url, "other", "correct-horse")
    assert (await other.call("GET", base)).status_code == 403
    worker = await new_worker(srv.api, srv.ws_url, "13800000199")
    assert (await worker.call("GET", base)).status_code == 403
    assert (await boss.call("GET", "/markets/nowhere/reports/daily")).status_code in (403, 404)
    # No dates: the market's today alone (the day may turn between the reads).
    zone = ZoneInfo(srv.zone)  # type: ignore[attr-defined]
    before = str(datetime.now(zone).date())
    rows = (await boss.ok("GET", base))["rows"]
    after = str(datetime.now(zone).date())
    assert len(rows) == 1 and rows[0]["date"] in (before, after)
    done = subprocess.run(
        [sys.executable, "-m", "gigmarket.cli", "export", "--report", "daily",
         "--from", "2026-11-20", "--to", "2026-11-01"],
        env=srv.env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "(to)" in done.stderr
