"""An independent auditor: replays an event log and counts broken invariants (SPEC 4).

It keeps its own books from the log alone — never the engine's counters — so an engine bug
shows up here rather than being reported as success. Checked, at every event:

- ``overfilled`` — more kept assignments on a job than its headcount;
- ``overcommitted`` — a job's pending offers plus kept assignments above its headcount;
- ``double_booked`` — a worker in two kept assignments whose hours overlap;
- ``two_pending_offers`` — an offer made to a worker already holding a pending one (offers
  of one menu, made together, are one proposal);
- ``accepted_after_expiry`` — an accept later than the offer's ``expires_at``, or of an offer
  that is no longer pending;
- ``offered_again`` — a pair offered after it was declined or let expire;
- ``assigned_without_accept`` — an assignment from an offer that was not just accepted by that
  worker for that job;
- ``out_of_order`` — time running backwards in the log.

Given the day and the policy's rules (:class:`Eligibility`), it also re-checks every
assignment's eligibility at the moment of its accept (or claim), from the day's data and its
own arithmetic (great-circle distance, not the matcher's flat projection), issue 14:

- ``ineligible_skill`` / ``ineligible_certificate`` — a required skill or certificate missing;
- ``ineligible_wage`` — the job pays less per hour than the worker's minimum;
- ``beyond_reach`` — the job lies beyond the reach the policy had for it at that moment;
- ``late_arrival`` — setting off at the accept, the worker reaches the job after its start
  plus grace;
- ``beyond_availability`` — the job ends after the worker's ``available_until``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gigmarket.core.geo import haversine_km
from gigmarket.core.market import Rules
from gigmarket.simulate.day import Day
from gigmarket.simulate.events import Event, EventKind

VIOLATIONS = (
    "overfilled",
    "overcommitted",
    "double_booked",
    "two_pending_offers",
    "accepted_after_expiry",
    "offered_again",
    "assigned_without_accept",
    "out_of_order",
    "ineligible_skill",
    "ineligible_certificate",
    "ineligible_wage",
    "beyond_reach",
    "late_arrival",
    "beyond_availability",
)

#: Slack for comparing the auditor's great-circle arithmetic with the matcher's flat-earth
#: one (about 1e-6 relative): far below any real shortfall (the late accepts issue 14 found
#: were 0.3 s and more short).
_KM_SLACK = 1e-5
_SECONDS_SLACK = 0.01

#: The reach a policy had for a job at a moment: ``(job row, t) -> km``.
ReachAt = Callable[[int, float], float]


@dataclass(frozen=True, slots=True)
class Eligibility:
    """What the auditor needs to judge an accept: the day, the rules and the reach."""

    day: Day
    rules: Rules
    reach_km: ReachAt

    def breaks(self, e: Event) -> list[str]:
        """The rules assignment event ``e`` breaks at its own moment."""
        W, J = self.day.workers, self.day.jobs
        w, j = e.worker, e.job
        out = []
        if int(J.skills[j]) & ~int(W.skills[w]):
            out.append("ineligible_skill")
        if int(J.certs_required[j]) & ~int(W.certs[w]):
            out.append("ineligible_certificate")
        pay = float(J.hourly_fen[j])
        if not math.isnan(pay) and pay < float(W.min_hourly_fen[w]):
            out.append("ineligible_wage")
        km = float(haversine_km(W.lat[w], W.lon[w], J.lat[j], J.lon[j]))
        if km > self.reach_km(j, e.t) * (1 + _KM_SLACK) + 1e-9:
            out.append("beyond_reach")
        latest = float(J.start[j]) + self.rules.arrival_grace_minutes * 60.0
        if e.t + self.rules.travel_minutes(km) * 60.0 > latest + _SECONDS_SLACK:
            out.append("late_arrival")
        if float(J.end[j]) > float(W.available_until[w]):
            out.append("beyond_availability")
        return out


@dataclass(slots=True)
class AuditReport:
    counts: Counter[str] = field(default_factory=Counter)
    #: The first few offending events, for a human to look at.
    examples: list[tuple[str, Event]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def flag(self, what: str, event: Event) -> None:
        self.counts[what] += 1
        if len(self.examples) < 20:
            self.examples.append((what, event))

    def as_json(self) -> dict[str, int]:
        return {name: self.counts.get(name, 0) for name in VIOLATIONS}


def audit(log: Iterable[Event], eligibility: Eligibility | None = None) -> AuditReport:
    report = AuditReport()
    headcount: dict[int, int] = {}
    kept: dict[int, set[int]] = {}  # job -> kept assignment ids
    pending_on_job: dict[int, set[int]] = {}
    offer_pair: dict[int, tuple[int, int]] = {}
    offer_expiry: dict[int, float] = {}
    open_offers: set[int] = set()
    #: worker -> (menu id or -1, their pending offers): several only within one menu.
    pending_of_worker: dict[int, tuple[int, set[int]]] = {}
    accepted_offer: dict[int, tuple[int, int]] = {}
    refused: set[tuple[int, int]] = set()
    hours: dict[int, tuple[int, int, float, float]] = {}  # assignment -> worker, job, hours
    kept_of_worker: dict[int, set[int]] = {}
    last_t = -math.inf

    def close_offer(o: int) -> None:
        open_offers.discard(o)
        w, j = offer_pair[o]
        pending_on_job.get(j, set()).discard(o)
        held = pending_of_worker.get(w)
        if held is not None:
            held[1].discard(o)
            if not held[1]:
                del pending_of_worker[w]

    def end_assignment(a: int) -> None:
        if a not in hours:
            return
        w, j, _, _ = hours[a]
        kept.get(j, set()).discard(a)
        kept_of_worker.get(w, set()).discard(a)

    for e in log:
        if e.t < last_t:
            report.flag("out_of_order", e)
        last_t = max(last_t, e.t)
        k = e.kind
        if k is EventKind.JOB_POSTED:
            headcount[e.job] = e.count
        elif k is EventKind.OFFER_MADE:
            held = pending_of_worker.get(e.worker)
            if held is not None and (e.menu < 0 or held[0] != e.menu):
                report.flag("two_pending_offers", e)
            if (e.worker, e.job) in refused:
                report.flag("offered_again", e)
            offers_here = pending_on_job.setdefault(e.job, set())
            if len(offers_here) + 1 + len(kept.get(e.job, ())) > headcount.get(e.job, 0):
                report.flag("overcommitted", e)
            offer_pair[e.offer] = (e.worker, e.job)
            offer_expiry[e.offer] = e.until
            open_offers.add(e.offer)
            offers_here.add(e.offer)
            if held is not None and held[0] == e.menu >= 0:
                held[1].add(e.offer)
            else:
                pending_of_worker[e.worker] = (e.menu, {e.offer})
        elif k is EventKind.OFFER_ACCEPTED:
            if e.offer not in open_offers or e.t > offer_expiry.get(e.offer, -math.inf):
                report.flag("accepted_after_expiry", e)
            if e.offer in offer_pair:
                close_offer(e.offer)
            accepted_offer[e.offer] = (e.worker, e.job)
        elif k in (EventKind.OFFER_DECLINED, EventKind.OFFER_EXPIRED):
            if e.offer in offer_pair:
                close_offer(e.offer)
            refused.add((e.worker, e.job))
        elif k in (EventKind.OFFER_WITHDRAWN, EventKind.ACCEPT_TOO_LATE):
            if e.offer in offer_pair:
                close_offer(e.offer)
        elif k is EventKind.ASSIGNED:
            for broken in eligibility.breaks(e) if eligibility else ():
                report.flag(broken, e)
            if e.offer >= 0 and accepted_offer.pop(e.offer, None) != (e.worker, e.job):
                report.flag("assigned_without_accept", e)
            on_job = kept.setdefault(e.job, set())
            if len(on_job) + 1 > headcount.get(e.job, 0):
                report.flag("overfilled", e)
            elif len(on_job) + 1 + len(pending_on_job.get(e.job, ())) > headcount.get(e.job, 0):
                report.flag("overcommitted", e)
            mine = kept_of_worker.setdefault(e.worker, set())
            for other in mine:
                _, _, s, u = hours[other]
                if s < e.until and e.start < u:
                    report.flag("double_booked", e)
                    break
            hours[e.assignment] = (e.worker, e.job, e.start, e.until)
            on_job.add(e.assignment)
            mine.add(e.assignment)
        elif k in (EventKind.CANCELLED_BY_WORKER, EventKind.CANCELLED_BY_EMPLOYER):
            end_assignment(e.assignment)
    return report
