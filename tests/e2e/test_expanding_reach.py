"""Expanding reach end to end (issue 14): a job nobody inside the circle can take reaches a
worker beyond it, whose offer shows the real travel time and the travel supplement."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tests.e2e.people import HALL, check_in, job_body, manager, new_employer, new_worker
from tests.e2e.server import ServerProcess
from tests.e2e.test_work_day import _why_until

#: 4 km east of the hall: about 21 minutes away, beyond the 15-minute circle.
FAR = (HALL[0], HALL[1] + 4.0 / (111.195 * math.cos(math.radians(HALL[0]))))


def _offer_for(job_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "offer" and m["job"]["id"] == job_id


async def test_a_job_beyond_the_circle_is_offered_with_its_supplement(
    make_server: Callable[..., ServerProcess],
) -> None:
    """With the market's rule on, the worker 4 km away is offered the job: the offer (pushed
    and listed) carries the travel time and a supplement for the km beyond the circle."""
    server = make_server(reach_expand_after_s=0, reach_step_minutes=15, max_reach_minutes=30,
                         travel_supplement_fen_per_km=150)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    w = await new_worker(api, ws, "13800000031")
    await w.connect()
    await check_in(w)
    employer = await new_employer(api, ws, "13900000031", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs",
                            job_body(headcount=1, lat=FAR[0], lon=FAR[1]))
    pushed = await w.wait_for(_offer_for(job["id"]), timeout=30)
    summary = pushed["job"]
    assert 20 < summary["travel_minutes"] < 22
    extra = summary["travel_supplement"]
    circle_km = 15 / 60 * 15 / 1.3
    beyond = (summary["distance_km"] - circle_km) * 1.3
    assert extra["per_km"] == 1.5
    assert abs(extra["beyond_km"] - beyond) < 0.02
    assert abs(extra["amount"] - beyond * 1.5) < 0.05
    listed = await w.ok("GET", "/me/offers")
    mine = next(o for o in listed if o["id"] == pushed["offer_id"])
    assert mine["job"]["travel_supplement"] == extra
    rules = next(m for m in await w.ok("GET", "/markets") if m["id"] == "shiling")["rules"]
    assert rules["reach_expand_after_s"] == 0 and rules["travel_supplement_fen_per_km"] == 150
    await w.disconnect()


async def test_without_the_rule_the_circle_holds(server: ServerProcess) -> None:
    """The shipped default keeps every job inside the circle: the far worker is told why."""
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    w = await new_worker(api, ws, "13800000032")
    await w.connect()
    await check_in(w)
    employer = await new_employer(api, ws, "13900000032", verified_by=boss)
    await employer.ok("POST", "/markets/shiling/jobs",
                      job_body(headcount=1, lat=FAR[0], lon=FAR[1]))
    why = await _why_until(w, "no_job_in_reach")
    assert why["reason"] == "no_job_in_reach"
    assert not w.of_type("offer")
    await w.disconnect()


async def test_a_workers_own_longest_trip_holds_when_the_job_widens(
    make_server: Callable[..., ServerProcess],
) -> None:
    """Worker A says 20 minutes at most; the job 21 minutes away widens to them but is never
    offered to them, while B, with no limit of their own, is offered it. Bad values are
    refused by field and change nothing; clearing the limit while waiting lets the next
    round offer A the job's other slot."""
    server = make_server(reach_expand_after_s=0, reach_step_minutes=15, max_reach_minutes=30)
    api, ws = server.api, server.ws_url
    boss = await manager(api, ws, "boss", "correct-horse")
    a = await new_worker(api, ws, "13800000033")
    profile = {"name": "王师傅", "skills": ["loading"],
               "min_wage": {"amount": 150, "unit": "day"}}
    for bad, code in ((4, "out_of_range"), (181, "out_of_range"), ("20", "bad_type"),
                      (True, "bad_type"), (20.5, "bad_type")):
        r = await a.call("PUT", "/me/profile", profile | {"max_travel_minutes": bad})
        assert r.status_code == 422, (bad, r.text)
        err = r.json()["error"]
        assert (err["field"], err["code"]) == ("max_travel_minutes", code), err
    assert (await a.ok("GET", "/me"))["max_travel_minutes"] is None
    me = await a.ok("PUT", "/me/profile", profile | {"max_travel_minutes": 20})
    assert me["max_travel_minutes"] == 20
    # Saving the profile without the field keeps the limit.
    me = await a.ok("PUT", "/me/profile", profile)
    assert me["max_travel_minutes"] == 20

    await a.connect()
    await check_in(a)
    employer = await new_employer(api, ws, "13900000033", verified_by=boss)
    job = await employer.ok("POST", "/markets/shiling/jobs",
                            job_body(headcount=2, lat=FAR[0], lon=FAR[1]))
    await _why_until(a, "no_job_in_reach")

    b = await new_worker(api, ws, "13800000034")
    await b.connect()
    await check_in(b)
    pushed = await b.wait_for(_offer_for(job["id"]), timeout=30)
    assert 20 < pushed["job"]["travel_minutes"] < 22
    assert not a.of_type("offer")
    assert (await a.ok("GET", "/me/why"))["reason"] == "no_job_in_reach"

    me = await a.ok("PUT", "/me/profile", profile | {"max_travel_minutes": None})
    assert me["max_travel_minutes"] is None
    await a.wait_for(_offer_for(job["id"]), timeout=30)
    await a.disconnect()
    await b.disconnect()
