"""A day at the market for real people (issue 10, SPEC 11.2), end to end: back to work after
a job, certificates, the employer calling its hired worker, and absence costing no work."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.e2e.people import (
    CST,
    Person,
    check_in,
    hired,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess


async def _ledger_until(server: ServerProcess, sql: str, params: tuple[Any, ...],
                        pred: Callable[[list[tuple[Any, ...]]], bool],
                        timeout: float = 60.0) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` once ``pred`` holds of them (the ledger is where the event lands)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        db = server.ledger()
        try:
            rows = db.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            rows = []  # the server is writing (a lock); read again
        finally:
            db.close()
        if pred(rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"ledger never satisfied the wait: {sql} -> {rows}")
        await asyncio.sleep(0.1)


def _offer_for(job_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "offer" and m["job"]["id"] == job_id


async def test_a_worker_is_back_to_work_after_a_job_and_gets_a_second_offer(
    server: ServerProcess,
) -> None:
    """A worker checked in, hired, checked in at the site, completed and paid is available
    again and is offered a second job the same day; /me/why names the assignment meanwhile."""
    _, employer, (w,), job, (a,) = await hired(server, 1)
    why = await w.ok("GET", "/me/why")
    assert why["state"] == "assigned" and why["reason"] == "in_assignment"
    assert why["busy_until"] is not None and ":" in why["reason_text"]["zh"]

    await employer.ok("POST", f"/assignments/{a['id']}/checkin", {"code": a["qr"]})
    await employer.ok("POST", f"/assignments/{a['id']}/complete",
                      {"hours": 8, "pay": {"amount": 300, "unit": "day"}})
    await w.ok("POST", f"/assignments/{a['id']}/paid")
    me = await w.ok("GET", "/me")
    assert me["state"] == "available"
    why = await w.ok("GET", "/me/why")
    assert why["reason"] is not None and why["reason_text"]["zh"]

    second = await employer.ok("POST", "/markets/shiling/jobs",
                               job_body(headcount=1, start_at=in_hours(10), title="下午搬货"))
    offer = await w.wait_for(_offer_for(second["id"]), timeout=60)
    res = await w.ok("POST", f"/offers/{offer['offer_id']}/accept")
    assert res["assignment"]["job_id"] == second["id"]
    for p in (w, employer):
        await p.disconnect()

    db = server.ledger()
    rows = db.execute("SELECT job_id, state FROM assignments WHERE worker_id = ?"
                      " ORDER BY created_at", (w.user_id,)).fetchall()
    assert rows == [(job["id"], "paid"), (second["id"], "accepted")]
    back = db.execute("SELECT COUNT(*) FROM events WHERE type = 'worker.back_to_work'"
                      " AND subject = ?", (w.user_id,)).fetchone()
    assert back == (1,)
    db.close()


async def test_certificates_are_declared_reviewed_and_honoured_until_they_expire(
    server: ServerProcess,
) -> None:
    """An electrician's certificate: bad declarations name their field; pending and rejected
    ones qualify for nothing and /me/why says where to get one; only a manager of the
    worker's market reviews it; verified it brings the offer; expired since the offer, the
    accept is refused and the slot goes back to the round."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    other = await manager(api, ws, "other", "correct-horse")
    w = await new_worker(api, ws, "13800000011", skills=["electrician"])
    today = datetime.now(CST).date()
    profile = {"name": "王师傅", "skills": ["electrician"],
               "min_wage": {"amount": 150, "unit": "day"}}
    bad = [
        ([{"skill": "electrician", "number": "T4401", "expires_on": str(today - timedelta(1))}],
         "certificates[0].expires_on"),
        ([{"skill": "electrician", "number": "T4401", "expires_on": "2030-02-30"}],
         "certificates[0].expires_on"),
        ([{"skill": "electrician", "number": "", "expires_on": "2030-01-01"}],
         "certificates[0].number"),
        ([{"skill": "electrician", "number": "x" * 41, "expires_on": "2030-01-01"}],
         "certificates[0].number"),
        ([{"skill": "astronaut", "number": "T4401", "expires_on": "2030-01-01"}],
         "certificates[0].skill"),
        ([{"skill": "electrician", "number": "T4401"}], "certificates[0].expires_on"),
    ]
    for certs, field in bad:
        r = await w.call("PUT", "/me/profile", {**profile, "certificates": certs})
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    assert (await w.ok("GET", "/me"))["certificates"] == []

    card = {"skill": "electrician", "number": "T440114199001011235",
            "expires_on": str(today + timedelta(days=400))}
    me = await w.ok("PUT", "/me/profile", {**profile, "certificates": [card]})
    assert me["certificates"] == [{**card, "state": "pending", "note": None}]
    await w.connect()
    await check_in(w)

    employer = await new_employer(api, ws, "13900000011", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs",
                            job_body(headcount=1, skills=["electrician"], title="电工接线"))
    why = await _why_until(w, "certificate_required")
    assert "培训" in why["reason_text"]["zh"] and why["training"]

    # Only a manager of a market the worker belongs to may review, and a rejection needs a
    # note, which the worker reads.
    r = await other.call("GET", "/markets/shiling/certificates?state=pending")
    assert r.status_code == 403
    r = await other.call("POST", f"/workers/{w.user_id}/certificates/electrician/verify")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_market"
    queue = await boss.ok("GET", "/markets/shiling/certificates?state=pending")
    assert [(c["worker_id"], c["number"]) for c in queue["certificates"]] == [
        (w.user_id, card["number"])]
    assert "*" in queue["certificates"][0]["worker"]
    r = await boss.call("GET", "/markets/shiling/certificates?state=lost")
    assert r.status_code == 422 and r.json()["error"]["field"] == "state"
    r = await boss.call("POST", f"/workers/{w.user_id}/certificates/electrician/reject", {})
    assert r.status_code == 422 and r.json()["error"]["field"] == "note"
    r = await boss.call("POST", f"/workers/{w.user_id}/certificates/welder/verify")
    assert r.status_code == 404 and r.json()["error"]["field"] == "skill"
    await boss.ok("POST", f"/workers/{w.user_id}/certificates/electrician/reject",
                  {"note": "证件照片不清楚，请带原件来服务台"})
    me = await w.ok("GET", "/me")
    assert me["certificates"][0]["state"] == "rejected"
    assert me["certificates"][0]["note"] == "证件照片不清楚，请带原件来服务台"
    assert not w.of_type("offer")

    # Verified: the round offers the job.
    await boss.ok("POST", f"/workers/{w.user_id}/certificates/electrician/verify")
    assert (await w.ok("GET", "/me"))["certificates"][0]["state"] == "verified"
    offer = await w.wait_for(_offer_for(job["id"]), timeout=60)

    # The card expires before the worker answers (its day is past in the ledger).
    db = server.ledger()
    db.execute("UPDATE certificates SET expires_on = ? WHERE worker_id = ?",
               (str(today - timedelta(days=1)), w.user_id))
    db.commit()
    db.close()
    r = await w.call("POST", f"/offers/{offer['offer_id']}/accept")
    assert r.status_code == 409 and r.json()["error"]["code"] == "certificate_expired", r.text
    await w.wait_for(lambda m: m["type"] == "offer_closed"
                     and m["offer_id"] == offer["offer_id"] and m["reason"] == "withdrawn")
    await employer.connect()
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert view["accepted"] == 0 and view["open_slots"] == 1

    # A new card (another number) waits for a manager again.
    renewed = {**card, "number": "T440114199001019999"}
    me = await w.ok("PUT", "/me/profile", {**profile, "certificates": [renewed]})
    assert me["certificates"][0]["state"] == "pending"
    for p in (w, employer):
        await p.disconnect()

    db = server.ledger()
    kinds = [r[0] for r in db.execute(
        "SELECT type FROM events WHERE type LIKE 'certificate.%' ORDER BY seq")]
    assert kinds == ["certificate.declared", "certificate.rejected", "certificate.verified",
                     "certificate.declared"]
    assert db.execute("SELECT state FROM offers WHERE id = ?",
                      (offer["offer_id"],)).fetchone() == ("withdrawn",)
    assert db.execute("SELECT COUNT(*) FROM assignments").fetchone() == (0,)
    db.close()


async def _why_until(w: Person, reason: str, timeout: float = 60.0) -> dict[str, Any]:
    """``/me/why`` once a round has given ``reason`` (rounds run on their own clock)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        why: dict[str, Any] = await w.ok("GET", "/me/why")
        if why["reason"] == reason:
            return why
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/me/why never said {reason}: {why}")
        await asyncio.sleep(0.2)


async def test_the_employer_sees_a_hired_workers_phone_only_while_the_hire_is_live(
    server: ServerProcess,
) -> None:
    """GET /jobs/{id} and the job message carry the hired worker's full phone to its own
    employer while the assignment is accepted or checked in, masked afterwards and to
    anyone else; the first showing is in the ledger."""
    boss, employer, (w,), job, (a,) = await hired(server, 1)
    phone = "13800000000"
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert view["workers"][0]["phone"] == phone and view["workers"][0]["phone_shown"]
    msg = await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["workers"])
    assert msg["job"]["workers"][0]["phone"] == phone
    as_manager = await boss.ok("GET", f"/jobs/{job['id']}")
    assert as_manager["workers"][0]["phone"] == "138****0000"
    stranger = await new_employer(server.api, server.ws_url, "13900000022")
    r = await stranger.call("GET", f"/jobs/{job['id']}")
    assert r.status_code == 404

    await employer.ok("POST", f"/assignments/{a['id']}/checkin", {"code": a["qr"]})
    assert (await employer.ok("GET", f"/jobs/{job['id']}"))["workers"][0]["phone"] == phone
    await employer.ok("POST", f"/assignments/{a['id']}/complete",
                      {"hours": 8, "pay": {"amount": 300, "unit": "day"}})
    after = await employer.ok("GET", f"/jobs/{job['id']}")
    assert after["workers"][0]["phone"] == "138****0000"
    assert not after["workers"][0]["phone_shown"]
    msg = await employer.wait_for(lambda m: m["type"] == "job" and any(
        x["state"] == "completed" for x in m["job"]["workers"]))
    assert msg["job"]["workers"][0]["phone"] == "138****0000"
    for p in (w, employer):
        await p.disconnect()

    db = server.ledger()
    shown = db.execute("SELECT actor, subject FROM events WHERE type = 'contact.shown'").fetchall()
    assert shown == [(employer.user_id, a["id"])]
    db.close()


async def test_an_offer_that_expires_while_the_worker_is_away_is_offered_again_on_return(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Socket closed: the offer is a short one, expires without burning the pair and comes
    back when the worker connects again. Socket open: the full timeout, and an offer let
    expire is not offered again."""
    server = make_server(offer_timeout_s=4.0, away_offer_timeout_s=1.0)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    w = await new_worker(api, ws, "13800000031")
    await check_in(w)  # no socket: away from any screen
    employer = await new_employer(api, ws, "13900000031", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    await _ledger_until(server, "SELECT state, absent FROM offers WHERE job_id = ?",
                        (job["id"],), lambda rows: rows == [("expired", 1)])

    await w.connect()
    again = await w.wait_for(_offer_for(job["id"]), timeout=60)
    # Present this time: let it run out; it is a refusal, and the pair is burnt.
    await w.wait_for(lambda m: m["type"] == "offer_closed"
                     and m["offer_id"] == again["offer_id"] and m["reason"] == "expired",
                     timeout=60)
    why = await _why_until(w, "declined_before")
    assert why["state"] == "available"
    await w.disconnect()

    db = server.ledger()
    rows = db.execute("SELECT state, absent, expires_at - created_at FROM offers"
                      " WHERE job_id = ? ORDER BY created_at", (job["id"],)).fetchall()
    assert [r[:2] for r in rows] == [("expired", 1), ("expired", 0)]
    away_clock, present_clock = rows[0][2], rows[1][2]
    assert away_clock < 2.5 < present_clock, rows
    details = [r[0] for r in db.execute(
        "SELECT json_extract(payload, '$.detail') FROM events WHERE type = 'offer.expired'"
        " ORDER BY seq")]
    assert details == ["worker_away", None]
    db.close()


async def _board(api: str) -> dict[str, Any]:
    """The public board, as the hall screen reads it (no login)."""
    async with httpx.AsyncClient(base_url=api, timeout=30) as c:
        r = await c.get("/markets/shiling/board")
        assert r.status_code == 200, r.text
        board: dict[str, Any] = r.json()
        return board


async def test_the_hall_board_calls_an_absent_worker_with_an_offer_by_masked_name(
    make_server: Callable[..., ServerProcess],
) -> None:
    """An offer waits for a worker with no screen: the public board calls them to a kiosk
    by masked name and nothing else; once their socket is up, the call stops."""
    # An away worker's offer is short by default; long here, so the board can be read.
    server = make_server(away_offer_timeout_s=45.0)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    w = await new_worker(api, ws, "13800000041", name="张小梅")
    await check_in(w)
    employer = await new_employer(api, ws, "13900000041", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
    await _ledger_until(server, "SELECT state FROM offers WHERE job_id = ?", (job["id"],),
                        lambda rows: rows == [("pending",)])
    board = await _board(api)
    assert board["calls"] == [{"name": "张**", "text": {
        "zh": "请 张** 到自助机查看派单", "en": "张**: an offer is waiting for you at a kiosk"}}]
    text = str(board)
    assert "张小梅" not in text and "13800000041" not in text and w.user_id not in text

    await w.connect()
    board = await _board(api)
    assert board["calls"] == []
    await w.disconnect()



async def test_presence_is_known_to_the_process_that_does_not_hold_the_socket(
    make_server: Callable[..., ServerProcess],
) -> None:
    """The worker's socket is on web B, the dispatcher runs in A: A gives the full offer
    clock, and the expiry counts as a refusal (the worker was there), not as an absence."""
    a = make_server(offer_timeout_s=3.0, away_offer_timeout_s=1.0)
    b = a.web_beside()
    try:
        boss = await manager(a.api, a.ws_url, "boss", "correct-horse")
        worker = await new_worker(b.api, b.ws_url, "13800000051")
        await worker.connect()  # on B
        await check_in(worker)
        employer = await new_employer(a.api, a.ws_url, "13900000051", verified_by=boss)
        job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))
        offer = await worker.wait_for(_offer_for(job["id"]), timeout=60)
        assert (await _board(a.api))["calls"] == []
        await worker.wait_for(lambda m: m["type"] == "offer_closed"
                              and m["offer_id"] == offer["offer_id"], timeout=60)
        await worker.disconnect()
    finally:
        b.stop()
    assert "Traceback" not in b.log_tail(100_000)
    db = a.ledger()
    row = db.execute("SELECT state, absent, expires_at - created_at FROM offers WHERE id = ?",
                     (offer["offer_id"],)).fetchone()
    db.close()
    assert row[:2] == ("expired", 0) and row[2] > 2.5, row
