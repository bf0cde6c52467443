"""Arrival judged again at the accept (``core.eligibility``, issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from gigmarket.core import matching
from gigmarket.core.eligibility import TOO_LATE_TO_ARRIVE, can_arrive, judge_accept
from gigmarket.core.market import Rules
from gigmarket.core.pool import Exclusions, JobPool, WorkerPool

RULES = Rules(arrival_grace_minutes=15.0)
START = 100_000.0


@pytest.mark.parametrize(("now", "travel", "ok"), [
    (START - 3600, 10.0, True),                 # an hour early
    (START + 900 - 600, 10.0, True),            # exactly at start + grace
    (START + 900 - 600 + 0.3, 10.0, False),     # 0.3 s short, the case issue 14 found
    (START + 900, 0.0, True),                   # on the spot at the last moment
    (START + 901, 0.0, False),                  # after start + grace, however near
])
def test_arrival_at_the_accept(now: float, travel: float, ok: bool) -> None:
    """An accept stands only when setting off now reaches the job by start plus grace."""
    assert can_arrive(now, travel, START, RULES) is ok
    refusal = judge_accept(now, travel, START, RULES)
    assert (refusal is None) is ok
    if refusal is not None:
        assert refusal.code == TOO_LATE_TO_ARRIVE
        assert refusal.late_by_s == pytest.approx(now + travel * 60 - START - 900)
        assert "too late" in refusal.message


def _pools(distance_km: float) -> tuple[WorkerPool, JobPool]:
    lat = 23.46
    lon2 = 113.15 + distance_km / (111.195 * np.cos(np.radians(lat)))
    workers = WorkerPool(
        ids=["w"], lat=np.array([lat]), lon=np.array([113.15]), skills=np.array([1], np.uint64),
        certs=np.array([0], np.uint64), min_hourly_fen=np.array([2000.0]),
        available_until=np.array([START + 86400]), waited_s=np.zeros(1),
        key_group=np.zeros(1, np.bool_), rating=np.full(1, 4.0), reliability=np.ones(1),
        earned_today_fen=np.zeros(1), busy_worker=np.zeros(0, np.int64),
        busy_start=np.zeros(0), busy_end=np.zeros(0))
    jobs = JobPool(
        ids=["j"], employer_ids=["e"], lat=np.array([lat]), lon=np.array([lon2]),
        skills=np.array([1], np.uint64), certs_required=np.array([0], np.uint64),
        hourly_fen=np.array([3000.0]), start_at=np.array([START]),
        end_at=np.array([START + 3600]), slots=np.array([1], np.int64),
        posted_at=np.array([START - 7200]), employer_rating=np.full(1, 4.0),
        employer_reliability=np.ones(1))
    return workers, jobs


@pytest.mark.parametrize("distance_km", [0.4, 1.0, 2.5])
def test_the_accept_agrees_with_the_round_at_the_edge(distance_km: float) -> None:
    """At the last moment the round finds a pair eligible, the accept stands; a moment later
    neither does: both judge arrival with the same arithmetic."""
    workers, jobs = _pools(distance_km)
    cand, _, _ = matching.eligible_pairs(workers, jobs, RULES, START - 3600, Exclusions.none())
    travel = float(cand.travel_minutes[0])
    edge = START + 900 - travel * 60
    # The last representable moment that passes (rounding may put the sum an ulp either side).
    while not can_arrive(edge, travel, START, RULES):
        edge = float(np.nextafter(edge, -np.inf))
    while can_arrive(float(np.nextafter(edge, np.inf)), travel, START, RULES):
        edge = float(np.nextafter(edge, np.inf))
    for now, expected in ((edge, True), (np.nextafter(edge, np.inf), False)):
        cand, _, _ = matching.eligible_pairs(workers, jobs, RULES, float(now), Exclusions.none())
        assert (len(cand) == 1) is expected
        assert can_arrive(float(now), travel, START, RULES) is expected


def test_only_an_offer_that_ran_out_may_be_taken_late_and_only_for_late_take_s() -> None:
    from gigmarket.core.eligibility import late_take_until

    rules = Rules(late_take_s=300.0)
    assert late_take_until("expired", 1000.0, rules) == 1300.0
    for settled in ("pending", "accepted", "declined", "withdrawn"):
        assert late_take_until(settled, 1000.0, rules) is None
    assert late_take_until("expired", 1000.0, Rules(late_take_s=0.0)) is None
