"""The simulator plays the shipped rules at the accept: arrival judged again, claims from the
boards, and an auditor that re-checks every accept's eligibility (issue 14)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gigmarket.core.market import Rules
from gigmarket.simulate.audit import Eligibility, audit
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import Day
from gigmarket.simulate.engine import Engine
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.metrics import measure
from gigmarket.simulate.policies import GigmarketRounds, Picks, Snapshot
from tests.simulate.test_simulate import MARKET, _day

LAT = 23.445
COS = math.cos(math.radians(LAT))

#: Everybody says yes after exactly 20 s, nobody cancels.
SLOW_YES = Behaviour(3, accept_intercept=30.0, no_answer_phone=0.0, no_answer_kiosk=0.0,
                     late_cancel=0.0, offer_delay_phone_s=20.0, offer_delay_kiosk_s=20.0,
                     offer_delay_sigma=1e-9)


def _east(km: float) -> float:
    return 113.13 + km / (111.195 * COS)


def _tight_day(far_km: float, near_km: float, spare_s: float) -> Day:
    """A one-slot job posted at t0; worker 0, ``far_km`` away, checks in at t0 with only
    ``spare_s`` to spare to reach the start (no grace); worker 1, ``near_km`` away, a minute
    later."""
    day = _day(3, 2, 1)
    market = dataclasses.replace(MARKET, rules=dataclasses.replace(
        MARKET.rules, arrival_grace_minutes=0.0))
    t0 = day.opens + 3600.0
    travel_s = market.rules.travel_minutes(far_km) * 60.0
    workers = dataclasses.replace(
        day.workers, arrive=np.array([t0, t0 + 60.0]), depart=np.array([t0 + 7200] * 2),
        available_until=np.array([t0 + 86400.0] * 2), lat=np.array([LAT, LAT]),
        lon=np.array([_east(far_km), _east(near_km)]), skills=np.array([1, 1], np.uint64),
        certs=np.array([0, 0], np.uint64), min_hourly_fen=np.array([2400.0, 2400.0]),
        reliability=np.ones(2), key_group=np.zeros(2, np.bool_))
    start = t0 + travel_s + spare_s
    jobs = dataclasses.replace(
        day.jobs, posted=np.array([t0]), start=np.array([start]),
        end=np.array([start + 4 * 3600]), cancel_at=np.array([np.inf]), lat=np.array([LAT]),
        lon=np.array([_east(0.0)]), skills=np.array([1], np.uint64),
        certs_required=np.array([0], np.uint64), hourly_fen=np.array([3000.0]),
        headcount=np.array([1], np.int64))
    return dataclasses.replace(day, market=market, workers=workers, jobs=jobs)


def _kinds(log: list[Event], worker: int) -> list[EventKind]:
    return [e.kind for e in log if e.worker == worker]


def test_a_late_accept_is_refused_and_the_slot_goes_to_one_who_can_make_it() -> None:
    """Offered with 5 s to spare, worker 0 answers yes after 20 s: refused, not burnt, and the
    slot goes to worker 1, who can still arrive."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=5.0)
    engine = Engine(day, SLOW_YES, GigmarketRounds(), claims=False)
    log = engine.run()
    assert _kinds(log, 0)[:3] == [EventKind.CHECKIN, EventKind.OFFER_MADE,
                                  EventKind.ACCEPT_TOO_LATE]
    assert EventKind.ASSIGNED not in _kinds(log, 0)
    assert EventKind.ASSIGNED in _kinds(log, 1)
    m = measure("gigmarket", day, log)
    assert (m.filled, m.late_accepts_refused, m.violations) == (1, 1, 0)


def test_an_accept_with_time_to_spare_stands() -> None:
    """With a minute to spare the same 20 s answer is accepted: the refusal is about arrival."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=60.0)
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    assert EventKind.ASSIGNED in _kinds(log, 0)
    assert measure("gigmarket", day, log).late_accepts_refused == 0


def test_the_auditor_flags_an_accept_that_cannot_arrive() -> None:
    """Doctor the refused accept into an assignment: the auditor's own arithmetic says late."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=5.0)
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    doctored: list[Event] = []
    for e in log:
        if e.kind is EventKind.ACCEPT_TOO_LATE:
            doctored.append(dataclasses.replace(e, kind=EventKind.OFFER_ACCEPTED))
            doctored.append(Event(e.t, EventKind.ASSIGNED, worker=0, job=0, offer=e.offer,
                                  assignment=99, start=float(day.jobs.start[0]),
                                  until=float(day.jobs.end[0]), travel_minutes=5.2))
        elif e.worker == 1 and e.kind is not EventKind.CHECKIN:
            continue  # keep the job within its headcount: only eligibility should object
        else:
            doctored.append(e)
    rules = day.market.rules
    report = audit(doctored, Eligibility(day, rules, lambda j, t: rules.reach_km))
    assert report.as_json()["late_arrival"] == 1
    assert report.total == 1
    # Without the day the auditor checks bookkeeping only, which this log keeps.
    assert audit(doctored).total == 0


def test_the_auditor_checks_skills_certificates_wage_reach_and_hours() -> None:
    """Each eligibility rule, broken one at a time on one assignment event."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=3600.0)
    rules = day.market.rules
    ok = Event(float(day.jobs.posted[0]), EventKind.ASSIGNED, worker=1, job=0, assignment=0)
    check = Eligibility(day, rules, lambda j, t: rules.reach_km)
    assert check.breaks(ok) == []
    J, W = day.jobs, day.workers
    cases = {
        "ineligible_skill": dataclasses.replace(day, jobs=dataclasses.replace(
            J, skills=np.array([3], np.uint64))),
        "ineligible_certificate": dataclasses.replace(day, jobs=dataclasses.replace(
            J, certs_required=np.array([1], np.uint64))),
        "ineligible_wage": dataclasses.replace(day, jobs=dataclasses.replace(
            J, hourly_fen=np.array([2300.0]))),
        "beyond_availability": dataclasses.replace(day, workers=dataclasses.replace(
            W, available_until=np.array([0.0, 0.0]))),
    }
    for name, broken in cases.items():
        assert Eligibility(broken, rules, lambda j, t: rules.reach_km).breaks(ok) == [name]
    assert Eligibility(day, rules, lambda j, t: 0.1).breaks(ok) == ["beyond_reach"]


class _Idle:
    """A round that never offers: only the boards can fill the job."""

    name = "gigmarket"

    def choose(self, snap: Snapshot, rules: Rules) -> Picks:
        return Picks.none()


def test_an_unfilled_job_goes_on_the_boards_and_is_claimed() -> None:
    """After ``claim_after_s`` the job is shown to eligible waiting workers, and a claim fills
    it; without claims nothing does."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=3 * 3600.0)
    eager = dataclasses.replace(SLOW_YES, claim_delay_phone_s=30.0, claim_delay_kiosk_s=30.0,
                                claim_delay_sigma=1e-9)
    log = Engine(day, eager, _Idle(), claims=True).run()
    board = [e for e in log if e.kind is EventKind.ON_BOARD]
    posted = float(day.jobs.posted[0])
    assert len(board) == 1 and board[0].t == posted + day.market.rules.claim_after_s
    assert board[0].count == 2
    won = [e for e in log if e.kind is EventKind.ASSIGNED]
    assert len(won) == 1 and won[0].offer == -1
    m = measure("gigmarket", day, log)
    assert (m.filled, m.claimed, m.violations) == (1, 1, 0)
    assert measure("gigmarket", day, Engine(day, eager, _Idle(), claims=False).run()).filled == 0


def _menu_day() -> Day:
    """One worker at the hall's east, two one-slot jobs 0.5 km and 1.5 km away, hours ahead."""
    day = _day(3, 1, 2)
    t0 = day.opens + 3600.0
    workers = dataclasses.replace(
        day.workers, arrive=np.array([t0]), depart=np.array([t0 + 7200]),
        available_until=np.array([t0 + 86400.0]), lat=np.array([LAT]),
        lon=np.array([_east(0.0)]), skills=np.array([1], np.uint64),
        certs=np.array([0], np.uint64), min_hourly_fen=np.array([2400.0]),
        reliability=np.ones(1), key_group=np.zeros(1, np.bool_))
    start = t0 + 3 * 3600
    jobs = dataclasses.replace(
        day.jobs, posted=np.array([t0, t0]), start=np.array([start, start]),
        end=np.array([start + 4 * 3600] * 2), cancel_at=np.array([np.inf, np.inf]),
        lat=np.array([LAT, LAT]), lon=np.array([_east(1.5), _east(0.5)]),
        skills=np.array([1, 1], np.uint64), certs_required=np.array([0, 0], np.uint64),
        hourly_fen=np.array([3000.0, 3000.0]), headcount=np.array([1, 1], np.int64))
    return dataclasses.replace(day, workers=workers, jobs=jobs)


def test_a_menu_offers_several_jobs_and_taking_one_withdraws_the_others() -> None:
    """With menus of 2 the worker is offered both jobs at once, takes the nearer (the one
    the behaviour model likes best), and the other is withdrawn, not burnt; the auditor
    accepts two pending offers of one menu."""
    day = _menu_day()
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False, menu_size=2).run()
    made = [e for e in log if e.kind is EventKind.OFFER_MADE]
    assert sorted(e.job for e in made) == [0, 1] and len({e.menu for e in made}) == 1
    assert made[0].t == made[1].t and made[0].menu >= 0
    taken = next(e for e in log if e.kind is EventKind.ASSIGNED)
    assert taken.job == 1
    withdrawn = [e for e in log if e.kind is EventKind.OFFER_WITHDRAWN]
    assert [e.job for e in withdrawn] == [0]
    m = measure("gigmarket", day, log)
    assert (m.filled, m.violations, m.offers) == (1, 0, 2)
    # Single offers: one offer, for the job the round chose.
    single = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    assert len([e for e in single if e.kind is EventKind.OFFER_MADE]) == 1


def test_the_auditor_refuses_two_pending_offers_of_different_menus() -> None:
    """Two pending offers are allowed to one worker only within one menu."""
    day = _menu_day()
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False, menu_size=2).run()
    made = [e for e in log if e.kind is EventKind.OFFER_MADE]
    split = [dataclasses.replace(e, menu=e.offer) if e is made[1] else e for e in log]
    assert audit(split).as_json()["two_pending_offers"] == 1
    assert audit(log).total == 0


def _with_rules(day: Day, **rules: float) -> Day:
    market = dataclasses.replace(day.market, rules=dataclasses.replace(day.market.rules,
                                                                       **rules))
    return dataclasses.replace(day, market=market)


def test_a_yes_after_the_offer_ran_out_takes_the_job_while_a_slot_is_free() -> None:
    """Offers last 10 s, worker 0 says yes after 20 s: the offer runs out (the slot no longer
    held), and the late yes takes the job as a claim, before worker 1 arrives."""
    day = _with_rules(_tight_day(far_km=1.0, near_km=0.2, spare_s=600.0),
                      offer_timeout_s=10.0, late_take_s=300.0)
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    assert _kinds(log, 0)[:4] == [EventKind.CHECKIN, EventKind.OFFER_MADE,
                                  EventKind.OFFER_EXPIRED, EventKind.ASSIGNED]
    taken = next(e for e in log if e.kind is EventKind.ASSIGNED)
    assert taken.offer == -1 and taken.t == day.jobs.posted[0] + 20.0
    assert EventKind.ASSIGNED not in _kinds(log, 1)
    m = measure("gigmarket", day, log)
    assert (m.filled, m.claimed, m.violations) == (1, 1, 0)


def test_without_late_takes_every_yes_after_the_timeout_is_lost() -> None:
    """The same two workers, both answering after 20 s, with late takes off: both offers run
    out and the job goes unfilled though both wanted it."""
    day = _with_rules(_tight_day(far_km=1.0, near_km=0.2, spare_s=600.0),
                      offer_timeout_s=10.0, late_take_s=0.0)
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    for w in (0, 1):
        assert EventKind.OFFER_EXPIRED in _kinds(log, w)
        assert EventKind.ASSIGNED not in _kinds(log, w)
    m = measure("gigmarket", day, log)
    assert (m.filled, m.claimed, m.violations) == (0, 0, 0)


def test_a_late_yes_finds_the_slot_held_by_the_next_offer_and_loses_it() -> None:
    """Worker 1 arrives 5 s after the offer ran out and is offered the slot at once: worker 0's
    late yes at 20 s finds it held and loses; worker 1's own late yes takes it once their offer
    has run out in turn; the audit sees no overcommitment."""
    day = _tight_day(far_km=1.0, near_km=0.2, spare_s=600.0)
    workers = dataclasses.replace(day.workers, arrive=np.array([day.workers.arrive[0],
                                                                day.workers.arrive[0] + 15.0]))
    day = _with_rules(dataclasses.replace(day, workers=workers), offer_timeout_s=10.0,
                      late_take_s=300.0)
    log = Engine(day, SLOW_YES, GigmarketRounds(), claims=False).run()
    assert EventKind.CLAIM_LOST in _kinds(log, 0)
    assert EventKind.ASSIGNED not in _kinds(log, 0)
    assert EventKind.ASSIGNED in _kinds(log, 1)
    assert measure("gigmarket", day, log).violations == 0
