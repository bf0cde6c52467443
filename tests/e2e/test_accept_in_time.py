"""Eligibility at the accept, end to end (issue 14): an accept too late to reach the start is
refused with a clear reason, the offer is withdrawn without burning the pair, and the slot goes
to a worker who can still make it."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.e2e.people import CST, HALL, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess

#: A job 1.2 km east of the hall: about 6 minutes away at the market's speed.
PLACE = (HALL[0], HALL[1] + 1.2 / (111.195 * math.cos(math.radians(HALL[0]))))


def _offer_for(job_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "offer" and m["job"]["id"] == job_id


async def test_a_late_accept_is_refused_and_the_slot_goes_to_one_who_can_make_it(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Offered with seconds to spare, the worker answers after the last moment to set off:
    409 too_late_to_arrive, the offer withdrawn, the job still open, and a worker at the site
    is offered the slot and takes it."""
    # No grace after the start, and offers that outlive the margin, so only arrival decides.
    server = make_server(arrival_grace_minutes=0, offer_timeout_s=300)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    far = await new_worker(api, ws, "13800000021")
    await far.connect()
    await check_in(far)
    employer = await new_employer(api, ws, "13900000021", verified_by=boss)
    travel_s = 1.2 * 1.3 / 15 * 3600
    start = datetime.fromtimestamp(math.ceil(time.time() + travel_s + 40), CST)
    job = await employer.ok("POST", "/markets/shiling/jobs", job_body(
        headcount=1, lat=PLACE[0], lon=PLACE[1], start_at=start.isoformat()))
    offer = await far.wait_for(_offer_for(job["id"]), timeout=30)

    db = server.ledger()
    (travel_min,) = db.execute("SELECT travel_minutes FROM offers WHERE id = ?",
                               (offer["offer_id"],)).fetchone()
    db.close()
    # Wait for the last moment to set off to pass (waiting, not a timed assertion).
    leave_by = start.timestamp() - travel_min * 60
    while time.time() <= leave_by + 1:
        await asyncio.sleep(0.5)

    r = await far.call("POST", f"/offers/{offer['offer_id']}/accept")
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "too_late_to_arrive" and error["field"] == "offer_id"
    assert "too late" in error["message"]
    await far.wait_for(lambda m: m["type"] == "offer_closed"
                       and m["offer_id"] == offer["offer_id"] and m["reason"] == "withdrawn")
    view = await employer.ok("GET", f"/jobs/{job['id']}")
    assert (view["state"], view["accepted"], view["open_slots"]) == ("open", 0, 1)

    # The slot goes to someone who can still arrive: a worker at the site.
    near = await new_worker(api, ws, "13800000022")
    await near.connect()
    await check_in(near, at=PLACE)
    second = await near.wait_for(_offer_for(job["id"]), timeout=30)
    taken = await near.ok("POST", f"/offers/{second['offer_id']}/accept")
    assert taken["assignment"]["job_id"] == job["id"]
    for p in (far, near):
        await p.disconnect()

    db = server.ledger()
    assert db.execute("SELECT state FROM offers WHERE id = ?",
                      (offer["offer_id"],)).fetchone() == ("withdrawn",)
    detail = db.execute("SELECT payload FROM events WHERE type = 'offer.withdrawn'").fetchone()
    assert detail is not None and "too_late_to_arrive" in detail[0]
    assert db.execute("SELECT worker_id FROM assignments").fetchall() == [(near.user_id,)]
    db.close()
