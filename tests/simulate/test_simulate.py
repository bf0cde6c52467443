"""The market-day simulator: determinism, invariants, the hindsight bound, the auditor."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from typing import Any

import numpy as np
import pytest

from gigmarket.core import matching
from gigmarket.core.market import Market, Skill, parse_market, parse_skills
from gigmarket.simulate.audit import audit
from gigmarket.simulate.behaviour import Behaviour, Stream, pair_uniform
from gigmarket.simulate.command import main
from gigmarket.simulate.compare import compare, online_policy
from gigmarket.simulate.day import Day, DayType, generate_day
from gigmarket.simulate.engine import Engine
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.hindsight import best_assignment, hindsight_log, usable_pairs
from gigmarket.simulate.metrics import gini, measure
from gigmarket.simulate.policies import (
    POLICY_NAMES,
    POLICY_REACH,
    Reach,
    circle_travel_minutes,
    rules_for,
)
from gigmarket.simulate.report import SCHEMA_VERSION, as_json, page, table

ONLINE = [n for n in POLICY_NAMES if not n.startswith("hindsight")]
#: The bound each reach's policies are held to.
BOUND = {Reach.CIRCLE: "hindsight", Reach.TOWN: "hindsight_town"}


def _catalogue() -> tuple[dict[str, Skill], Market]:
    """A compact two-station market where most pairs are within reach, three skills."""
    skills = parse_skills({"skill": [
        {"code": "loading", "zh": "搬运装卸", "en": "Loading", "icon": "📦"},
        {"code": "cleaning", "zh": "保洁", "en": "Cleaning", "icon": "🧹"},
        {"code": "electrician", "zh": "电工", "en": "Electrician", "icon": "⚡",
         "certificate_required": True},
    ]})
    market = parse_market({
        "id": "testtown", "name": "测试镇零工市场", "name_en": "Test Town",
        "centre": {"lat": 23.46, "lon": 113.15},
        "bounds": {"south": 23.43, "west": 113.12, "north": 23.49, "east": 113.18},
        "station": [
            {"id": "hall", "name": "大厅", "lat": 23.46, "lon": 113.15},
            {"id": "east", "name": "东站", "lat": 23.462, "lon": 113.158},
        ],
        "rules": {"min_daily_wage_fen": 18960},
    }, skills)
    return skills, market


SKILLS, MARKET = _catalogue()


def _day(seed: int, workers: int, slots: int) -> Day:
    return generate_day(MARKET, SKILLS, seed=seed, workers=workers, slots=slots)


def _deterministic(report: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in report.items() if k != "runtime"}, sort_keys=True)


def test_same_seed_same_metrics() -> None:
    """Two runs of one seed give byte-identical metrics; another seed gives other figures."""
    day = _day(7, 80, 60)
    first = compare(day)
    again = compare(_day(7, 80, 60))
    other = compare(_day(8, 80, 60))
    a = _deterministic(as_json(day, first.metrics, first.runtime))
    assert a == _deterministic(as_json(day, again.metrics, again.runtime))
    assert a != _deterministic(as_json(day, other.metrics, other.runtime))
    assert first.logs["gigmarket"] == again.logs["gigmarket"]


@pytest.fixture(scope="module")
def small_day_runs() -> Any:
    return compare(_day(10, 250, 200))


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_policy_keeps_invariants(small_day_runs: Any, policy: str) -> None:
    """Each policy fills slots on a small day and the auditor finds no broken invariant."""
    m = small_day_runs.metrics[policy]
    assert m.filled > 0
    assert m.violations == 0, audit(small_day_runs.logs[policy]).examples
    assert m.filled <= m.slots


@pytest.mark.parametrize("policy", ONLINE)
def test_offer_policies_make_offers_and_see_declines(small_day_runs: Any, policy: str) -> None:
    """The day exercises the hard paths: offers or broadcasts, declines, and cancellations."""
    kinds = {e.kind for e in small_day_runs.logs[policy]}
    if policy.startswith("first_come"):
        assert {EventKind.BROADCAST, EventKind.CLAIM_LOST} <= kinds
    else:
        assert {EventKind.OFFER_DECLINED, EventKind.OFFER_EXPIRED} <= kinds
    assert EventKind.JOB_CANCELLED in kinds


def test_gigmarket_policy_runs_the_servers_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gigmarket policy calls core.matching.plan_round: no second matching."""
    calls = []
    real = matching.plan_round

    def spy(*args: Any) -> Any:
        calls.append(args[3])
        return real(*args)

    monkeypatch.setattr(matching, "plan_round", spy)
    run = compare(_day(5, 40, 30), ["gigmarket"])
    assert calls and run.metrics["gigmarket"].filled > 0


def _brute_force(workers: list[int], jobs: list[int], travel: list[float],
                 headcount: dict[int, int]) -> tuple[int, float]:
    """Most pairs usable at once (a worker once, a job up to headcount), then least travel."""
    options: dict[int, list[int]] = {}
    for k, w in enumerate(workers):
        options.setdefault(w, []).append(k)
    best = (0, 0.0)
    for choice in itertools.product(*[[-1, *ks] for ks in options.values()]):
        picked = [k for k in choice if k >= 0]
        per_job: dict[int, int] = {}
        for k in picked:
            per_job[jobs[k]] = per_job.get(jobs[k], 0) + 1
        if any(n > headcount[j] for j, n in per_job.items()):
            continue
        cost = sum(travel[k] for k in picked)
        if len(picked) > best[0] or (len(picked) == best[0] and cost < best[1] - 1e-9):
            best = (len(picked), cost)
    return best


TINY_SEEDS = range(100, 120)


def _tiny(seed: int) -> Day:
    """8 workers, about 3 jobs and 6 slots."""
    return _day(seed, 8, 6)


@pytest.mark.parametrize("seed", TINY_SEEDS)
def test_hindsight_is_the_brute_force_optimum_and_bounds_its_policies(seed: int) -> None:
    """On tiny days each reach's flow equals brute force and bounds the policies of that reach;
    the circle's bound also caps every policy's fills within the circle."""
    day = _tiny(seed)
    behaviour = Behaviour(day.seed)
    heads = {j: int(day.jobs.headcount[j]) for j in range(len(day.jobs))}
    run = compare(day)
    for reach, bound in BOUND.items():
        pairs = usable_pairs(day, behaviour, reach)
        chosen = best_assignment(pairs, day.jobs.headcount)
        count, travel = _brute_force(pairs.worker.tolist(), pairs.job.tolist(),
                                     pairs.travel_minutes.tolist(), heads)
        assert len(chosen) == count, reach
        assert math.isclose(float(pairs.travel_minutes[chosen].sum()), travel,
                            abs_tol=0.01 * count)
        assert run.metrics[bound].filled == count
        for name in ONLINE:
            if POLICY_REACH[name] is reach:
                assert run.metrics[name].filled <= count, name
    circle_best = run.metrics["hindsight"].filled
    assert run.metrics["hindsight_town"].filled >= circle_best
    for name, m in run.metrics.items():
        assert m.filled_in_circle <= circle_best, name


def test_tiny_days_are_not_trivial() -> None:
    """The tiny days fill several slots, some pairs lie beyond the circle, and policies of
    each reach fall short of their bound on some day (else the bound test proves nothing)."""
    best: dict[str, list[int]] = {"hindsight": [], "hindsight_town": []}
    short = {reach: False for reach in BOUND}
    for seed in TINY_SEEDS:
        run = compare(_tiny(seed))
        for bound in best:
            best[bound].append(run.metrics[bound].filled)
        for name in ONLINE:
            reach = POLICY_REACH[name]
            short[reach] |= run.metrics[name].filled < run.metrics[BOUND[reach]].filled
    assert sum(best["hindsight"]) >= 30 and max(best["hindsight"]) >= 4
    assert sum(best["hindsight_town"]) > sum(best["hindsight"])
    assert all(short.values()), short


def _one_pair_day(distance_km: float) -> Day:
    """One worker and a one-slot job of the same skill, ``distance_km`` apart, hours to spare."""
    day = _day(3, 1, 1)
    h = 3600.0
    posted, lat = day.opens + 2 * h, 23.435
    cos = math.cos(math.radians(lat))
    workers = dataclasses.replace(
        day.workers, arrive=np.array([day.opens + h]), depart=np.array([day.opens + 12 * h]),
        available_until=np.array([day.opens + 16 * h]), lat=np.array([lat]),
        lon=np.array([113.125]), skills=np.array([1], np.uint64),
        certs=np.array([0], np.uint64), min_hourly_fen=np.array([2400.0]))
    jobs = dataclasses.replace(
        day.jobs, posted=np.array([posted]), start=np.array([posted + 3 * h]),
        end=np.array([posted + 7 * h]), cancel_at=np.array([np.inf]), lat=np.array([lat]),
        lon=np.array([113.125 + distance_km / (111.195 * cos)]),
        skills=np.array([1], np.uint64), certs_required=np.array([0], np.uint64),
        hourly_fen=np.array([3000.0]), headcount=np.array([1], np.int64))
    return dataclasses.replace(day, workers=workers, jobs=jobs)


#: Everyone says yes at once: the outcome depends on reach alone.
_EAGER = Behaviour(3, accept_intercept=30.0, no_answer_phone=0.0, no_answer_kiosk=0.0,
                   late_cancel=0.0)


@pytest.mark.parametrize(("distance_km", "policy", "chosen"), [
    (5.0, "gigmarket", False),
    (5.0, "greedy", False),
    (5.0, "first_come", True),
    (5.0, "lottery", True),
    (5.0, "first_come_circle", False),
    (5.0, "lottery_circle", False),
    (5.0, "hindsight", False),
    (5.0, "hindsight_town", True),
    (1.0, "gigmarket", True),
    (1.0, "greedy", True),
    (1.0, "first_come", True),
    (1.0, "lottery", True),
    (1.0, "first_come_circle", True),
    (1.0, "lottery_circle", True),
    (1.0, "hindsight", True),
    (1.0, "hindsight_town", True),
])
def test_reach_outside_the_circle(distance_km: float, policy: str, chosen: bool) -> None:
    """A worker beyond the service circle can be chosen by first-come and the lottery (town
    reach), never by gigmarket or greedy; within it, by every policy."""
    day = _one_pair_day(distance_km)
    circle = MARKET.rules.reach_km
    assert (distance_km > circle) == (distance_km == 5.0)
    if policy.startswith("hindsight"):
        log = hindsight_log(day, _EAGER, POLICY_REACH[policy])
    else:
        log = Engine(day, _EAGER, online_policy(policy, day, _EAGER)).run()
    m = measure(policy, day, log)
    assert m.filled == int(chosen)
    assert m.filled_in_circle == int(chosen and distance_km < circle)
    assert m.violations == 0


def test_town_reach_keeps_every_other_rule() -> None:
    """Town reach lifts only the travel limit, out to the market's bounds, nothing else; the
    baselines play without gigmarket's own late takes (and expanding reach)."""
    town = rules_for(Reach.TOWN, MARKET)
    assert rules_for(Reach.CIRCLE, MARKET, widening=True) is MARKET.rules
    assert rules_for(Reach.CIRCLE, MARKET) == dataclasses.replace(MARKET.rules, late_take_s=0.0)
    assert town.max_travel_minutes is None and town.late_take_s == 0.0
    b = MARKET.bounds
    cos = math.cos(math.radians(b.north))
    assert town.reach_km >= math.dist((0, 0), ((b.north - b.south) * 111.195,
                                               (b.east - b.west) * 111.195 * cos))
    same = {f.name for f in dataclasses.fields(town)} - {"max_travel_minutes", "max_distance_km",
                                                         "late_take_s"}
    assert all(getattr(town, k) == getattr(MARKET.rules, k) for k in same)
    assert circle_travel_minutes(MARKET.rules) == pytest.approx(15.0)


def _e(t: float, kind: EventKind, **kw: Any) -> Event:
    return Event(t, kind, **kw)


_POST1 = _e(0, EventKind.JOB_POSTED, job=0, count=1, start=100, until=200)
_POST2 = _e(0, EventKind.JOB_POSTED, job=1, count=1, start=150, until=250)

DOCTORED: list[tuple[str, list[Event]]] = [
    ("overfilled", [
        _POST1,
        _e(1, EventKind.ASSIGNED, worker=0, job=0, assignment=0, start=100, until=200),
        _e(2, EventKind.ASSIGNED, worker=1, job=0, assignment=1, start=100, until=200),
    ]),
    ("overcommitted", [
        _POST1,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(1, EventKind.OFFER_MADE, worker=1, job=0, offer=1, until=46),
    ]),
    ("double_booked", [
        _POST1, _POST2,
        _e(1, EventKind.ASSIGNED, worker=0, job=0, assignment=0, start=100, until=200),
        _e(2, EventKind.ASSIGNED, worker=0, job=1, assignment=1, start=150, until=250),
    ]),
    ("two_pending_offers", [
        _POST1, _POST2,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(2, EventKind.OFFER_MADE, worker=0, job=1, offer=1, until=47),
    ]),
    ("accepted_after_expiry", [
        _POST1,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(50, EventKind.OFFER_ACCEPTED, worker=0, job=0, offer=0),
        _e(50, EventKind.ASSIGNED, worker=0, job=0, offer=0, assignment=0, start=100, until=200),
    ]),
    ("accepted_after_expiry", [
        _POST1,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(46, EventKind.OFFER_EXPIRED, worker=0, job=0, offer=0),
        _e(46, EventKind.OFFER_ACCEPTED, worker=0, job=0, offer=0),
    ]),
    ("offered_again", [
        _POST1,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(5, EventKind.OFFER_DECLINED, worker=0, job=0, offer=0),
        _e(9, EventKind.OFFER_MADE, worker=0, job=0, offer=1, until=54),
    ]),
    ("assigned_without_accept", [
        _POST1,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(5, EventKind.ASSIGNED, worker=0, job=0, offer=0, assignment=0, start=100, until=200),
    ]),
    ("out_of_order", [
        _POST1,
        _e(9, EventKind.CHECKIN, worker=0),
        _e(3, EventKind.CHECKIN, worker=1),
    ]),
]


@pytest.mark.parametrize(("violation", "log"), DOCTORED)
def test_auditor_catches_a_doctored_log(violation: str, log: list[Event]) -> None:
    """Each broken invariant, written into a log by hand, is counted under its name."""
    report = audit(log)
    assert report.counts[violation] >= 1
    assert report.total == sum(report.counts.values())


def test_auditor_passes_the_same_logs_done_right() -> None:
    """The legal counterparts of the doctored logs raise nothing."""
    log = [
        _POST1, _POST2,
        _e(1, EventKind.OFFER_MADE, worker=0, job=0, offer=0, until=46),
        _e(5, EventKind.OFFER_DECLINED, worker=0, job=0, offer=0),
        _e(6, EventKind.OFFER_MADE, worker=1, job=0, offer=1, until=51),
        _e(9, EventKind.OFFER_ACCEPTED, worker=1, job=0, offer=1),
        _e(9, EventKind.ASSIGNED, worker=1, job=0, offer=1, assignment=0, start=100, until=200),
        _e(10, EventKind.CANCELLED_BY_WORKER, worker=1, job=0, assignment=0),
        _e(12, EventKind.ASSIGNED, worker=0, job=0, assignment=1, start=100, until=200),
        _e(13, EventKind.ASSIGNED, worker=1, job=1, assignment=2, start=150, until=250),
    ]
    assert audit(log).total == 0


def test_auditor_catches_an_overfill_spliced_into_a_real_log(small_day_runs: Any) -> None:
    """Replaying an engine log with one assignment duplicated onto a full job is flagged."""
    log = list(small_day_runs.logs["gigmarket"])
    heads = {e.job: e.count for e in log if e.kind is EventKind.JOB_POSTED}
    dropped = {e.assignment for e in log if e.kind in (EventKind.CANCELLED_BY_WORKER,
                                                        EventKind.CANCELLED_BY_EMPLOYER)}
    kept: dict[int, list[int]] = {}
    for k, e in enumerate(log):
        if e.kind is EventKind.ASSIGNED and e.assignment not in dropped:
            kept.setdefault(e.job, []).append(k)
    full = next(j for j, rows in kept.items() if len(rows) == heads[j])
    last = log[kept[full][-1]]
    extra = Event(last.t, EventKind.ASSIGNED, worker=10_000, job=full, assignment=10_000,
                  start=last.start, until=last.until)
    log.insert(kept[full][-1] + 1, extra)
    assert audit(log).counts["overfilled"] == 1


@pytest.mark.parametrize(("values", "expected"), [
    ([5, 5, 5, 5], 0.0),
    ([0, 0, 0, 12], 0.75),
    ([0, 0, 0, 0], 0.0),
    ([1, 2, 3, 4], 0.25),
])
def test_gini(values: list[float], expected: float) -> None:
    """Gini is 0 for equal earnings and (n-1)/n when one person earns everything."""
    assert math.isclose(gini(values), expected, abs_tol=1e-12)


@pytest.mark.parametrize(("travel", "ratio", "more_travel", "more_pay"), [
    (2.0, 1.0, 10.0, 1.3),
    (8.0, 1.1, 14.0, 1.5),
])
def test_acceptance_falls_with_travel_and_rises_with_pay(
    travel: float, ratio: float, more_travel: float, more_pay: float
) -> None:
    """The shared behaviour model: farther is less likely, better paid more likely."""
    b = Behaviour(1)
    p = b.accept_probability(np.array([travel, more_travel, travel]),
                             np.array([ratio, ratio, more_pay]))
    assert p[1] < p[0] < p[2]


def test_pair_draws_are_fixed_per_pair_and_stream() -> None:
    """A pair's draw does not depend on which other pairs are drawn with it."""
    w, j = np.array([3, 4, 5]), np.array([7, 7, 9])
    alone = pair_uniform(11, w[1:2], j[1:2], Stream.ACCEPT)
    together = pair_uniform(11, w, j, Stream.ACCEPT)
    assert alone[0] == together[1]
    assert not np.array_equal(together, pair_uniform(11, w, j, Stream.DELAY))
    assert ((together > 0) & (together < 1)).all()


def test_command_writes_table_json_and_html(tmp_path: Any, capsys: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``simulate`` prints the table and writes report.json and a self-contained report.html."""
    config = tmp_path / "config"
    (config / "markets").mkdir(parents=True)
    (config / "skills.toml").write_text(
        '[[skill]]\ncode = "loading"\nzh = "搬运装卸"\nen = "Loading"\nicon = "📦"\n'
        '[[skill]]\ncode = "cleaning"\nzh = "保洁"\nen = "Cleaning"\nicon = "🧹"\n',
        encoding="utf-8")
    (config / "markets" / "t.toml").write_text(
        'id = "t"\nname = "测试"\ncentre = { lat = 23.46, lon = 113.15 }\n'
        "bounds = { south = 23.43, west = 113.12, north = 23.49, east = 113.18 }\n"
        '[[station]]\nid = "hall"\nname = "大厅"\nlat = 23.46\nlon = 113.15\n',
        encoding="utf-8")
    out = tmp_path / "out"
    code = main(["--market", "t", "--config", str(config), "--workers", "60", "--slots", "40",
                 "--out", str(out), "--no-progress", "--seed", "4", "--days", "all"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gigmarket" in printed and "hindsight" in printed
    assert all(f"== {kind} day ==" in printed for kind in DayType)
    assert "Across days:" in printed and "rush/lottery_circle" in printed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == SCHEMA_VERSION
    assert [d["day_type"] for d in report["days"]] == [k.value for k in DayType]
    for entry in report["days"]:
        assert set(entry["policies"]) == set(POLICY_NAMES)
        for m in entry["policies"].values():
            assert {"share_paid", "gini_paid", "median_wait_first_offer_min",
                    "p90_wait_first_offer_min", "placed_by_noon", "key_group_rate",
                    "general_rate"} <= set(m)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and "http" not in html.split("</style>")[1]
    assert (out / "report-rush.html").exists()
    assert "有收入者基尼" in html and "Key − all" in html


def test_unknown_day_type_is_refused_by_name(capsys: Any) -> None:
    """``--days`` names a bad day type in its error, and lists the good ones."""
    with pytest.raises(SystemExit):
        main(["--days", "normal,stormy"])
    err = capsys.readouterr().err
    assert "'stormy'" in err and "rush" in err


def test_day_types_scale_the_day() -> None:
    """Rainy halves the workers, rush triples the slots, outskirts spreads the jobs wider;
    each from the same seed as the normal day."""
    normal = generate_day(MARKET, SKILLS, seed=3, workers=200, slots=150)
    rainy = generate_day(MARKET, SKILLS, seed=3, workers=200, slots=150, kind="rainy")
    rush = generate_day(MARKET, SKILLS, seed=3, workers=200, slots=150, kind=DayType.RUSH)
    far = generate_day(MARKET, SKILLS, seed=3, workers=200, slots=150, kind="outskirts")
    assert (len(normal.workers), len(rainy.workers), len(rush.workers)) == (200, 100, 200)
    assert int(normal.jobs.headcount.sum()) == 150 == int(rainy.jobs.headcount.sum())
    assert int(rush.jobs.headcount.sum()) == 450
    assert (normal.kind, rainy.kind, rush.kind, far.kind) == ("normal", "rainy", "rush",
                                                              "outskirts")

    def spread(day: Day) -> float:
        return float(np.std(day.jobs.lat) + np.std(day.jobs.lon))

    assert spread(far) > 1.3 * spread(normal)


def test_fairness_figures_from_a_hand_made_log() -> None:
    """Share paid, Gini among the paid, wait to a first offer and placement by noon, on a
    log small enough to work out by hand."""
    day = _day(2, 4, 3)
    noon = day.midnight + 12 * 3600
    job = 0
    start, until = float(day.jobs.start[job]), float(day.jobs.end[job])
    log = [
        Event(noon - 7200, EventKind.CHECKIN, worker=0),
        Event(noon - 7200, EventKind.CHECKIN, worker=1),
        Event(noon - 3600, EventKind.CHECKIN, worker=2),
        Event(noon - 7200, EventKind.JOB_POSTED, job=job, count=9, start=start, until=until),
        Event(noon - 6600, EventKind.OFFER_MADE, worker=0, job=job, offer=0, until=noon),
        Event(noon - 6500, EventKind.OFFER_ACCEPTED, worker=0, job=job, offer=0),
        Event(noon - 6500, EventKind.ASSIGNED, worker=0, job=job, offer=0, assignment=0,
              start=start, until=until, travel_minutes=3.0, pay_fen=100.0),
        Event(noon + 600, EventKind.OFFER_MADE, worker=2, job=job, offer=1, until=noon + 700),
        Event(noon + 650, EventKind.OFFER_ACCEPTED, worker=2, job=job, offer=1),
        Event(noon + 650, EventKind.ASSIGNED, worker=2, job=job, offer=1, assignment=1,
              start=start, until=until, travel_minutes=3.0, pay_fen=300.0),
        Event(start, EventKind.CHECKED_IN, worker=0, job=job, assignment=0),
        Event(start, EventKind.CHECKED_IN, worker=2, job=job, assignment=1),
    ]
    m = measure("gigmarket", day, log)
    assert m.share_paid == pytest.approx(2 / 3)
    assert m.gini_paid == pytest.approx(gini([100.0, 300.0]))
    assert m.gini_paid < m.gini_earnings
    # Waits of 10 and 70 minutes; worker 1 never had an offer.
    assert m.offered_share == pytest.approx(2 / 3)
    assert m.median_wait_first_offer_min == pytest.approx(40.0)
    assert m.p90_wait_first_offer_min == pytest.approx(64.0)
    assert m.placed_by_noon == pytest.approx(1 / 3)


def test_report_renders_a_single_policy_run() -> None:
    """A run of one policy still renders; targets needing absent policies are not judged."""
    day = _day(9, 40, 30)
    run = compare(day, ["greedy"])
    assert "greedy" in table(run.metrics)
    assert "未评估" in page(day, run.metrics)
