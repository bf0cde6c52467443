"""After the accept, end to end: check-in by QR both ways, no-show, completion, pay
confirmation, a wage dispute and its resolution, ratings both ways, reliability, cancellations;
each step in the ledger and on the other side's socket."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.people import Person, hired, manager
from tests.e2e.server import ServerProcess


def _state_of(person: Person, assignment_id: str, state: str) -> Callable[[dict], bool]:
    return lambda m: (m["type"] == "assignment" and m["assignment"]["id"] == assignment_id
                      and m["assignment"]["state"] == state)


async def test_post_to_paid_and_rated(make_server: Callable[..., ServerProcess]) -> None:
    """Three hired: one checked in by the employer scanning the slip, one by scanning the
    site's code, one marked absent; completion, pay confirmed, ratings both ways; the job
    ends completed and every step is in the ledger and on both sockets."""
    server = make_server(no_show_grace_minutes=-120)
    boss, employer, (a, b, c), job, (aa, ab, ac) = await hired(server, 3)
    await boss.connect()

    # Check-in 1: the employer scans the worker's slip; the code works once.
    r = await employer.call("POST", f"/assignments/{aa['id']}/checkin", {"code": ab["qr"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "code"
    out = await employer.ok("POST", f"/assignments/{aa['id']}/checkin", {"code": aa["qr"]})
    assert out["assignment"]["state"] == "checked_in"
    await a.wait_for(_state_of(a, aa["id"], "checked_in"))
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "in_progress")
    r = await employer.call("POST", f"/assignments/{aa['id']}/checkin", {"code": aa["qr"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_used"

    # Check-in 2: the worker scans the site's code, which only the employer can show.
    r = await b.call("GET", f"/jobs/{job['id']}/site_code")
    assert r.status_code == 403
    site = await employer.ok("GET", f"/jobs/{job['id']}/site_code")
    assert site["qr_svg"].startswith("<?xml") or "<svg" in site["qr_svg"]
    r = await b.call("POST", f"/assignments/{ab['id']}/checkin", {"code": ab["qr"]})
    assert r.status_code == 422
    await b.ok("POST", f"/assignments/{ab['id']}/checkin", {"code": site["code"]})
    await employer.wait_for(lambda m: m["type"] == "job" and any(
        w["state"] == "checked_in" and w["assignment_id"] == ab["id"] for w in m["job"]["workers"]))

    # The third never came.
    r = await c.call("POST", f"/assignments/{ac['id']}/no_show")
    assert r.status_code == 403
    await employer.ok("POST", f"/assignments/{ac['id']}/no_show")
    await c.wait_for(_state_of(c, ac["id"], "no_show"))
    assert (await c.ok("GET", "/me"))["reliability"] == 0.8

    # Completion with hours and pay; bad bodies name their field and change nothing.
    for body, field in (({"hours": 0, "pay": {"amount": 300, "unit": "day"}}, "hours"),
                        ({"hours": 8, "pay": {"amount": -1, "unit": "day"}}, "pay.amount"),
                        ({"hours": 8, "pay": {"amount": 300, "unit": "day"}, "tip": 1}, "tip")):
        r = await employer.call("POST", f"/assignments/{aa['id']}/complete", body)
        assert r.status_code in (400, 422) and r.json()["error"]["field"] == field, r.text
    r = await a.call("POST", f"/assignments/{aa['id']}/complete",
                     {"hours": 8, "pay": {"amount": 300, "unit": "day"}})
    assert r.status_code == 403
    r = await a.call("POST", f"/assignments/{aa['id']}/rate", {"stars": 5})
    assert r.status_code == 409  # not before the work is done
    for assignment in (aa, ab):
        await employer.ok("POST", f"/assignments/{assignment['id']}/complete",
                          {"hours": 8, "pay": {"amount": 300, "unit": "day"}})
    await a.wait_for(_state_of(a, aa["id"], "completed"))
    await employer.wait_for(lambda m: m["type"] == "job" and m["job"]["state"] == "completed")
    r = await b.call("POST", f"/assignments/{aa['id']}/paid")
    assert r.status_code == 404  # another worker's assignment
    await a.ok("POST", f"/assignments/{aa['id']}/paid")
    await employer.wait_for(lambda m: m["type"] == "job" and any(
        w["state"] == "paid" for w in m["job"]["workers"]))

    # Ratings both ways, once per side.
    r = await a.call("POST", f"/assignments/{aa['id']}/rate", {"stars": 6})
    assert r.status_code == 422 and r.json()["error"]["field"] == "stars"
    r = await a.call("POST", f"/assignments/{aa['id']}/rate", {"stars": 4, "tags": [1]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "tags[0]"
    mine = await a.ok("POST", f"/assignments/{aa['id']}/rate",
                      {"stars": 4, "tags": ["准时发工资"]})
    assert mine["rating"] == 4.0
    r = await a.call("POST", f"/assignments/{aa['id']}/rate", {"stars": 5})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_rated"
    await employer.ok("POST", f"/assignments/{aa['id']}/rate", {"stars": 5, "tags": ["勤快"]})
    await employer.ok("POST", f"/assignments/{ac['id']}/rate", {"stars": 1, "tags": ["爽约"]})
    assert (await a.ok("GET", "/me"))["rating"] == 5.0
    assert (await employer.ok("GET", "/me"))["rating"] == 4.0
    await boss.wait_for(lambda m: m["type"] == "event"
                        and m["event"]["type"] == "rating.given")
    for p in (a, b, c, employer, boss):
        await p.disconnect()

    db = server.ledger()
    states = dict(db.execute("SELECT id, state FROM assignments").fetchall())
    assert states == {aa["id"]: "paid", ab["id"]: "completed", ac["id"]: "no_show"}
    assert db.execute("SELECT state FROM jobs WHERE id = ?", (job["id"],)).fetchone() == (
        "completed",)
    kinds = {r[0] for r in db.execute("SELECT type FROM events WHERE type LIKE 'assignment.%'")}
    assert kinds == {"assignment.checked_in", "assignment.no_show", "assignment.completed",
                     "assignment.paid"}
    assert db.execute("SELECT COUNT(*) FROM ratings").fetchone() == (3,)
    assert db.execute("SELECT COUNT(*) FROM used_codes").fetchone() == (2,)
    assert db.execute("SELECT no_shows, reliability FROM workers WHERE id = ?",
                      (c.user_id,)).fetchone() == (1, 0.8)
    db.close()


async def test_unconfirmed_pay_becomes_a_dispute_the_manager_resolves(
    make_server: Callable[..., ServerProcess],
) -> None:
    """A completion left unconfirmed past pay_confirm_hours becomes a dispute on the manager's
    queue; resolved unpaid with a note, it lowers the employer's reliability."""
    server = make_server(pay_confirm_hours=0.0003)
    boss, employer, (w,), _, (a,) = await hired(server, 1)
    code = a["qr"]
    await employer.ok("POST", f"/assignments/{a['id']}/checkin", {"code": code})
    await employer.ok("POST", f"/assignments/{a['id']}/complete",
                      {"hours": 4, "pay": {"amount": 150, "unit": "day"}})
    await w.wait_for(_state_of(w, a["id"], "disputed"))
    queue = await boss.ok("GET", "/markets/shiling/disputes")
    assert [d["assignment_id"] for d in queue["disputes"]] == [a["id"]]
    dispute = queue["disputes"][0]
    assert dispute["pay"] == {"amount": 150, "unit": "day"} and "*" in dispute["worker"]
    other = await manager(server.api, server.ws_url, "other", "correct-horse")
    r = await other.call("GET", "/markets/shiling/disputes")
    assert r.status_code == 403
    r = await other.call("POST", f"/disputes/{dispute['id']}/resolve",
                         {"note": "x", "outcome": "unpaid"})
    assert r.status_code == 403
    r = await boss.call("POST", f"/disputes/{dispute['id']}/resolve",
                        {"note": "x", "outcome": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "outcome"
    done = await boss.ok("POST", f"/disputes/{dispute['id']}/resolve",
                         {"note": "雇主承认未付，已责令补发", "outcome": "unpaid"})
    assert done["state"] == "resolved" and done["outcome"] == "unpaid"
    assert (await boss.ok("GET", "/markets/shiling/disputes"))["disputes"] == []
    me = await employer.ok("GET", "/me")
    assert me["reliability"] < 1.0
    r = await boss.call("POST", f"/disputes/{dispute['id']}/resolve",
                        {"note": "again", "outcome": "paid"})
    assert r.status_code == 409
    # The worker may still confirm the pay later.
    await w.ok("POST", f"/assignments/{a['id']}/paid")
    await w.disconnect()
    await employer.disconnect()
    db = server.ledger()
    assert db.execute("SELECT state, outcome FROM disputes").fetchall() == [("resolved", "unpaid")]
    assert db.execute("SELECT disputes FROM employers WHERE id = ?",
                      (employer.user_id,)).fetchone() == (1,)
    kinds = [r[0] for r in db.execute("SELECT type FROM events WHERE type LIKE 'dispute.%'"
                                      " ORDER BY seq")]
    assert kinds == ["dispute.opened", "dispute.resolved"]
    assert db.execute("SELECT state FROM assignments").fetchone() == ("paid",)
    db.close()
