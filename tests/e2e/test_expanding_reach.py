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
