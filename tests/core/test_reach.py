"""Expanding reach for jobs that wait (``core.reach``, issue 14)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gigmarket.core import matching, reach
from gigmarket.core.market import Rules
from gigmarket.core.pool import Exclusions, JobPool, WorkerPool

#: The circle is 15 minutes; after 2 minutes unfilled, +5 minutes every 5 minutes, up to 30.
WIDE = Rules(max_travel_minutes=15.0, reach_expand_after_s=120.0, reach_step_minutes=5.0,
             reach_step_every_s=300.0, max_reach_minutes=30.0,
             travel_supplement_fen_per_km=150)


@pytest.mark.parametrize(("age_s", "minutes"), [
    (0.0, 15.0), (119.9, 15.0), (120.0, 20.0), (419.9, 20.0), (420.0, 25.0),
    (720.0, 30.0), (86_400.0, 30.0),
])
def test_reach_widens_step_by_step_up_to_the_maximum(age_s: float, minutes: float) -> None:
    """The circle until ``reach_expand_after_s``, then one step per period, capped."""
    assert float(reach.reach_minutes(age_s, WIDE)) == pytest.approx(minutes)
    km = minutes / 60 * WIDE.speed_kmh / WIDE.detour_factor
    assert float(reach.reach_km(age_s, WIDE)) == pytest.approx(km)


def test_a_market_without_the_rule_keeps_the_circle() -> None:
    """Off by default, and a maximum inside the circle changes nothing either."""
    for rules in (Rules(), dataclasses.replace(WIDE, max_reach_minutes=10.0)):
        assert not reach.widens(rules)
        ages = np.array([0.0, 600.0, 86_400.0])
        assert (reach.reach_km(ages, rules) == rules.reach_km).all()


def test_an_employer_who_declines_the_supplement_keeps_the_circle() -> None:
    """``may_widen`` False holds a job to the circle however long it waits."""
    km = reach.reach_km(np.array([3600.0, 3600.0]), WIDE, np.array([True, False]))
    assert km[0] > WIDE.reach_km and km[1] == WIDE.reach_km


@pytest.mark.parametrize(("km", "fen"), [(0.5, 0), (2.885, 0), (4.0, 217), (6.0, 607)])
def test_the_supplement_pays_each_road_km_beyond_the_circle(km: float, fen: int) -> None:
    """Nothing inside the circle; beyond it, the agreed rate per road km past the edge."""
    edge = WIDE.reach_km
    expected = round(max(km - edge, 0) * WIDE.detour_factor * 150)
    assert float(reach.supplement_fen(km, WIDE)) == expected
    assert abs(expected - fen) <= 1
    assert float(reach.supplement_fen(km, WIDE, per_km_fen=0)) == 0


def _pools(distance_km: float, posted_at: float) -> tuple[WorkerPool, JobPool]:
    lat = 23.46
    lon2 = 113.15 + distance_km / (111.195 * np.cos(np.radians(lat)))
    workers = WorkerPool(
        ids=["w"], lat=np.array([lat]), lon=np.array([113.15]), skills=np.array([1], np.uint64),
        certs=np.array([0], np.uint64), min_hourly_fen=np.array([2000.0]),
        available_until=np.array([1e9]), waited_s=np.zeros(1), key_group=np.zeros(1, np.bool_),
        rating=np.full(1, 4.0), reliability=np.ones(1), earned_today_fen=np.zeros(1),
        busy_worker=np.zeros(0, np.int64), busy_start=np.zeros(0), busy_end=np.zeros(0))
    jobs = JobPool(
        ids=["j"], employer_ids=["e"], lat=np.array([lat]), lon=np.array([lon2]),
        skills=np.array([1], np.uint64), certs_required=np.array([0], np.uint64),
        hourly_fen=np.array([3000.0]), start_at=np.array([posted_at + 7200]),
        end_at=np.array([posted_at + 14400]), slots=np.array([1], np.int64),
        posted_at=np.array([posted_at]), employer_rating=np.full(1, 4.0),
        employer_reliability=np.ones(1))
    return workers, jobs


@pytest.mark.parametrize(("age_s", "matched", "reason"), [
    (0.0, False, "no_job_in_reach"),      # young: the circle holds
    (119.0, False, "no_job_in_reach"),
    (120.0, False, "no_job_in_reach"),    # 20 minutes: 4 km is about 20.8 minutes away
    (420.0, True, None),                  # 25 minutes: within reach
])
def test_the_round_reads_each_jobs_reach_from_its_age(age_s: float, matched: bool,
                                                      reason: str | None) -> None:
    """A worker 4 km away (beyond the 15-minute circle) is matched only once the job has
    waited long enough, with no change to what the dispatcher passes in."""
    now = 1_000_000.0
    workers, jobs = _pools(4.0, now - age_s)
    plan = matching.plan_round(workers, jobs, WIDE, now, Exclusions.none())
    assert bool(plan.matches) is matched
    if reason:
        assert plan.worker_reasons[0] == reason
    else:
        # Beyond the circle the travel term keeps growing, so nearer far workers win.
        assert plan.matches[0].terms["travel"] > WIDE.weights.travel
    # The same pools under the market's plain rules never match.
    plain = dataclasses.replace(WIDE, reach_expand_after_s=None)
    assert not matching.plan_round(workers, jobs, plain, now, Exclusions.none()).matches


@pytest.mark.parametrize(("waited_s", "matched"), [(0.0, False), (1799.0, False),
                                                   (1800.0, True)])
def test_a_worker_goes_beyond_the_circle_only_after_waiting(waited_s: float,
                                                            matched: bool) -> None:
    """With ``reach_worker_wait_s`` the far job goes only to a worker who has waited that
    long; inside the circle nothing changes."""
    rules = dataclasses.replace(WIDE, reach_worker_wait_s=1800.0)
    now = 1_000_000.0
    workers, jobs = _pools(4.0, now - 3600)
    workers = dataclasses.replace(workers, waited_s=np.array([waited_s]))
    assert bool(matching.plan_round(workers, jobs, rules, now, Exclusions.none()).matches) \
        is matched
    near_w, near_j = _pools(1.0, now - 3600)
    near_w = dataclasses.replace(near_w, waited_s=np.array([waited_s]))
    assert matching.plan_round(near_w, near_j, rules, now, Exclusions.none()).matches


@pytest.mark.parametrize(("key", "value"), [
    ("reach_step_every_s", 0), ("reach_step_minutes", -5), ("max_reach_minutes", 0),
    ("travel_supplement_fen_per_km", -1), ("travel_supplement_fen_per_km", 1.5),
    ("reach_expand_after_s", -1), ("reach_worker_wait_s", -60),
])
def test_a_market_file_with_nonsense_reach_rules_is_refused_by_name(key: str,
                                                                    value: float) -> None:
    """A misconfigured expanding reach stops the start with the key named."""
    from gigmarket.core.errors import ValidationError
    from gigmarket.core.market import parse_market, parse_skills
    skills = parse_skills({"skill": [{"code": "loading", "zh": "搬", "en": "L", "icon": "x"}]})
    table = {"id": "t", "name": "t", "centre": {"lat": 23.46, "lon": 113.15},
             "bounds": {"south": 23.4, "west": 113.1, "north": 23.5, "east": 113.2},
             "rules": {key: value}}
    with pytest.raises(ValidationError) as e:
        parse_market(table, skills)
    assert e.value.field == f"rules.{key}"
    parse_market({**table, "rules": {}}, skills)


def test_a_local_round_looks_as_far_as_the_widest_reach() -> None:
    """The dispatcher's round near what changed must look as far as any job may reach."""
    plain = Rules()
    assert reach.widest_km(plain) == plain.reach_km
    wide = dataclasses.replace(plain, reach_expand_after_s=0.0, max_reach_minutes=30.0)
    assert reach.widest_km(wide) > plain.reach_km
    assert reach.widest_km(wide) == pytest.approx(float(reach.reach_km(10_000.0, wide)[()]))


#: WIDE, but a job widens only within 30 minutes of its latest arrival (start plus grace).
NEAR_START = dataclasses.replace(WIDE, reach_expand_before_start_s=1800.0)


@pytest.mark.parametrize(("age_s", "left_s", "minutes"), [
    (3600.0, 7200.0, 15.0),   # long unfilled but far from its start: the circle
    (3600.0, 1800.1, 15.0),   # a moment before the last stretch
    (3600.0, 1800.0, 20.0),   # the last stretch begins: the first step
    (3600.0, 1500.0, 25.0),   # steps count from the later moment (300 s in)
    (3600.0, 0.0, 30.0),      # capped
    (60.0, 600.0, 15.0),      # near its start but posted a minute ago: not yet
    (180.0, 600.0, 20.0),     # both moments passed: steps from the later (age 120 s)
])
def test_a_market_may_widen_only_jobs_near_their_start(
    age_s: float, left_s: float, minutes: float
) -> None:
    assert float(reach.reach_minutes(age_s, NEAR_START, left_s)) == pytest.approx(minutes)


def test_widening_near_the_start_needs_the_time_left() -> None:
    with pytest.raises(ValueError, match="time left"):
        reach.reach_minutes(3600.0, NEAR_START)
    assert float(reach.left_s(1000.0, 2000.0, NEAR_START)) == pytest.approx(
        1000.0 + NEAR_START.arrival_grace_minutes * 60)


def test_the_round_widens_only_the_job_near_its_start() -> None:
    """Two jobs posted an hour ago, one worker 4.5 km off (beyond the 15-minute circle,
    within 30): only the job starting within the last stretch reaches her."""
    now = 1_000_000.0
    lat, lon = 23.45, 113.15
    east = lon + 4.5 / (111.195 * np.cos(np.radians(lat)))
    workers = WorkerPool(
        ids=["w"], lat=np.array([lat]), lon=np.array([east]), skills=np.array([1], np.uint64),
        certs=np.array([0], np.uint64), min_hourly_fen=np.array([2000.0]),
        available_until=np.array([now + 86_400.0]), waited_s=np.array([3600.0]),
        key_group=np.array([False]), rating=np.array([3.0]), reliability=np.array([1.0]),
        earned_today_fen=np.array([0.0]), busy_worker=np.zeros(0, np.int64),
        busy_start=np.zeros(0), busy_end=np.zeros(0))
    grace = NEAR_START.arrival_grace_minutes * 60
    jobs = JobPool(
        ids=["soon", "later"], employer_ids=["e", "e"], lat=np.array([lat, lat]),
        lon=np.array([lon, lon]), skills=np.array([1, 1], np.uint64),
        certs_required=np.array([0, 0], np.uint64), hourly_fen=np.array([3000.0, 3000.0]),
        start_at=np.array([now + 1500.0 - grace, now + 7200.0]),
        end_at=np.array([now + 9000.0, now + 21_600.0]), slots=np.array([1, 1], np.int64),
        posted_at=np.array([now - 3600.0, now - 3600.0]),
        employer_rating=np.array([3.0, 3.0]), employer_reliability=np.array([1.0, 1.0]))
    cand, _, _ = matching.eligible_pairs(workers, jobs, NEAR_START, now, Exclusions.none())
    assert [jobs.ids[j] for j in cand.job.tolist()] == ["soon"]
