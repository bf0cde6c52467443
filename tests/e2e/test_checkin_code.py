"""The six-digit check-in code (SPEC 11.2), end to end: on the worker's assignment (HTTP and
socket), typed by the employer, wrong codes counted to a lockout, unlocked by a manager of the
job's market or ended by a scanned QR; every step in the ledger."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from tests.e2e.people import hired, manager
from tests.e2e.server import ServerProcess


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_typed_code_checks_in_and_wrong_codes_lock(
        make_server: Callable[..., ServerProcess]) -> None:
    """Five wrong codes lock an assignment (409 code_locked, even for the right code); a
    manager of another market cannot unlock it, the job's manager can; the right code then
    checks the worker in."""
    server = make_server()
    boss, employer, (w,), _job, (asg,) = await hired(server, 1)
    code = asg["code"]
    assert re.fullmatch(r"[0-9]{6}", code)
    mine = await w.ok("GET", "/me/assignments")
    assert mine[0]["code"] == code
    pushed = await w.wait_for(lambda m: m["type"] == "assignment")
    assert pushed["assignment"]["code"] == code

    for left in (4, 3, 2, 1):
        r = await employer.call("POST", f"/assignments/{asg['id']}/checkin",
                                {"code": _wrong(code)})
        assert r.status_code == 422, r.text
        assert r.json()["error"] | {"message": ""} == {"code": "bad_code", "field": "code",
                                                       "message": ""}
        assert f"{left} tries left" in r.json()["error"]["message"]
    r = await employer.call("POST", f"/assignments/{asg['id']}/checkin", {"code": _wrong(code)})
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_locked"
    r = await employer.call("POST", f"/assignments/{asg['id']}/checkin", {"code": code})
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_locked"
    assert (await w.ok("GET", "/me/assignments"))[0]["state"] == "accepted"

    # Only a manager of the job's market unlocks; not the worker, not the employer.
    other = await manager(server.api, server.ws_url, "other", "correct-horse")
    for who, status in ((other, 403), (employer, 403), (w, 403)):
        r = await who.call("POST", f"/assignments/{asg['id']}/unlock_code")
        assert r.status_code == status, (who.user_id, r.text)
    out = await boss.ok("POST", f"/assignments/{asg['id']}/unlock_code")
    assert out == {"assignment_id": asg["id"], "code_failures": 0, "was": 5}

    out = await employer.ok("POST", f"/assignments/{asg['id']}/checkin", {"code": code})
    assert out["assignment"]["state"] == "checked_in"
    r = await employer.call("POST", f"/assignments/{asg['id']}/checkin", {"code": code})
    assert r.status_code == 409

    with server.ledger() as db:
        types = [t for (t,) in db.execute(
            "SELECT type FROM events WHERE subject = ? ORDER BY seq", (asg["id"],))]
        checked = db.execute("SELECT payload FROM events WHERE subject = ? AND"
                             " type = 'assignment.checked_in'", (asg["id"],)).fetchone()
        actor = db.execute("SELECT actor FROM events WHERE subject = ? AND"
                           " type = 'assignment.code_unlocked'", (asg["id"],)).fetchone()
    assert types.count("assignment.code_refused") == 5
    assert types.index("assignment.code_unlocked") < types.index("assignment.checked_in")
    assert json.loads(checked[0])["with"] == "digits"
    assert actor == (boss.user_id,)
    for p in (w, employer):
        await p.disconnect()


async def test_a_scanned_qr_ends_the_lockout(make_server: Callable[..., ServerProcess]) -> None:
    """Locked by wrong typing, the assignment still checks in when the employer scans the
    slip's QR; a worker may type the site's six digits instead of scanning it."""
    server = make_server()
    _boss, employer, (w1, w2), job, (a1, a2) = await hired(server, 2)
    for _ in range(5):
        await employer.call("POST", f"/assignments/{a1['id']}/checkin",
                            {"code": _wrong(a1["code"])})
    r = await employer.call("POST", f"/assignments/{a1['id']}/checkin", {"code": a1["code"]})
    assert r.json()["error"]["code"] == "code_locked"
    out = await employer.ok("POST", f"/assignments/{a1['id']}/checkin", {"code": a1["qr"]})
    assert out["assignment"]["state"] == "checked_in"
    with server.ledger() as db:
        (failures,) = db.execute("SELECT code_failures FROM assignments WHERE id = ?",
                                 (a1["id"],)).fetchone()
    assert failures == 0

    site = await employer.ok("GET", f"/jobs/{job['id']}/site_code")
    assert re.fullmatch(r"[0-9]{6}", site["digits"])
    # The worker's own slip digits are not the site's: refused and counted.
    r = await w2.call("POST", f"/assignments/{a2['id']}/checkin", {"code": a2["code"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_code"
    out = await w2.ok("POST", f"/assignments/{a2['id']}/checkin", {"code": site["digits"]})
    assert out["assignment"]["state"] == "checked_in"
    for p in (w1, w2, employer):
        await p.disconnect()


async def test_wrong_codes_sent_at_once_are_counted_one_after_another(
        make_server: Callable[..., ServerProcess]) -> None:
    """Ten wrong codes at the same moment still get only five tries: four are refused as
    wrong, the fifth locks the code, the rest find it locked, and the ledger counts five (a
    guesser cannot win extra tries by racing; on PostgreSQL the assignment's lock makes them
    take turns)."""
    import asyncio

    server = make_server()
    _boss, employer, (w,), _job, (asg,) = await hired(server, 1)
    answers = await asyncio.gather(*(
        employer.call("POST", f"/assignments/{asg['id']}/checkin",
                      {"code": f"{(int(asg['code']) + k) % 1_000_000:06d}"})
        for k in range(1, 11)))
    codes = sorted(r.json()["error"]["code"] for r in answers)
    assert codes == ["bad_code"] * 4 + ["code_locked"] * 6, [r.text for r in answers]
    with server.ledger() as db:
        refused = db.execute("SELECT COUNT(*) FROM events WHERE subject = ? AND"
                             " type = 'assignment.code_refused'", (asg["id"],)).fetchone()
    assert refused is not None and refused[0] == 5
    for p in (w, employer):
        await p.disconnect()
