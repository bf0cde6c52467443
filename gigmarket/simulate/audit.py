"""An independent auditor: replays an event log and counts broken invariants (SPEC 4).

It keeps its own books from the log alone — never the engine's counters — so an engine bug
shows up here rather than being reported as success. Checked, at every event:

- ``overfilled`` — more kept assignments on a job than its headcount;
- ``overcommitted`` — a job's pending offers plus kept assignments above its headcount;
- ``double_booked`` — a worker in two kept assignments whose hours overlap;
- ``two_pending_offers`` — an offer made to a worker already holding a pending one;
- ``accepted_after_expiry`` — an accept later than the offer's ``expires_at``, or of an offer
  that is no longer pending;
- ``offered_again`` — a pair offered after it was declined or let expire;
- ``assigned_without_accept`` — an assignment from an offer that was not just accepted by that
  worker for that job;
- ``out_of_order`` — time running backwards in the log.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

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
)


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


def audit(log: Iterable[Event]) -> AuditReport:
    report = AuditReport()
    headcount: dict[int, int] = {}
    kept: dict[int, set[int]] = {}  # job -> kept assignment ids
    pending_on_job: dict[int, set[int]] = {}
    offer_pair: dict[int, tuple[int, int]] = {}
    offer_expiry: dict[int, float] = {}
    open_offers: set[int] = set()
    pending_of_worker: dict[int, int] = {}
    accepted_offer: dict[int, tuple[int, int]] = {}
    refused: set[tuple[int, int]] = set()
    hours: dict[int, tuple[int, int, float, float]] = {}  # assignment -> worker, job, hours
    kept_of_worker: dict[int, set[int]] = {}
    last_t = -math.inf

    def close_offer(o: int) -> None:
        open_offers.discard(o)
        w, j = offer_pair[o]
        pending_on_job.get(j, set()).discard(o)
        if pending_of_worker.get(w) == o:
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
            if e.worker in pending_of_worker:
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
            pending_of_worker[e.worker] = e.offer
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
        elif k is EventKind.OFFER_WITHDRAWN:
            if e.offer in offer_pair:
                close_offer(e.offer)
        elif k is EventKind.ASSIGNED:
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
