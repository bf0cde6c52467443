"""The employer's record, end to end: a worker reports that nobody came to give the work, the
manager decides, and the employer's reliability then steers the next round's matching."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tests.e2e.people import (
    HALL,
    check_in,
    hired,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess


def _cancelled(assignment_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: (m["type"] == "assignment" and m["assignment"]["id"] == assignment_id
                      and m["assignment"]["state"] == "cancelled")


async def test_an_employer_who_left_a_worker_standing_gets_workers_last(
    make_server: Callable[..., ServerProcess],
) -> None:
    """A hired worker finds nobody at the site and reports it: the work ends without a mark
    against them and the manager's queue has the report. Upheld, it is the employer's
    no-show. The job left unattended recruits no more: a worker who could do it checks in
    and is not sent to the same gate. That employer already had another job open, nearer the
    hall than a clean employer's identical job; the next worker who can do both is sent to
    the clean employer."""
    # Absence may be called from two hours before the start: the job below starts in one.
    server = make_server(no_show_grace_minutes=-120)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    await boss.connect()
    lapsed = await new_employer(api, ws, "13900000001", verified_by=boss, org="狮岭甲皮具厂")
    clean = await new_employer(api, ws, "13900000002", verified_by=boss, org="狮岭乙皮具厂")
    await lapsed.connect()
    first = await new_worker(api, ws, "13800000001")
    await first.connect()
    await check_in(first)
    stood_up = await lapsed.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    offer = await first.wait_for(lambda m: m["type"] == "offer")
    work = (await first.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"]
    assert work["absent_after"] < work["start_at"]

    # Both employers' next cleaning jobs are open side by side, as urgent as each other, the
    # lapsed one's a few hundred metres nearer the hall. Nobody waiting can clean.
    cleaning = {"headcount": 1, "start_at": in_hours(1), "skills": ["cleaning"],
                "title": "车间保洁", "lon": HALL[1]}
    near = await lapsed.ok("POST", "/markets/shiling/jobs",
                           job_body(**cleaning, lat=HALL[0] + 0.002))
    far = await clean.ok("POST", "/markets/shiling/jobs", job_body(**cleaning, lat=HALL[0] + 0.005))

    filed = await first.ok("POST", f"/jobs/{stood_up['id']}/report",
                           {"reason": "no_show", "note": "八点到了厂门口，没人开门"})
    assert filed["reason"] == "no_show"
    told = await first.wait_for(_cancelled(work["id"]))
    assert told["assignment"]["state"] == "cancelled"
    await lapsed.wait_for(lambda m: m["type"] == "job" and m["job"]["id"] == stood_up["id"]
                          and any(w["state"] == "cancelled" for w in m["job"]["workers"]))
    await boss.wait_for(lambda m: m["type"] == "event" and m["event"]["type"] == "report.filed")
    assert (await first.ok("GET", "/me"))["reliability"] == 1.0
    queue = await boss.ok("GET", "/markets/shiling/reports")
    assert [(q["id"], q["reason"]) for q in queue["reports"]] == [(filed["id"], "no_show")]
    await boss.ok("POST", f"/reports/{filed['id']}/resolve",
                  {"upheld": True, "note": "电话核实：当天厂里放假未通知"})
    assert (await lapsed.ok("GET", "/me"))["reliability"] == 0.8

    # Open again after the call-off, the stood-up job would suit this porter exactly.
    porter = await new_worker(api, ws, "13800000003")
    await check_in(porter)
    second = await new_worker(api, ws, "13800000002", skills=["cleaning"])
    await second.connect()
    await check_in(second)
    offered = await second.wait_for(lambda m: m["type"] == "offer")
    assert offered["job"]["id"] == far["id"]
    why = await second.ok("GET", f"/offers/{offered['offer_id']}/why")
    assert why["terms"]["employer_reliability"] == -0.5
    assert set(why["terms"]) >= {"employer_rating", "employer_reliability", "total"}
    # Readable figures: four places at most, and no "-0.0" for a term that weighed nothing.
    for v in why["terms"].values():
        assert v == round(v, 4), why["terms"]
        assert v != 0 or math.copysign(1.0, v) > 0, why["terms"]
    for p in (boss, lapsed, first, second):
        await p.disconnect()

    db = server.ledger()
    assert db.execute("SELECT no_shows, upheld_reports, reliability FROM employers WHERE id = ?",
                      (lapsed.user_id,)).fetchone() == (1, 0, 0.8)
    assert db.execute("SELECT late_cancels, no_shows, reliability FROM workers WHERE id = ?",
                      (first.user_id,)).fetchone() == (0, 0, 1.0)
    assert db.execute("SELECT state FROM assignments WHERE id = ?",
                      (work["id"],)).fetchone() == ("cancelled",)
    assert db.execute("SELECT COUNT(*) FROM offers WHERE job_id = ?",
                      (near["id"],)).fetchone() == (0,)
    # The round that offered the cleaner came after the porter checked in.
    assert db.execute("SELECT COUNT(*) FROM offers WHERE worker_id = ?",
                      (porter.user_id,)).fetchone() == (0,)
    payload = db.execute("SELECT payload FROM events WHERE type = 'assignment.cancelled'"
                         ).fetchone()[0]
    assert '"employer_absent":true' in payload.replace(" ", "")
    assert [r[0] for r in db.execute("SELECT type FROM events WHERE type LIKE 'report.%'"
                                     " ORDER BY seq")] == ["report.filed", "report.resolved"]
    db.close()


async def test_a_false_nobody_came_report_counts_against_the_worker(
    make_server: Callable[..., ServerProcess],
) -> None:
    """The manager finds the employer was there: the report is not upheld, the employer's
    record is untouched and the worker's call-off counts as the late cancel it was."""
    server = make_server(no_show_grace_minutes=-120)
    boss, employer, (w,), job, (a,) = await hired(server, 1)
    filed = await w.ok("POST", f"/jobs/{job['id']}/report", {"reason": "no_show"})
    await w.wait_for(_cancelled(a["id"]))
    r = await w.call("POST", f"/assignments/{a['id']}/cancel")
    assert r.status_code == 409  # it is over already
    await boss.ok("POST", f"/reports/{filed['id']}/resolve",
                  {"upheld": False, "note": "监控显示雇主七点半已在现场"})
    me = await w.ok("GET", "/me")
    assert me["reliability"] == 0.889  # 4 / (4 + 0.5): the prior credit, one late cancel
    assert (await employer.ok("GET", "/me"))["reliability"] == 1.0
    for p in (w, employer):
        await p.disconnect()
    db = server.ledger()
    assert db.execute("SELECT late_cancels FROM workers").fetchone() == (1,)
    assert db.execute("SELECT no_shows, upheld_reports FROM employers").fetchone() == (0, 0)
    assert db.execute("SELECT state, upheld FROM reports").fetchone() == ("resolved", 0)
    db.close()


async def test_nobody_came_is_refused_before_the_grace_and_without_awaited_work(
    server: ServerProcess,
) -> None:
    """Too early (the default grace is half an hour after the start), or from a worker who
    holds no accepted work on the job: refused with the field named, nothing changed."""
    _, employer, (w,), job, (a,) = await hired(server, 1)
    r = await w.call("POST", f"/jobs/{job['id']}/report", {"reason": "no_show"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "too_early"
    assert r.json()["error"]["field"] == "reason"
    # The worker checks in at the site: the work has begun, nobody-came no longer applies.
    await employer.ok("POST", f"/assignments/{a['id']}/checkin", {"code": a["qr"]})
    r = await w.call("POST", f"/jobs/{job['id']}/report", {"reason": "no_show"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_awaited_work"
    # Any other reason still files.
    await w.ok("POST", f"/jobs/{job['id']}/report", {"reason": "not_as_described"})
    for p in (w, employer):
        await p.disconnect()
    db = server.ledger()
    assert db.execute("SELECT reason FROM reports").fetchall() == [("not_as_described",)]
    assert db.execute("SELECT state FROM assignments").fetchone() == ("checked_in",)
    assert db.execute("SELECT COUNT(*) FROM events WHERE type = 'assignment.cancelled'"
                      ).fetchone() == (0,)
    db.close()
