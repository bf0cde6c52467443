"""Matching: eligibility rule by rule, reasons, cost terms, the solver's objective, and plans.

Pools are built from small tables: people and jobs placed in km east/north of Shiling.
``reference_eligible`` restates SPEC 4's rules pair by pair in plain Python, so the
vectorised search is checked against an independent reading rather than against itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest

from gigmarket.core import matching as m
from gigmarket.core.geo import KM_PER_DEG_LAT, haversine_km, km_per_deg_lon, local_distance_km
from gigmarket.core.market import CostWeights, Rules
from gigmarket.core.pool import Candidates, Exclusions, JobPool, WorkerPool, take_workers

SKILLS = ("porter", "cleaner", "electrician")
LAT0, LON0 = 23.4646, 113.1532
NOW = 1_750_000_000.0
HOUR = 3600.0
RULES = Rules()  # 15 min at 15 km/h with a 1.3 detour: reach 2.885 km


def place(east_km: float, north_km: float) -> tuple[float, float]:
    return LAT0 + north_km / KM_PER_DEG_LAT, LON0 + east_km / float(km_per_deg_lon(LAT0))


def workers_pool(rows: list[dict[str, Any]]) -> WorkerPool:
    """Workers from dicts; each key overrides a default (a porter at the centre)."""
    defaults: dict[str, Any] = {
        "at": (0.0, 0.0),
        "skills": ("porter",),
        "certs": (),
        "min_hourly_fen": 0.0,
        "available_until": math.inf,
        "waited_s": 0.0,
        "key_group": False,
        "rating": 3.0,
        "reliability": 1.0,
        "earned_today_fen": 0.0,
        "busy": (),
        "max_travel_minutes": math.inf,
    }
    full = [defaults | row for row in rows]
    lat, lon = zip(*(place(*r["at"]) for r in full), strict=True) if full else ((), ())
    busy = [(i, s, e) for i, r in enumerate(full) for s, e in r["busy"]]
    return WorkerPool(
        ids=[f"w{i}" for i in range(len(full))],
        lat=np.array(lat, dtype=np.float64),
        lon=np.array(lon, dtype=np.float64),
        skills=np.array([m.skill_mask(r["skills"], SKILLS) for r in full], dtype=np.uint64),
        certs=np.array([m.skill_mask(r["certs"], SKILLS) for r in full], dtype=np.uint64),
        min_hourly_fen=np.array([r["min_hourly_fen"] for r in full], dtype=np.float64),
        available_until=np.array([r["available_until"] for r in full], dtype=np.float64),
        waited_s=np.array([r["waited_s"] for r in full], dtype=np.float64),
        key_group=np.array([r["key_group"] for r in full], dtype=bool),
        rating=np.array([r["rating"] for r in full], dtype=np.float64),
        reliability=np.array([r["reliability"] for r in full], dtype=np.float64),
        earned_today_fen=np.array([r["earned_today_fen"] for r in full], dtype=np.float64),
        busy_worker=np.array([b[0] for b in busy], dtype=np.int64),
        busy_start=np.array([b[1] for b in busy], dtype=np.float64),
        busy_end=np.array([b[2] for b in busy], dtype=np.float64),
        max_travel_minutes=np.array([r["max_travel_minutes"] for r in full], np.float64),
    )


def jobs_pool(rows: list[dict[str, Any]]) -> JobPool:
    """Jobs from dicts; each key overrides a default (1 porter, 0.5 km east, in an hour)."""
    defaults: dict[str, Any] = {
        "at": (0.5, 0.0),
        "skills": ("porter",),
        "certs": (),
        "hourly_fen": 3000.0,
        "start": NOW + HOUR,
        "hours": 4.0,
        "slots": 1,
    }
    full = [defaults | row for row in rows]
    lat, lon = zip(*(place(*r["at"]) for r in full), strict=True) if full else ((), ())
    start = np.array([r["start"] for r in full], dtype=np.float64)
    return JobPool(
        ids=[f"j{i}" for i in range(len(full))],
        employer_ids=[f"e{i}" for i in range(len(full))],
        lat=np.array(lat, dtype=np.float64),
        lon=np.array(lon, dtype=np.float64),
        skills=np.array([m.skill_mask(r["skills"], SKILLS) for r in full], dtype=np.uint64),
        certs_required=np.array([m.skill_mask(r["certs"], SKILLS) for r in full], np.uint64),
        hourly_fen=np.array([r["hourly_fen"] for r in full], dtype=np.float64),
        start_at=start,
        end_at=start + np.array([r["hours"] for r in full]) * HOUR,
        slots=np.array([r["slots"] for r in full], dtype=np.int64),
        posted_at=np.full(len(full), NOW - 60.0),
        employer_rating=np.array([r.get("employer_rating", 4.0) for r in full]),
        employer_reliability=np.array([r.get("employer_reliability", 1.0) for r in full]),
    )


def exclusions(pairs: list[tuple[int, int]]) -> Exclusions:
    return Exclusions(
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
    )


def pairs_of(cand: Candidates) -> set[tuple[int, int]]:
    return set(zip(cand.worker.tolist(), cand.job.tolist(), strict=True))


# --- skill masks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "mask"),
    [((), 0), (("porter",), 1), (("cleaner",), 2), (("electrician", "porter"), 5), (SKILLS, 7)],
)
def test_skill_mask(codes: tuple[str, ...], mask: int) -> None:
    """Bit i of a skill mask stands for skill_order[i]."""
    assert m.skill_mask(codes, SKILLS) == mask


def test_skill_mask_rejects_unknown_codes() -> None:
    """An unknown skill code is an error, not a silent zero bit."""
    with pytest.raises(ValueError, match="welder"):
        m.skill_mask(["porter", "welder"], SKILLS)


def test_reason_texts_in_both_languages() -> None:
    """Every reason code has an English and a Chinese text."""
    assert set(m.REASONS) == set(m.REASONS_ZH)
    assert all(m.REASONS[c] and m.REASONS_ZH[c] for c in m.REASONS)


# --- eligibility, one rule at a time -------------------------------------------------------

ELIGIBILITY = [
    # id, worker overrides, job overrides, excluded, worker reason, job reason (None: eligible)
    ("all_ok", {}, {}, False, None, None),
    (
        "skill_missing",
        {},
        {"skills": ("cleaner",)},
        False,
        "no_skill_match",
        "no_worker_with_skill",
    ),
    (
        "one_of_two_skills",
        {},
        {"skills": ("porter", "cleaner")},
        False,
        "no_skill_match",
        "no_worker_with_skill",
    ),
    (
        "both_skills_held",
        {"skills": ("porter", "cleaner")},
        {"skills": ("cleaner",)},
        False,
        None,
        None,
    ),
    (
        "certificate_missing",
        {"skills": ("electrician",)},
        {"skills": ("electrician",), "certs": ("electrician",)},
        False,
        "certificate_required",
        "no_worker_with_certificate",
    ),
    (
        "certificate_held",
        {"skills": ("electrician",), "certs": ("electrician",)},
        {"skills": ("electrician",), "certs": ("electrician",)},
        False,
        None,
        None,
    ),
    ("too_far", {}, {"at": (2.95, 0.0)}, False, "no_job_in_reach", "no_worker_in_reach"),
    ("too_far_diagonal", {}, {"at": (2.1, 2.1)}, False, "no_job_in_reach", "no_worker_in_reach"),
    ("just_in_reach", {}, {"at": (2.8, 0.0), "start": NOW + HOUR}, False, None, None),
    (
        "wage_below_minimum",
        {"min_hourly_fen": 3001.0},
        {},
        False,
        "wage_below_minimum",
        "wage_below_worker_minimum",
    ),
    ("wage_at_minimum", {"min_hourly_fen": 3000.0}, {}, False, None, None),
    ("piece_rate_passes", {"min_hourly_fen": 5000.0}, {"hourly_fen": math.nan}, False, None, None),
    (
        # 2.5 km is 13 minutes; the job started 5 minutes ago, grace is 15: 3 minutes late.
        "cannot_arrive",
        {},
        {"at": (2.5, 0.0), "start": NOW - 300},
        False,
        "cannot_arrive_in_time",
        "no_worker_can_arrive_in_time",
    ),
    ("arrives_within_grace", {}, {"at": (2.5, 0.0), "start": NOW}, False, None, None),
    (
        "available_too_short",
        {"available_until": NOW + 4 * HOUR},
        {"start": NOW + HOUR, "hours": 4.0},
        False,
        "not_available_long_enough",
        "no_worker_available_long_enough",
    ),
    ("available_exactly", {"available_until": NOW + 5 * HOUR}, {"hours": 4.0}, False, None, None),
    (
        "busy_overlap",
        {"busy": ((NOW + 4 * HOUR, NOW + 6 * HOUR),)},
        {},
        False,
        "busy_overlap",
        "no_worker_free",
    ),
    (
        "busy_around",
        {"busy": ((NOW, NOW + 9 * HOUR),)},
        {},
        False,
        "busy_overlap",
        "no_worker_free",
    ),
    (
        "busy_back_to_back",
        {"busy": ((NOW - 2 * HOUR, NOW + HOUR), (NOW + 5 * HOUR, NOW + 7 * HOUR))},
        {},
        False,
        None,
        None,
    ),
    ("excluded", {}, {}, True, "declined_before", "declined_before"),
]


@pytest.mark.parametrize(
    ("worker", "job", "excluded", "worker_reason", "job_reason"),
    [case[1:] for case in ELIGIBILITY],
    ids=[case[0] for case in ELIGIBILITY],
)
def test_each_rule_alone(
    worker: dict[str, Any],
    job: dict[str, Any],
    excluded: bool,
    worker_reason: str | None,
    job_reason: str | None,
) -> None:
    """One worker, one job: each rule on its own decides eligibility and names the reason."""
    ex = exclusions([(0, 0)] if excluded else [])
    cand, worker_reasons, job_reasons = m.eligible_pairs(
        workers_pool([worker]), jobs_pool([job]), RULES, NOW, ex
    )
    if worker_reason is None:
        assert pairs_of(cand) == {(0, 0)}
        assert worker_reasons == {} and job_reasons == {}
    else:
        assert len(cand) == 0
        assert worker_reasons == {0: worker_reason}
        assert job_reasons == {0: job_reason}


def test_candidate_distance_and_travel() -> None:
    """Candidates carry the great-circle distance and the travel minutes the rules give it."""
    workers = workers_pool([{"at": (0.0, 0.0)}])
    jobs = jobs_pool([{"at": (1.2, 1.6)}])
    cand, _, _ = m.eligible_pairs(workers, jobs, RULES, NOW, Exclusions.none())
    expected = float(haversine_km(workers.lat[0], workers.lon[0], jobs.lat[0], jobs.lon[0]))
    assert cand.distance_km[0] == pytest.approx(2.0, abs=1e-3)
    assert cand.distance_km[0] == pytest.approx(expected, abs=1e-6)
    assert cand.travel_minutes[0] == pytest.approx(RULES.travel_minutes(expected))


@pytest.mark.parametrize(
    ("rules", "east_km", "eligible"),
    [
        (Rules(max_travel_minutes=None, max_distance_km=5.0), 4.9, True),
        (Rules(max_travel_minutes=None, max_distance_km=5.0), 5.1, False),
        (Rules(max_travel_minutes=30.0), 5.5, True),
        (Rules(max_travel_minutes=30.0, max_distance_km=3.0), 3.1, False),
        (Rules(max_travel_minutes=None, max_distance_km=None), 40.0, True),
    ],
)
def test_reach_follows_the_market_rules(rules: Rules, east_km: float, eligible: bool) -> None:
    """The service circle is the tighter of the travel and distance limits, or none at all."""
    workers = workers_pool([{}])
    jobs = jobs_pool([{"at": (east_km, 0.0), "start": NOW + 5 * HOUR}])
    cand, _, _ = m.eligible_pairs(workers, jobs, rules, NOW, Exclusions.none())
    assert (len(cand) == 1) is eligible


def edge_pair() -> tuple[WorkerPool, float]:
    """A worker 2.5 km from the default job's place, and that pair's distance as computed."""
    workers = workers_pool([{"at": (-2.0, 0.0)}])
    jobs = jobs_pool([{}])
    km = float(
        local_distance_km(
            workers.lat,
            workers.lon,
            np.cos(np.radians(workers.lat)),
            jobs.lat,
            jobs.lon,
            np.cos(np.radians(jobs.lat)),
        )[0]
    )
    return workers, km


@pytest.mark.parametrize("steps", [-2, -1, 0, 1, 2])
def test_reach_verdict_at_the_exact_limit(steps: int) -> None:
    """A pair exactly at the distance limit is in reach, one float step beyond it is not."""
    workers, km = edge_pair()
    limit = km
    for _ in range(abs(steps)):
        limit = float(np.nextafter(limit, math.inf if steps > 0 else 0.0))
    rules = Rules(max_travel_minutes=None, max_distance_km=limit)
    jobs = jobs_pool([{"start": NOW + 5 * HOUR}])
    cand, worker_reasons, _ = m.eligible_pairs(workers, jobs, rules, NOW, Exclusions.none())
    plan = m.plan_round(workers, jobs, rules, NOW, Exclusions.none())
    assert (len(cand) == 1) is (steps >= 0)
    assert len(plan.matches) == len(cand)
    assert worker_reasons == ({} if steps >= 0 else {0: "no_job_in_reach"})


@pytest.mark.parametrize("reach_at_edge", [False, True])
@pytest.mark.parametrize("steps", [-2, -1, 0, 1, 2])
def test_arrival_verdict_at_the_exact_limit(steps: int, reach_at_edge: bool) -> None:
    """Arrival is judged exactly: a start one float step either side of the pair's travel
    time keeps the verdict of ``travel * 60 <= start + grace - now``, also when the pair is
    at the edge of reach (where the search skips the test for jobs it cannot fail)."""
    workers, km = edge_pair()
    rules = Rules(max_travel_minutes=None, max_distance_km=km if reach_at_edge else 5.0)
    travel_s = km * (rules.detour_factor / rules.speed_kmh * 60.0) * 60.0
    start = NOW + travel_s - rules.arrival_grace_minutes * 60.0
    for _ in range(abs(steps)):
        start = float(np.nextafter(start, math.inf if steps > 0 else 0.0))
    expected = travel_s <= start + rules.arrival_grace_minutes * 60.0 - NOW
    # A second, roomy job in the same round so loose and tight jobs share a search chunk.
    jobs = jobs_pool([{"start": start}, {"at": (-1.0, 0.0), "start": NOW + 5 * HOUR}])
    cand, _, job_reasons = m.eligible_pairs(workers, jobs, rules, NOW, Exclusions.none())
    plan = m.plan_round(workers, jobs, rules, NOW, Exclusions.none())
    assert ((0, 0) in pairs_of(cand)) is expected
    assert (0, 1) in pairs_of(cand)
    assert job_reasons == ({} if expected else {0: "no_worker_can_arrive_in_time"})
    # The sooner job wins the one worker whenever the pair is eligible.
    assert plan.job_reasons.get(0) == (None if expected else "no_worker_can_arrive_in_time")


def test_reason_is_the_furthest_any_candidate_got() -> None:
    """A row's reason is the first rule that removed its last candidate."""
    workers = workers_pool(
        [
            # w0: one job fails on skill, another on wage -> wage is where the last one went.
            {"min_hourly_fen": 3500.0},
            # w1: nothing in reach at all (far east).
            {"at": (20.0, 0.0)},
            # w2: a cleaner next to porter jobs only.
            {"skills": ("cleaner",)},
            # w3: declined j1 before; j0 needs a skill it lacks.
            {},
        ]
    )
    jobs = jobs_pool(
        [
            {"skills": ("electrician",)},  # j0: nobody has it
            {"hourly_fen": 3000.0},  # j1: too little for w0; w2 lacks the skill
        ]
    )
    cand, worker_reasons, job_reasons = m.eligible_pairs(
        workers, jobs, RULES, NOW, exclusions([(3, 1)])
    )
    assert len(cand) == 0
    assert worker_reasons == {
        0: "wage_below_minimum",
        1: "no_job_in_reach",
        2: "no_skill_match",
        3: "declined_before",
    }
    # j1's furthest candidate was w3 (excluded), further along than w0 (wage).
    assert job_reasons == {0: "no_worker_with_skill", 1: "declined_before"}


@pytest.mark.parametrize(
    ("n_workers", "n_jobs", "worker_reason", "job_reason"),
    [(3, 0, "no_open_jobs", None), (0, 2, None, "no_workers_waiting"), (0, 0, None, None)],
)
def test_empty_sides(
    n_workers: int, n_jobs: int, worker_reason: str | None, job_reason: str | None
) -> None:
    """With nobody on one side, everyone on the other says so; nothing is a candidate."""
    workers, jobs = workers_pool([{}] * n_workers), jobs_pool([{}] * n_jobs)
    cand, worker_reasons, job_reasons = m.eligible_pairs(
        workers, jobs, RULES, NOW, Exclusions.none()
    )
    assert len(cand) == 0
    assert worker_reasons == dict.fromkeys(range(n_workers), worker_reason)
    assert job_reasons == dict.fromkeys(range(n_jobs), job_reason)
    plan = m.plan_round(workers, jobs, RULES, NOW, Exclusions.none())
    assert plan.matches == [] and plan.candidate_count == 0
    assert plan.worker_reasons == worker_reasons
    assert plan.job_reasons == job_reasons


# --- eligibility against a plain restatement of the rules ------------------------------------


def random_market(seed: int, n_workers: int, n_jobs: int) -> tuple[WorkerPool, JobPool, Exclusions]:
    """Small pools where every rule bites now and then."""
    rng = np.random.default_rng(seed)
    workers = []
    for _ in range(n_workers):
        skills = tuple(s for s in SKILLS if rng.random() < 0.5) or ("porter",)
        busy_start = NOW + rng.uniform(0, 8) * HOUR
        workers.append(
            {
                "at": tuple(rng.uniform(-3, 3, 2)),
                "skills": skills,
                "certs": ("electrician",) if "electrician" in skills and rng.random() < 0.5 else (),
                "min_hourly_fen": float(rng.choice([0.0, 2500.0, 3000.0, 4000.0])),
                "available_until": float(rng.choice([math.inf, NOW + rng.uniform(2, 10) * HOUR])),
                "busy": ((busy_start, busy_start + 2 * HOUR),) if rng.random() < 0.3 else (),
                "waited_s": float(rng.uniform(0, 5 * HOUR)),
                "key_group": bool(rng.random() < 0.2),
                "rating": float(rng.uniform(1, 5)),
                "reliability": float(rng.uniform(0, 1)),
                "earned_today_fen": float(rng.choice([0.0, 15000.0, 40000.0])),
            }
        )
    jobs = []
    for _ in range(n_jobs):
        skills = (str(rng.choice(SKILLS)),)
        jobs.append(
            {
                "at": tuple(rng.uniform(-3, 3, 2)),
                "skills": skills,
                "certs": skills if skills == ("electrician",) and rng.random() < 0.7 else (),
                "hourly_fen": float(rng.choice([2400.0, 3000.0, 3500.0, math.nan])),
                "start": NOW + rng.uniform(-0.4, 6) * HOUR,
                "hours": float(rng.choice([2.0, 4.0, 8.0])),
                "slots": int(rng.integers(1, 3)),
                "employer_rating": float(rng.uniform(1, 5)),
                "employer_reliability": float(rng.uniform(0, 1)),
            }
        )
    n_ex = n_workers * n_jobs // 10
    ex = exclusions(
        list(
            zip(
                rng.integers(0, n_workers, n_ex).tolist(),
                rng.integers(0, n_jobs, n_ex).tolist(),
                strict=True,
            )
        )
    )
    return workers_pool(workers), jobs_pool(jobs), ex


def reference_eligible(
    workers: WorkerPool, jobs: JobPool, rules: Rules, now: float, ex: Exclusions
) -> tuple[set[tuple[int, int]], dict[int, str], dict[int, str]]:
    """SPEC 4 pair by pair: the eligible pairs and each partnerless row's reason."""
    banned = set(zip(ex.worker_rows.tolist(), ex.job_rows.tolist(), strict=True))
    stage_of: dict[tuple[int, int], int] = {}
    for w, j in itertools.product(range(len(workers)), range(len(jobs))):
        km = float(haversine_km(workers.lat[w], workers.lon[w], jobs.lat[j], jobs.lon[j]))
        if km > rules.reach_km:
            continue
        busy = [
            (s, e)
            for b, s, e in zip(
                workers.busy_worker, workers.busy_start, workers.busy_end, strict=True
            )
            if b == w
        ]
        pay = jobs.hourly_fen[j]
        checks = [
            int(jobs.skills[j]) & ~int(workers.skills[w]) == 0,
            int(jobs.certs_required[j]) & ~int(workers.certs[w]) == 0,
            math.isnan(pay) or pay >= workers.min_hourly_fen[w],
            now + rules.travel_minutes(km) * 60
            <= jobs.start_at[j] + rules.arrival_grace_minutes * 60,
            jobs.end_at[j] <= workers.available_until[w],
            not any(jobs.start_at[j] < e and s < jobs.end_at[j] for s, e in busy),
            (w, j) not in banned,
        ]
        passed = next((k for k, ok in enumerate(checks) if not ok), len(checks))
        stage_of[(w, j)] = passed
    eligible = {p for p, s in stage_of.items() if s == 7}

    def reasons(n: int, side: int, names: tuple[str, ...]) -> dict[int, str]:
        out = {}
        for r in range(n):
            got = [s for p, s in stage_of.items() if p[side] == r]
            if 7 not in got:
                out[r] = names[max(got) + 1] if got else names[0]
        return out

    worker_names = (
        "no_job_in_reach",
        "no_skill_match",
        "certificate_required",
        "wage_below_minimum",
        "cannot_arrive_in_time",
        "not_available_long_enough",
        "busy_overlap",
        "declined_before",
    )
    job_names = (
        "no_worker_in_reach",
        "no_worker_with_skill",
        "no_worker_with_certificate",
        "wage_below_worker_minimum",
        "no_worker_can_arrive_in_time",
        "no_worker_available_long_enough",
        "no_worker_free",
        "declined_before",
    )
    return (
        eligible,
        reasons(len(workers), 0, worker_names),
        reasons(len(jobs), 1, job_names),
    )


@pytest.mark.parametrize("seed", range(12))
def test_eligibility_matches_the_rules_pair_by_pair(seed: int) -> None:
    """The vectorised search finds exactly the pairs, and reasons, of a pair-by-pair reading."""
    workers, jobs, ex = random_market(seed, 40, 25)
    cand, worker_reasons, job_reasons = m.eligible_pairs(workers, jobs, RULES, NOW, ex)
    eligible, want_workers, want_jobs = reference_eligible(workers, jobs, RULES, NOW, ex)
    assert len(cand) == len(eligible)
    assert pairs_of(cand) == eligible
    assert worker_reasons == want_workers
    assert job_reasons == want_jobs
    assert set(worker_reasons.values()) | set(job_reasons.values()) <= set(m.REASONS)


# --- cost terms ----------------------------------------------------------------------------


def terms_for(worker_rows: list[dict[str, Any]], job_rows: list[dict[str, Any]]) -> dict[str, Any]:
    workers, jobs = workers_pool(worker_rows), jobs_pool(job_rows)
    cand, _, _ = m.eligible_pairs(workers, jobs, RULES, NOW, Exclusions.none())
    order = np.lexsort((cand.job, cand.worker))
    cand = Candidates(
        cand.worker[order], cand.job[order], cand.distance_km[order], cand.travel_minutes[order]
    )
    assert len(cand) == len(worker_rows) * len(job_rows)
    return m.cost_terms(workers, jobs, cand, RULES, NOW)


@pytest.mark.parametrize(
    ("better", "worse", "term"),
    [
        ({"at": (0.2, 0.0)}, {"at": (2.0, 0.0)}, "travel"),
        ({"key_group": True}, {"key_group": False}, "key_group"),
        ({"earned_today_fen": 0.0}, {"earned_today_fen": 20000.0}, "fairness"),
        ({"waited_s": 3 * HOUR}, {"waited_s": 1 * HOUR}, "waited"),
        ({"rating": 4.5}, {"rating": 3.5}, "rating"),
        ({"reliability": 0.95}, {"reliability": 0.6}, "reliability"),
    ],
)
def test_cost_term_direction(better: dict[str, Any], worse: dict[str, Any], term: str) -> None:
    """Closer, key-group, less earned today, longer waited, better rated, more reliable: cheaper."""
    # Placed workers stand where the job is measured from; others stand at the centre.
    terms = terms_for([better, worse], [{"at": (0.0, 0.0)}])
    assert terms[term][0] < terms[term][1]
    assert terms["total"][0] < terms["total"][1]


@pytest.mark.parametrize(
    ("better", "worse", "term"),
    [
        ({"employer_rating": 4.8}, {"employer_rating": 2.5}, "employer_rating"),
        ({"employer_reliability": 1.0}, {"employer_reliability": 0.7}, "employer_reliability"),
    ],
)
def test_employer_term_direction(better: dict[str, Any], worse: dict[str, Any], term: str) -> None:
    """For the same worker and trip, the job of a better-rated or more reliable employer is
    cheaper."""
    terms = terms_for([{}], [better, worse])
    assert terms[term][0] < terms[term][1]
    assert terms["total"][0] < terms["total"][1]


@pytest.mark.parametrize(
    ("job", "term", "value"),
    [
        ({"employer_rating": 5.0}, "employer_rating", -0.2),
        ({"employer_rating": 1.0}, "employer_rating", 0.2),
        ({"employer_reliability": 1.0}, "employer_reliability", -0.5),
        ({"employer_reliability": 0.0}, "employer_reliability", 0.5),
        ({"employer_reliability": 0.5}, "employer_reliability", 0.0),
    ],
)
def test_employer_terms_are_capped_at_their_weight(
    job: dict[str, Any], term: str, value: float
) -> None:
    assert terms_for([{}], [job])[term][0] == pytest.approx(value)


def test_a_worker_goes_to_the_employer_who_keeps_its_word() -> None:
    """Two jobs start together; the nearer one is posted by an employer with no-shows and
    unpaid wages on record. The worker is sent a little further, to the employer who keeps
    its word; with both employers clean, to the nearer job."""
    worker = [{"at": (0.0, 0.0)}]
    lapsed = {"at": (1.0, 0.0), "employer_reliability": 0.2}
    clean = {"at": (1.5, 0.0), "employer_reliability": 1.0}
    plan = m.plan_round(workers_pool(worker), jobs_pool([lapsed, clean]), RULES, NOW,
                        Exclusions.none())
    assert [(x.worker_row, x.job_row) for x in plan.matches] == [(0, 1)]
    assert plan.matches[0].terms["employer_reliability"] == pytest.approx(-0.5)
    assert plan.job_reasons == {0: "outranked"}
    plan = m.plan_round(workers_pool(worker), jobs_pool([lapsed | {"employer_reliability": 1.0},
                                                         clean]), RULES, NOW, Exclusions.none())
    assert [(x.worker_row, x.job_row) for x in plan.matches] == [(0, 0)]


def test_a_workers_own_shortlist_ranks_employers_too() -> None:
    """A worker with more jobs in reach than ``PER_WORKER`` keeps the cheapest, not merely
    the nearest: a far job of a clean employer survives the cut that five near jobs of a
    lapsed one would otherwise win (each job has many better-placed workers, so the
    job-side lists do not keep this worker)."""
    crowd = [{"at": (2.0, 0.0), "key_group": True, "waited_s": 4 * HOUR}] * 40
    me = {"at": (0.0, 0.0)}
    near = [{"at": (0.2 + 0.05 * i, 0.0), "employer_reliability": 0.0,
             "start": NOW + 3 * HOUR} for i in range(m.PER_WORKER)]
    far = {"at": (1.2, 0.0), "employer_reliability": 1.0, "start": NOW + 3 * HOUR}
    workers, jobs = workers_pool([me, *crowd]), jobs_pool([*near, far])
    shortlist = m._Shortlist(workers, jobs, RULES)
    search = m._Search(workers, jobs, RULES, NOW, Exclusions.none())
    for chunk in search.eligible():
        shortlist.add(*chunk)
    cand, _ = shortlist.finish()
    mine = set(cand.job[cand.worker == 0].tolist())
    assert len(jobs) - 1 in mine


@pytest.mark.parametrize(
    ("worker", "term", "value"),
    [
        ({"waited_s": 4 * HOUR}, "waited", -0.6),
        ({"waited_s": 9 * HOUR}, "waited", -0.6),
        ({"waited_s": 0.0}, "waited", 0.0),
        ({"key_group": True}, "key_group", -1.0),
        ({"rating": 5.0}, "rating", -0.2),
        ({"rating": 1.0}, "rating", 0.2),
        ({"reliability": 0.0}, "reliability", 0.3),
        ({"reliability": 1.0}, "reliability", -0.3),
        ({"earned_today_fen": 30000.0}, "fairness", 0.6),
        ({"earned_today_fen": 90000.0}, "fairness", 0.6),
    ],
)
def test_cost_terms_are_capped_at_their_weight(
    worker: dict[str, Any], term: str, value: float
) -> None:
    """Each term saturates at plus or minus its weight (the default CostWeights)."""
    assert terms_for([worker], [{"at": (0.0, 0.0)}])[term][0] == pytest.approx(value)


def test_cost_terms_bounded_and_summed() -> None:
    """Over random pools every term stays within its weight and total is their sum."""
    workers, jobs, _ = random_market(5, 40, 20)
    cand, _, _ = m.eligible_pairs(workers, jobs, RULES, NOW, Exclusions.none())
    terms = m.cost_terms(workers, jobs, cand, RULES, NOW)
    weights = CostWeights()
    assert set(terms) == set(m.COST_KEYS)
    for key in m.COST_KEYS[:-1]:
        assert np.all(np.abs(terms[key]) <= getattr(weights, key) + 1e-12), key
    assert np.all(terms["travel"] >= 0) and np.all(terms["fairness"] >= 0)
    total = sum(terms[k] for k in m.COST_KEYS[:-1])
    np.testing.assert_allclose(terms["total"], total, atol=1e-12)


def test_travel_term_is_relative_to_the_service_circle() -> None:
    """Travel costs its full weight at the edge of the circle, proportionally less inside."""
    terms = terms_for([{}], [{"at": (2.885 / 2, 0.0)}])
    assert terms["travel"][0] == pytest.approx(0.5, abs=0.01)


# --- the solver ----------------------------------------------------------------------------


def candidates(pairs: list[tuple[int, int]]) -> Candidates:
    return Candidates(
        np.array([p[0] for p in pairs], dtype=np.int64),
        np.array([p[1] for p in pairs], dtype=np.int64),
        np.ones(len(pairs)),
        np.ones(len(pairs)),
    )


def chosen_pairs(pairs: list[tuple[int, int]], costs: list[float], jobs: JobPool) -> set[Any]:
    workers = workers_pool([{}] * (max(p[0] for p in pairs) + 1))
    picked = m.solve(workers, jobs, candidates(pairs), np.array(costs), NOW)
    return {pairs[i] for i in picked.tolist()}


def test_solve_fills_more_slots_before_saving_cost() -> None:
    """The cheapest pair is given up when that lets two slots fill instead of one."""
    jobs = jobs_pool([{}, {}])
    # w0 fits both jobs and is cheapest at j0; w1 fits only j0.
    pairs = [(0, 0), (0, 1), (1, 0)]
    assert chosen_pairs(pairs, [-1.0, 0.9, 0.9], jobs) == {(0, 1), (1, 0)}


def test_solve_respects_slots_and_one_job_per_worker() -> None:
    """A job takes at most its free slots; a worker gets at most one job."""
    jobs = jobs_pool([{"slots": 2}, {"slots": 1}])
    pairs = [(w, 0) for w in range(5)] + [(0, 1), (1, 1)]
    costs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.0, 0.0]
    chosen = chosen_pairs(pairs, costs, jobs)
    assert len(chosen) == 3
    assert sum(1 for _, j in chosen if j == 0) == 2
    assert len({w for w, _ in chosen}) == 3
    # Cheapest such plan: w0 and w1 go to j1 (free) ... only one fits; the other takes j0.
    assert chosen == {(0, 1), (1, 0), (2, 0)} or chosen == {(1, 1), (0, 0), (2, 0)}


@pytest.mark.parametrize(
    ("soon_start", "late_start", "soon_cost", "late_cost", "want"),
    [
        # A sooner hour wins even when dearer ...
        (NOW + 1 * HOUR, NOW + 3 * HOUR, 2.0, -1.0, 0),
        (NOW + 1 * HOUR, NOW + 2 * HOUR, 2.5, -2.5, 0),
        # Buckets are whole hours until the start: 54 minutes is bucket 0, 60 is bucket 1.
        (NOW + 0.9 * HOUR, NOW + 1.0 * HOUR, 1.0, 0.0, 0),
        # ... a job already under way counts as starting now ...
        (NOW - 0.2 * HOUR, NOW + 1 * HOUR, 1.0, 0.0, 0),
        # ... and within the same hour the cheaper job wins.
        (NOW + 1.1 * HOUR, NOW + 1.9 * HOUR, 1.0, 0.0, 1),
        (NOW + 60 * HOUR, NOW + 70 * HOUR, 1.0, 0.0, 1),
    ],
)
def test_solve_prefers_the_sooner_job(
    soon_start: float, late_start: float, soon_cost: float, late_cost: float, want: int
) -> None:
    """One worker fitting two jobs goes to the one starting in an earlier hour."""
    jobs = jobs_pool([{"start": soon_start}, {"start": late_start}])
    assert chosen_pairs([(0, 0), (0, 1)], [soon_cost, late_cost], jobs) == {(0, want)}


def test_solve_with_no_candidates() -> None:
    """No candidates, no matches."""
    picked = m.solve(workers_pool([{}]), jobs_pool([{}]), candidates([]), np.zeros(0), NOW)
    assert picked.shape == (0,)


def test_solve_rejects_non_finite_costs() -> None:
    """A NaN cost is a bug upstream, not a silent zero."""
    with pytest.raises(ValueError):
        m.solve(workers_pool([{}]), jobs_pool([{}]), candidates([(0, 0)]), np.array([np.nan]), NOW)


def brute_force_best(
    n_workers: int,
    pairs: list[tuple[int, int]],
    cost_milli: list[int],
    hours: list[int],
    slots: list[int],
) -> tuple[int, int]:
    """(most slots, least U*H + P among plans filling that many) by trying every plan."""
    spread = max(cost_milli) - min(cost_milli)
    unit = spread + 1
    options: list[list[int]] = [[] for _ in range(n_workers)]
    for k, (w, _) in enumerate(pairs):
        options[w].append(k)
    best = (0, 0)
    load = [0] * len(slots)

    def walk(w: int, count: int, objective: int) -> None:
        nonlocal best
        if w == n_workers:
            if count > best[0] or (count == best[0] and objective < best[1]):
                best = (count, objective)
            return
        walk(w + 1, count, objective)
        for k in options[w]:
            j = pairs[k][1]
            if load[j] < slots[j]:
                load[j] += 1
                walk(
                    w + 1, count + 1, objective + unit * hours[j] + cost_milli[k] - min(cost_milli)
                )
                load[j] -= 1

    walk(0, 0, 0)
    return best


@pytest.mark.parametrize("seed", range(150))
def test_solve_against_brute_force(seed: int) -> None:
    """On small random instances solve() fills the most slots at the least objective."""
    rng = np.random.default_rng(seed)
    nw, nj = int(rng.integers(1, 7)), int(rng.integers(1, 5))
    pairs = [(w, j) for w in range(nw) for j in range(nj) if rng.random() < 0.55]
    if not pairs:
        pairs = [(0, 0)]
    cost_milli = rng.integers(-2000, 2000, len(pairs)).tolist()
    hours = rng.integers(0, 4, nj).tolist()
    slots = rng.integers(1, 3, nj).tolist()
    jobs = jobs_pool(
        [{"start": NOW + h * HOUR + 60.0, "slots": s} for h, s in zip(hours, slots, strict=True)]
    )
    workers = workers_pool([{}] * nw)
    picked = m.solve(workers, jobs, candidates(pairs), np.array(cost_milli) / 1000.0, NOW)

    chosen = [pairs[k] for k in picked.tolist()]
    assert len({w for w, _ in chosen}) == len(chosen)
    assert all(sum(1 for _, j in chosen if j == jj) <= slots[jj] for jj in range(nj))
    unit = max(cost_milli) - min(cost_milli) + 1
    objective = sum(unit * hours[pairs[k][1]] + cost_milli[k] - min(cost_milli) for k in picked)
    assert (len(chosen), objective) == brute_force_best(nw, pairs, cost_milli, hours, slots)


# --- whole rounds ---------------------------------------------------------------------------


def test_plan_round_matches_with_terms() -> None:
    """Each match names its pair, distance, travel and every cost term."""
    workers = workers_pool([{"key_group": True}, {}])
    jobs = jobs_pool([{"at": (1.0, 0.0)}])
    plan = m.plan_round(workers, jobs, RULES, NOW, Exclusions.none())
    assert [(x.worker_row, x.job_row) for x in plan.matches] == [(0, 0)]
    match = plan.matches[0]
    assert match.distance_km == pytest.approx(1.0, abs=1e-3)
    assert match.travel_minutes == pytest.approx(RULES.travel_minutes(match.distance_km))
    assert list(match.terms) == list(m.COST_KEYS)
    assert all(isinstance(v, float) for v in match.terms.values())
    assert match.terms["key_group"] == pytest.approx(-RULES.weights.key_group)
    assert match.terms["total"] == pytest.approx(sum(list(match.terms.values())[:-1]))
    # The other worker could have taken it: outranked, which is said when asked, not stored.
    assert plan.worker_reasons == {}
    assert plan.job_reasons == {}
    assert plan.candidate_count == 2
    assert plan.candidates_s >= 0 and plan.solve_s >= 0


@pytest.mark.parametrize(
    ("worker_rows", "job_rows", "worker_reasons", "job_reasons"),
    [
        # Two jobs want the one worker: the later one is outranked.
        ([{}], [{"start": NOW + HOUR}, {"start": NOW + 3 * HOUR}], {}, {1: "outranked"}),
        # Three slots, one worker who can do it: the rest are short of workers.
        ([{}], [{"slots": 3}], {}, {0: "not_enough_workers"}),
        # A worker with no partner keeps their own reason; the job is still filled.
        ([{}, {"skills": ("cleaner",)}], [{}], {1: "no_skill_match"}, {}),
        # Job without anyone to do it.
        ([{}], [{}, {"skills": ("electrician",)}], {}, {1: "no_worker_with_skill"}),
    ],
)
def test_plan_round_reasons(
    worker_rows: list[dict[str, Any]],
    job_rows: list[dict[str, Any]],
    worker_reasons: dict[int, str],
    job_reasons: dict[int, str],
) -> None:
    """Every worker with no eligible job and every job with free slots gets a reason."""
    plan = m.plan_round(
        workers_pool(worker_rows), jobs_pool(job_rows), RULES, NOW, Exclusions.none()
    )
    assert plan.worker_reasons == worker_reasons
    assert plan.job_reasons == job_reasons


@pytest.mark.parametrize("seed", range(8))
def test_plan_round_is_a_valid_optimal_plan(seed: int) -> None:
    """plan_round keeps every rule and, where the shortlist cannot bind, is solve's optimum."""
    workers, jobs, ex = random_market(100 + seed, 30, 12)
    plan = m.plan_round(workers, jobs, RULES, NOW, ex)
    cand, worker_reasons, job_reasons = m.eligible_pairs(workers, jobs, RULES, NOW, ex)
    eligible = pairs_of(cand)
    chosen = [(x.worker_row, x.job_row) for x in plan.matches]
    assert set(chosen) <= eligible
    assert len({w for w, _ in chosen}) == len(chosen)
    filled = np.bincount([j for _, j in chosen], minlength=len(jobs))
    assert np.all(filled <= jobs.slots)
    assert plan.candidate_count == len(cand)

    # A reason for exactly the workers with no eligible job, the same as the search's.
    assert plan.worker_reasons == worker_reasons
    assert not {w for w, _ in chosen} & set(plan.worker_reasons)
    assert set(plan.job_reasons) == set(np.flatnonzero(filled < jobs.slots).tolist())
    for j, reason in plan.job_reasons.items():
        assert reason == job_reasons.get(j, reason)
        assert reason in m.REASONS

    # Twelve jobs and at most ~30 candidates per job: the shortlist keeps every pair, so
    # the plan is as good as solving over all of them.
    costs = m.cost_terms(workers, jobs, cand, RULES, NOW)["total"]
    best = m.solve(workers, jobs, cand, costs, NOW)
    assert len(plan.matches) == len(best)
    hours = np.clip(np.floor((jobs.start_at - NOW) / HOUR), 0, 48)
    assert sum(hours[j] for _, j in chosen) == pytest.approx(hours[cand.job[best]].sum())
    assert sum(x.terms["total"] for x in plan.matches) == pytest.approx(costs[best].sum(), abs=0.01)


@pytest.mark.parametrize("seed", range(6))
def test_plan_round_shortlist_keeps_the_fill_of_a_busy_market(seed: int) -> None:
    """Where the shortlist binds, the plan still fills as many slots, as soon, as solving
    over every pair, at a pair cost within 2 % (with one pair per worker and per slot it
    would lose a fifth of the fills)."""
    rng = np.random.default_rng(seed)
    workers = workers_pool(
        [
            {
                "at": tuple(rng.uniform(-2.5, 2.5, 2)),
                "skills": ("porter", "cleaner") if rng.random() < 0.5 else ("porter",),
                "waited_s": float(rng.uniform(0, 5 * HOUR)),
                "key_group": bool(rng.random() < 0.1),
                "earned_today_fen": float(rng.choice([0.0, 20000.0])),
            }
            for _ in range(80)
        ]
    )
    jobs = jobs_pool(
        [
            {
                "at": tuple(rng.uniform(-2.5, 2.5, 2)),
                "skills": (str(rng.choice(["porter", "cleaner"])),),
                "start": NOW + rng.uniform(0, 5) * HOUR,
                "slots": int(rng.integers(1, 4)),
            }
            for _ in range(40)
        ]
    )
    plan = m.plan_round(workers, jobs, RULES, NOW, Exclusions.none())
    cand, worker_reasons, _ = m.eligible_pairs(workers, jobs, RULES, NOW, Exclusions.none())
    assert np.median(np.bincount(cand.worker)) > 2 * m.PER_WORKER  # so it binds
    assert plan.worker_reasons == worker_reasons
    assert np.any(np.bincount(cand.job) > m.PER_JOB_SLOT * jobs.slots)
    costs = m.cost_terms(workers, jobs, cand, RULES, NOW)["total"]
    best = m.solve(workers, jobs, cand, costs, NOW)
    chosen_jobs = np.array([x.job_row for x in plan.matches])
    hours = np.clip(np.floor((jobs.start_at - NOW) / HOUR), 0, 48)
    assert len(plan.matches) == len(best)
    assert hours[chosen_jobs].sum() == hours[cand.job[best]].sum()
    plan_cost = sum(x.terms["total"] for x in plan.matches)
    assert plan_cost <= costs[best].sum() + 0.02 * abs(costs[best].sum())


def reference_cheapest(row: list[int], level: list[int], limit: list[int]) -> list[bool]:
    """Per pair: its level is within the ``limit[row]`` lowest of its row's levels."""
    keep = []
    for r, lv in zip(row, level, strict=True):
        mine = sorted(x for q, x in zip(row, level, strict=True) if q == r)
        keep.append(len(mine) <= limit[r] or lv <= mine[limit[r] - 1])
    return keep


@pytest.mark.parametrize(("seed", "rows", "limit"), [(0, 3, 2), (1, 5, 1), (2, 4, 6), (3, 6, 3)])
def test_cheapest_keeps_each_rows_lowest_levels_with_ties(seed: int, rows: int, limit: int) -> None:
    """The shortlist's per-row cut keeps each row's ``limit`` lowest levels and ties at the cut,
    whether every row, some or none exceed their limit."""
    rng = np.random.default_rng(seed)
    row = rng.integers(0, rows, 30)
    level = rng.integers(0, 8, 30)
    limits = np.full(rows, limit, np.int64)
    keep, _ = m._cheapest(row, level, 8, limits)
    assert keep.tolist() == reference_cheapest(row.tolist(), level.tolist(), limits.tolist())


def test_exclusions_must_index_the_pools() -> None:
    """An exclusion naming a row outside the pools is refused, not aliased to another pair."""
    with pytest.raises(ValueError, match="exclusion"):
        m.eligible_pairs(workers_pool([{}, {}]), jobs_pool([{}]), RULES, NOW, exclusions([(0, 1)]))


# -- the worker's own longest trip (issue 14) ---------------------------------------------


def test_a_worker_is_never_offered_a_trip_longer_than_their_own_limit() -> None:
    # 0.5 km is 2.6 min of travel, 2 km is 10.4 min: a 5-minute limit keeps only the near job.
    workers = workers_pool([{"max_travel_minutes": 5.0}])
    jobs = jobs_pool([{"at": (2.0, 0.0)}, {"at": (0.5, 0.0)}])
    cand, worker_reasons, job_reasons = m.eligible_pairs(workers, jobs, RULES, NOW,
                                                         Exclusions.none())
    assert pairs_of(cand) == {(0, 1)}
    assert worker_reasons == {}
    # The far job has nobody who would go that far: out of reach, as the search judged it.
    assert job_reasons == {0: "no_worker_in_reach"}


def test_the_own_limit_is_inclusive_and_others_keep_the_markets_reach() -> None:
    exact = RULES.travel_minutes(2.0)
    workers = workers_pool([{"max_travel_minutes": exact}, {"max_travel_minutes": exact - 0.01},
                            {}])
    jobs = jobs_pool([{"at": (2.0, 0.0)}])
    cand, worker_reasons, _ = m.eligible_pairs(workers, jobs, RULES, NOW, Exclusions.none())
    assert pairs_of(cand) == {(0, 0), (2, 0)}
    assert worker_reasons == {1: "no_job_in_reach"}


def test_a_widened_job_does_not_reach_past_a_workers_own_limit() -> None:
    rules = dataclasses.replace(RULES, reach_expand_after_s=60.0, reach_step_every_s=60.0,
                                reach_step_minutes=10.0, max_reach_minutes=30.0)
    # Posted an hour ago (jobs_pool posts a minute ago): widened to 30 minutes, ~5.8 km.
    jobs = dataclasses.replace(jobs_pool([{"at": (4.0, 0.0), "start": NOW + 2 * HOUR}]),
                               posted_at=np.array([NOW - HOUR]))
    workers = workers_pool([{"max_travel_minutes": 15.0}, {}])
    plan = m.plan_round(workers, jobs, rules, NOW, Exclusions.none())
    assert [(x.worker_row, x.job_row) for x in plan.matches] == [(1, 0)]
    assert plan.worker_reasons == {0: "no_job_in_reach"}


def test_taking_rows_keeps_the_own_limits() -> None:
    workers = workers_pool([{"max_travel_minutes": 5.0}, {}, {"max_travel_minutes": 30.0}])
    taken = take_workers(workers, np.array([0, 2], np.int64))
    assert taken.max_travel_minutes is not None
    assert taken.max_travel_minutes.tolist() == [5.0, 30.0]
