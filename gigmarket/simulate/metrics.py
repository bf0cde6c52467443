"""The figures a policy is judged by, computed from its event log (never from engine state).

- **slots / filled / fill rate** — slots of jobs not cancelled by their employer, and how many
  of them hold a kept assignment at the end of the day (a worker's late cancellation frees the
  slot again; a no-show still counts as filled by dispatch and is reported apart).
- **filled within the circle** — kept assignments whose travel is within the market's service
  circle. Policies without the circle (``policies.POLICY_REACH``) may fill more slots than the
  circle's hindsight bound, but never more than it *within* the circle.
- **median time-to-fill** — minutes from a job's posting to each kept assignment.
- **mean / p90 travel** — the kept assignments' estimated travel minutes.
- **offers per fill / acceptance** — offers made per kept assignment and the share accepted.
  Under first-come claim an "offer" is a worker shown a broadcast job, and acceptance is the
  share of those who tried to claim it (winners and losers of the race).
- **key-group placement** — share of checked-in key-group workers holding a kept assignment,
  beside the same share for everyone (the "general" rate) and for the others.
- **Gini of earnings** — over every worker who checked in (zeros included), pay from
  assignments actually worked (checked in). It mostly counts who got any work, so the
  fairness figures below split it (issue 14):
- **share paid** — share of checked-in workers who worked a paid assignment;
- **Gini among the paid** — the same Gini over those workers only;
- **wait to a first offer** — minutes from check-in to the worker's first offer (under
  first-come claim: their first claim, won or lost), median and p90 over the workers who got
  one; ``offered_share`` says how many did;
- **placed by noon** — share of checked-in workers holding a kept assignment made before 12:00.
- **claimed / late accepts refused** — kept assignments made by claim, and accepts refused at
  the moment of the accept because the worker could no longer arrive by the start.
- **violations** — the auditor's count (``audit.py``): broken invariants, and eligibility
  broken at the moment of an accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gigmarket.core.reach import left_s, reach_km
from gigmarket.simulate.audit import Eligibility, ReachAt, audit
from gigmarket.simulate.day import DAY_OPENS_H, Day
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.policies import (
    POLICY_REACH,
    WIDENING,
    Reach,
    circle_travel_minutes,
    rules_for,
)

HOURS: tuple[int, ...] = tuple(range(5, 23))


@dataclass(frozen=True, slots=True)
class PolicyMetrics:
    policy: str
    #: ``policies.Reach``: ``circle`` or ``town``.
    reach: str
    slots: int
    filled: int
    fill_rate: float
    filled_in_circle: int
    worked: int
    no_shows: int
    median_time_to_fill_min: float | None
    mean_travel_min: float | None
    p90_travel_min: float | None
    offers: int | None
    offers_per_fill: float | None
    acceptance_rate: float | None
    key_group_rate: float
    others_rate: float
    general_rate: float
    gini_earnings: float
    share_paid: float
    gini_paid: float
    offered_share: float
    median_wait_first_offer_min: float | None
    p90_wait_first_offer_min: float | None
    placed_by_noon: float
    #: Kept assignments made by claim (first-come, or the boards under gigmarket).
    claimed: int
    #: Accepts refused because the worker could no longer arrive by the start (issue 14).
    late_accepts_refused: int
    violations: int
    violation_counts: dict[str, int]
    #: Kept assignments made by the end of each hour in ``HOURS`` (local time).
    filled_by_hour: list[int]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float):
                out[k] = round(v, 6)
        return out


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 all equal, towards 1 all to one person."""
    x = np.sort(np.asarray(values, np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2 * np.sum(ranks * x) / (n * x.sum()) - (n + 1) / n)


def measure(policy: str, day: Day, log: Sequence[Event],
            reach: ReachAt | None = None) -> PolicyMetrics:
    """The figures of ``policy``'s day; ``reach`` is the reach it had per job and moment
    (default: its rules' fixed reach), for the auditor's eligibility check."""
    headcount: dict[int, int] = {}
    cancelled_jobs: set[int] = set()
    assigned: dict[int, Event] = {}
    dropped: set[int] = set()
    worked: set[int] = set()
    no_show: set[int] = set()
    checked_in: dict[int, float] = {}
    first_offer: dict[int, float] = {}
    offers = accepted = notices = claim_tries = too_late = 0
    for e in log:
        k = e.kind
        if k is EventKind.JOB_POSTED:
            headcount[e.job] = e.count
        elif k is EventKind.JOB_CANCELLED:
            cancelled_jobs.add(e.job)
        elif k is EventKind.CHECKIN:
            checked_in.setdefault(e.worker, e.t)
        elif k is EventKind.OFFER_MADE:
            offers += 1
            first_offer.setdefault(e.worker, e.t)
        elif k is EventKind.OFFER_ACCEPTED:
            accepted += 1
        elif k is EventKind.ACCEPT_TOO_LATE:
            too_late += 1
        elif k is EventKind.BROADCAST:
            notices += e.count
        elif k is EventKind.CLAIM_LOST:
            claim_tries += 1
            first_offer.setdefault(e.worker, e.t)
        elif k is EventKind.ASSIGNED:
            assigned[e.assignment] = e
            # A claim (or hindsight's pairing) is the worker's first chance at the job.
            first_offer.setdefault(e.worker, e.t)
            if e.offer < 0:
                claim_tries += 1
        elif k in (EventKind.CANCELLED_BY_WORKER, EventKind.CANCELLED_BY_EMPLOYER):
            dropped.add(e.assignment)
        elif k is EventKind.CHECKED_IN:
            worked.add(e.assignment)
        elif k is EventKind.NO_SHOW:
            no_show.add(e.assignment)

    kept = [e for a, e in sorted(assigned.items()) if a not in dropped]
    slots = sum(c for j, c in headcount.items() if j not in cancelled_jobs)
    filled = len(kept)
    travel = np.array([e.travel_minutes for e in kept])
    in_circle = int((travel <= circle_travel_minutes(day.market.rules)).sum()) if filled else 0
    to_fill = np.array([(e.t - day.jobs.posted[e.job]) / 60 for e in kept])

    W = day.workers
    placed = np.zeros(len(W), np.bool_)
    earned = np.zeros(len(W))
    for e in kept:
        placed[e.worker] = True
        if e.assignment in worked:
            earned[e.worker] += e.pay_fen
    present = np.zeros(len(W), np.bool_)
    present[sorted(checked_in)] = True
    paid = present & (earned > 0)
    waits = np.array([(t - checked_in[w]) / 60 for w, t in first_offer.items()
                      if w in checked_in])
    noon = day.midnight + 12 * 3600
    by_noon = np.zeros(len(W), np.bool_)
    for e in kept:
        if e.t < noon:
            by_noon[e.worker] = True
    kg = present & W.key_group
    others = present & ~W.key_group

    def rate(mask: np.ndarray) -> float:
        return float(placed[mask].mean()) if mask.any() else 0.0

    if notices:
        n_offers: int | None = notices
        acceptance: float | None = claim_tries / notices
    elif offers:
        n_offers, acceptance = offers, accepted / offers
    else:
        n_offers, acceptance = None, None
    midnight = day.opens - DAY_OPENS_H * 3600
    times = np.array([e.t for e in kept])
    rules = rules_for(POLICY_REACH.get(policy, Reach.CIRCLE), day.market,
                      widening=policy in WIDENING)
    posted = day.jobs.posted

    def reach_at(job: int, t: float) -> float:
        return float(reach_km(t - posted[job], rules,
                              left=left_s(t, float(day.jobs.start[job]), rules)))

    report = audit(log, Eligibility(day, rules, reach or reach_at))
    return PolicyMetrics(
        policy=policy,
        reach=str(POLICY_REACH.get(policy, "circle")),
        slots=slots,
        filled=filled,
        fill_rate=filled / slots if slots else 0.0,
        filled_in_circle=in_circle,
        worked=len([e for e in kept if e.assignment in worked]),
        no_shows=len([e for e in kept if e.assignment in no_show]),
        median_time_to_fill_min=float(np.median(to_fill)) if filled else None,
        mean_travel_min=float(travel.mean()) if filled else None,
        p90_travel_min=float(np.percentile(travel, 90)) if filled else None,
        offers=n_offers,
        offers_per_fill=n_offers / filled if n_offers is not None and filled else None,
        acceptance_rate=acceptance,
        key_group_rate=rate(kg),
        others_rate=rate(others),
        general_rate=rate(present),
        gini_earnings=gini(earned[present]),
        share_paid=float(paid.sum() / present.sum()) if present.any() else 0.0,
        gini_paid=gini(earned[paid]),
        offered_share=len(waits) / int(present.sum()) if present.any() else 0.0,
        median_wait_first_offer_min=float(np.median(waits)) if len(waits) else None,
        p90_wait_first_offer_min=float(np.percentile(waits, 90)) if len(waits) else None,
        placed_by_noon=float(by_noon[present].mean()) if present.any() else 0.0,
        claimed=0 if policy.startswith("hindsight") else sum(1 for e in kept if e.offer < 0),
        late_accepts_refused=too_late,
        violations=report.total,
        violation_counts=report.as_json(),
        filled_by_hour=[int((times < midnight + (h + 1) * 3600).sum()) for h in HOURS],
    )
