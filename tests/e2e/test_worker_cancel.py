"""A worker calls off accepted work, end to end (issue 5, slice 6): the slot reopens and is
re-offered at once to someone else, never to them; a late cancel costs reliability, an early one
does not; after check-in, or for another's assignment, it is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from tests.e2e.people import (
    Person,
    check_in,
    in_hours,
    job_body,
    manager,
    new_employer,
    new_worker,
)
from tests.e2e.server import ServerProcess


def _is_offer(m: dict[str, Any]) -> bool:
    return bool(m["type"] == "offer")


async def _first_offered(people: list[Person]) -> tuple[Person, dict[str, Any]]:
    """Whichever of ``people`` is offered something first, and the offer."""
    waits = {asyncio.ensure_future(p.wait_for(_is_offer)): p for p in people}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    first = next(iter(done))
    return waits[first], first.result()


def _cancelled(assignment_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: (m["type"] == "assignment" and m["assignment"]["id"] == assignment_id
                      and m["assignment"]["state"] == "cancelled")


async def _round_after(server: ServerProcess, at: float, timeout: float = 20.0) -> tuple[int, ...]:
    """The first round recorded after ``at`` that saw a worker and a job: (workers, jobs,
    offers)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        db = server.ledger()
        row = db.execute("SELECT workers, jobs, offers FROM rounds WHERE at > ? AND workers > 0"
                         " AND jobs > 0 ORDER BY at LIMIT 1", (at,)).fetchone()
        db.close()
        if row is not None:
            return tuple(row)
        assert asyncio.get_running_loop().time() < deadline, "no round ran after the cancel"
        await asyncio.sleep(0.1)


async def test_late_cancel_reopens_the_slot_for_another_worker(
    make_server: Callable[..., ServerProcess],
) -> None:
    """A job for one, accepted, then cancelled an hour before the start: the job is open again
    and its slot is offered at once to the other waiting worker, who takes it (filled); the
    canceller is back in the pool, never offered that job again, and their reliability falls;
    the employer, the manager's feed and the ledger see it all."""
    server = make_server()
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    await boss.connect()
    workers = [await new_worker(api, ws, f"1380000001{i}") for i in range(2)]
    for w in workers:
        await w.connect()
        await check_in(w)
    employer = await new_employer(api, ws, "13900000002", verified_by=boss)
    await employer.connect()
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=1))

    quitter, offer = await _first_offered(workers)
    stand_in = next(w for w in workers if w is not quitter)
    hired = (await quitter.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"]
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "filled")
    assert stand_in.of_type("offer") == []

    out = await quitter.ok("POST", f"/assignments/{hired['id']}/cancel")
    assert out["assignment"]["state"] == "cancelled"
    await quitter.wait_for(_cancelled(hired["id"]))
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "open"
                            and m["job"]["accepted"] == 0)
    feed = await boss.wait_for(lambda m: m["type"] == "event"
                               and m["event"]["type"] == "assignment.cancelled")
    assert feed["event"]["payload"]["late"] is True
    me = await quitter.ok("GET", "/me")
    assert me["reliability"] == round(4 / 4.5, 3) and me["state"] == "available"

    # Re-offered at once to the other worker, who takes the slot.
    again = await stand_in.wait_for(_is_offer)
    assert again["job"]["id"] == job["id"]
    await stand_in.ok("POST", f"/offers/{again['offer_id']}/accept")
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "filled"
                            and m["job"]["accepted"] == 1)
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert view["state"] == "filled" and view["accepted"] == 1
    assert [o["offer_id"] for o in quitter.of_type("offer")] == [offer["offer_id"]]
    for p in (*workers, employer, boss):
        await p.disconnect()

    db = server.ledger()
    assert dict(db.execute("SELECT worker_id, state FROM assignments").fetchall()) == {
        quitter.user_id: "cancelled", stand_in.user_id: "accepted"}
    assert db.execute("SELECT state, accepted, pending FROM jobs").fetchone() == ("filled", 1, 0)
    assert db.execute("SELECT late_cancels, state FROM workers WHERE id = ?",
                      (quitter.user_id,)).fetchone() == (1, "available")
    assert db.execute("SELECT COUNT(*) FROM offers WHERE worker_id = ?",
                      (quitter.user_id,)).fetchone() == (1,)
    ((payload, actor),) = db.execute("SELECT payload, actor FROM events"
                                     " WHERE type = 'assignment.cancelled' AND subject = ?",
                                     (hired["id"],)).fetchall()
    assert (json.loads(payload)["late"], actor) == (True, quitter.user_id)
    db.close()


async def test_early_cancel_keeps_reliability_and_is_not_reoffered(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Cancelled 20 hours ahead (late_cancel_hours 12): no late cancel, reliability stays 1.0;
    the next round sees the worker and the reopened job and offers nothing: the pair is
    excluded."""
    server = make_server()
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    worker = await new_worker(api, ws, "13800000020")
    await worker.connect()
    await check_in(worker)
    employer = await new_employer(api, ws, "13900000003", verified_by=boss)
    await employer.connect()
    job = await employer.ok("POST", "/markets/shiling/jobs",
                            job_body(headcount=1, start_at=in_hours(20)))
    offer = await worker.wait_for(_is_offer)
    hired = (await worker.ok("POST", f"/offers/{offer['offer_id']}/accept"))["assignment"]

    await worker.ok("POST", f"/assignments/{hired['id']}/cancel")
    await worker.wait_for(_cancelled(hired["id"]))
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "open")
    me = await worker.ok("GET", "/me")
    assert me["reliability"] == 1.0 and me["state"] == "available"

    db = server.ledger()
    (cancelled_at, payload), = db.execute(
        "SELECT at, payload FROM events WHERE type = 'assignment.cancelled'").fetchall()
    db.close()
    assert json.loads(payload)["late"] is False
    workers_seen, jobs_seen, offers_made = await _round_after(server, cancelled_at)
    assert (workers_seen, jobs_seen, offers_made) == (1, 1, 0)
    assert len(worker.of_type("offer")) == 1
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert view["state"] == "open" and view["accepted"] == 0
    for p in (worker, employer):
        await p.disconnect()

    db = server.ledger()
    assert db.execute("SELECT late_cancels, reliability FROM workers").fetchone() == (0, 1.0)
    assert db.execute("SELECT COUNT(*) FROM offers").fetchone() == (1,)
    db.close()


async def test_cancel_refused_after_checkin_and_for_others(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Another worker's cancel is 404, the employer's 403; after check-in it is 409
    ``assignment_checked_in``; a second cancel is 409 ``assignment_cancelled``. A job under way
    does not reopen: the cancelled slot is not re-dispatched."""
    server = make_server()
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    pair = [await new_worker(api, ws, f"1380000003{i}") for i in range(2)]
    for w in pair:
        await w.connect()
        await check_in(w)
    employer = await new_employer(api, ws, "13900000004", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(headcount=2))
    hired: dict[str, dict[str, Any]] = {}
    for w in pair:
        offer = await w.wait_for(_is_offer)
        hired[w.user_id] = (await w.ok("POST", f"/offers/{offer['offer_id']}/accept"))[
            "assignment"]
    a, b = pair
    aa, ab = hired[a.user_id], hired[b.user_id]

    r = await b.call("POST", f"/assignments/{aa['id']}/cancel")
    assert r.status_code == 404 and r.json()["error"]["field"] == "assignment_id"
    r = await employer.call("POST", f"/assignments/{aa['id']}/cancel")
    assert r.status_code == 403
    await employer.ok("POST", f"/assignments/{aa['id']}/checkin", {"code": aa["qr"]})
    r = await a.call("POST", f"/assignments/{aa['id']}/cancel")
    assert r.status_code == 409 and r.json()["error"]["code"] == "assignment_checked_in"

    await b.ok("POST", f"/assignments/{ab['id']}/cancel")
    r = await b.call("POST", f"/assignments/{ab['id']}/cancel")
    assert r.status_code == 409 and r.json()["error"]["code"] == "assignment_cancelled"
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert view["state"] == "in_progress" and view["accepted"] == 1
    for p in pair:
        await p.disconnect()

    db = server.ledger()
    assert dict(db.execute("SELECT id, state FROM assignments").fetchall()) == {
        aa["id"]: "checked_in", ab["id"]: "cancelled"}
    assert db.execute("SELECT COUNT(*) FROM events WHERE type = 'assignment.cancelled'"
                      ).fetchone() == (1,)
    db.close()
