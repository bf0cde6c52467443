"""The simulated clock: one market day played under one online policy.

Time is event-driven. Check-ins, postings, answers, expiries, claims, cancellations and starts
are timed events in a heap, handled at their exact moments; dispatch rounds fall on the grid
``opens + k · batch_interval_s`` as on the server. A round runs only when something since the
last one could create a new eligible pair (a worker entered the pool, a slot was freed, a job
was posted). Skipping the others is exact, not an approximation: every policy here fills a
maximal set of pairs, so with no pair added the remaining pools have no eligible pair left, and
eligibility only ever shrinks with time (starts draw nearer, workers leave).

Behaviour comes from ``behaviour.Behaviour`` (the same model for all policies), and every
change is appended to the event log (``events.Event``) that the auditor and the metrics read:
the engine is not trusted to report on itself.

Simplifications, stated: a worker takes at most one job a day (day labour is sold by the day;
it also keeps the hindsight bound an exact assignment problem), a worker who calls an
assignment off leaves the market, and a worker whose job the employer cancels returns to the
pool. Claims after ``claim_after_s`` are not simulated under gigmarket, so that its figures are
those of its rounds alone.
"""

from __future__ import annotations

import enum
import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gigmarket.core import matching
from gigmarket.core.pool import F64, I64, Exclusions, JobPool, WorkerPool
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import Day
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.policies import (
    POLICY_REACH,
    FirstComeClaim,
    OfferPolicy,
    Snapshot,
    rules_for,
)

Progress = Callable[[float], None]


class Presence(enum.IntEnum):
    """Where a worker is in the day (``model.WorkerState`` plus before/after)."""

    NOT_YET = 0
    AVAILABLE = 1
    OFFERED = 2
    ASSIGNED = 3
    GONE = 4


class _At(enum.IntEnum):
    """Scheduled happenings, in the heap. Ties at one instant resolve in this order."""

    POST = 0
    ARRIVE = 1
    CANCEL_JOB = 2
    ANSWER = 3
    EXPIRE = 4
    CLAIM = 5
    WORKER_CANCEL = 6
    START = 7
    CLOSE = 8
    DEPART = 9


@dataclass(slots=True)
class _Offer:
    worker: int
    job: int
    expires_at: float
    travel_minutes: float
    pending: bool = True


@dataclass(slots=True)
class _Assignment:
    worker: int
    job: int
    travel_minutes: float
    active: bool = True


@dataclass(slots=True)
class RunStats:
    """Work done, for the report's footnotes (not part of the compared metrics)."""

    rounds: int = 0
    round_seconds: list[float] = field(default_factory=list)


class Engine:
    """Plays ``day`` under ``policy`` (an offer policy or :class:`FirstComeClaim`)."""

    def __init__(
        self,
        day: Day,
        behaviour: Behaviour,
        policy: OfferPolicy | FirstComeClaim,
        progress: Progress | None = None,
    ) -> None:
        self.day, self.behaviour, self.policy = day, behaviour, policy
        #: The market's rules with this policy's reach (``policies.POLICY_REACH``).
        self.rules = rules_for(POLICY_REACH[policy.name], day.market)
        self.progress = progress
        self.log: list[Event] = []
        self.stats = RunStats()
        nw, nj = len(day.workers), len(day.jobs)
        self.presence = np.full(nw, Presence.NOT_YET, np.int8)
        self.earned = np.zeros(nw, np.float64)
        self.open = np.zeros(nj, np.bool_)
        self.accepted = np.zeros(nj, np.int64)
        self.pending = np.zeros(nj, np.int64)
        self.offers: list[_Offer] = []
        self.offer_of_worker = np.full(nw, -1, np.int64)
        self.offers_of_job: dict[int, set[int]] = {}
        self.assignments: list[_Assignment] = []
        self.assignments_of_job: dict[int, list[int]] = {}
        self.excluded_w: list[int] = []
        self.excluded_j: list[int] = []
        # First-come claim: who is new to the boards since the last broadcast.
        self.new_worker = np.zeros(nw, np.bool_)
        self.new_job = np.zeros(nj, np.bool_)
        self.noticed: set[int] = set()
        self.claim_travel: dict[tuple[int, int], float] = {}
        self.heap: list[tuple[float, int, int, int, int]] = []
        self.seq = 0
        self.dirty = False

    # -- the clock -------------------------------------------------------------------------

    def _at(self, t: float, what: _At, a: int = -1, b: int = -1) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, int(what), self.seq, a, b))

    def run(self) -> list[Event]:
        day, rules = self.day, self.rules
        for i in range(len(day.workers)):
            self._at(float(day.workers.arrive[i]), _At.ARRIVE, i)
            self._at(float(day.workers.depart[i]), _At.DEPART, i)
        grace = rules.arrival_grace_minutes * 60.0
        for j in range(len(day.jobs)):
            self._at(float(day.jobs.posted[j]), _At.POST, j)
            self._at(float(day.jobs.start[j]) + grace, _At.CLOSE, j)
            if math.isfinite(day.jobs.cancel_at[j]):
                self._at(float(day.jobs.cancel_at[j]), _At.CANCEL_JOB, j)
        batch = rules.batch_interval_s
        tick = 0
        span = day.closes - day.opens
        last_report = -1.0
        while self.heap:
            now = day.opens + tick * batch
            while self.heap and self.heap[0][0] <= now:
                t, what, _, a, b = heapq.heappop(self.heap)
                self._handle(t, _At(what), a, b)
            if self.dirty:
                self.dirty = False
                self._round(now)
            if not self.heap or self.heap[0][0] > day.closes:
                break
            tick = max(tick + 1, math.ceil((self.heap[0][0] - day.opens) / batch))
            if self.progress and now - last_report > 600:
                last_report = now
                self.progress(min(1.0, (now - day.opens) / span))
        return self.log

    def _emit(self, event: Event) -> None:
        self.log.append(event)

    # -- happenings ------------------------------------------------------------------------

    def _handle(self, t: float, what: _At, a: int, b: int) -> None:
        if what is _At.ARRIVE:
            self.presence[a] = Presence.AVAILABLE
            self.new_worker[a] = True
            self.dirty = True
            self._emit(Event(t, EventKind.CHECKIN, worker=a))
        elif what is _At.DEPART:
            self._depart(t, a)
        elif what is _At.POST:
            jobs = self.day.jobs
            self.open[a] = True
            self.new_job[a] = True
            self.dirty = True
            self._emit(Event(t, EventKind.JOB_POSTED, job=a, count=int(jobs.headcount[a]),
                             start=float(jobs.start[a]), until=float(jobs.end[a])))
        elif what is _At.CLOSE:
            if self.open[a]:
                self.open[a] = False
                self._emit(Event(t, EventKind.JOB_CLOSED, job=a))
        elif what is _At.CANCEL_JOB:
            self._cancel_job(t, a)
        elif what is _At.ANSWER:
            self._answer(t, a, accepts=bool(b))
        elif what is _At.EXPIRE:
            offer = self.offers[a]
            if offer.pending:
                self._close_offer(t, a, EventKind.OFFER_EXPIRED, exclude=True)
        elif what is _At.CLAIM:
            self._claim(t, a, b)
        elif what is _At.WORKER_CANCEL:
            self._worker_cancels(t, a)
        elif what is _At.START:
            self._start(t, a)

    def _depart(self, t: float, w: int) -> None:
        p = self.presence[w]
        if p == Presence.OFFERED:
            self._close_offer(t, int(self.offer_of_worker[w]), EventKind.OFFER_WITHDRAWN,
                              exclude=False)
        if self.presence[w] == Presence.AVAILABLE:
            self.presence[w] = Presence.GONE
            self._emit(Event(t, EventKind.LEFT, worker=w))

    def _back_to_pool(self, t: float, w: int) -> None:
        if t < self.day.workers.depart[w]:
            self.presence[w] = Presence.AVAILABLE
            self.new_worker[w] = True
            self.dirty = True
        else:
            self.presence[w] = Presence.GONE
            self._emit(Event(t, EventKind.LEFT, worker=w))

    def _close_offer(self, t: float, o: int, kind: EventKind, *, exclude: bool) -> None:
        offer = self.offers[o]
        offer.pending = False
        self.pending[offer.job] -= 1
        self.offer_of_worker[offer.worker] = -1
        self.offers_of_job[offer.job].discard(o)
        self._emit(Event(t, kind, worker=offer.worker, job=offer.job, offer=o))
        if exclude:
            self.excluded_w.append(offer.worker)
            self.excluded_j.append(offer.job)
        self.dirty = True
        self._back_to_pool(t, offer.worker)

    def _answer(self, t: float, o: int, *, accepts: bool) -> None:
        offer = self.offers[o]
        if not offer.pending:
            return
        if not accepts:
            self._close_offer(t, o, EventKind.OFFER_DECLINED, exclude=True)
            return
        offer.pending = False
        self.pending[offer.job] -= 1
        self.offer_of_worker[offer.worker] = -1
        self.offers_of_job[offer.job].discard(o)
        self._emit(Event(t, EventKind.OFFER_ACCEPTED, worker=offer.worker, job=offer.job, offer=o))
        self._assign(t, offer.worker, offer.job, o, offer.travel_minutes)

    def _assign(self, t: float, w: int, j: int, o: int, travel: float) -> None:
        jobs = self.day.jobs
        a = len(self.assignments)
        self.assignments.append(_Assignment(w, j, travel))
        self.assignments_of_job.setdefault(j, []).append(a)
        self.accepted[j] += 1
        self.presence[w] = Presence.ASSIGNED
        self.earned[w] += jobs.pay_fen[j]
        start = float(jobs.start[j])
        self._emit(Event(t, EventKind.ASSIGNED, worker=w, job=j, offer=o, assignment=a,
                         start=start, until=float(jobs.end[j]), travel_minutes=travel,
                         pay_fen=float(jobs.pay_fen[j])))
        cancels, moment = self.behaviour.cancels_late(np.array([w]), np.array([j]))
        if cancels[0]:
            # Even an accept after the start backs out (before the check-in below): whether a
            # worker calls a job off is a property of the pair, as the hindsight bound assumes.
            self._at(t + float(moment[0]) * max(start - t, 0.0), _At.WORKER_CANCEL, a)
        self._at(max(start, t), _At.START, a)

    def _worker_cancels(self, t: float, a: int) -> None:
        asg = self.assignments[a]
        if not asg.active:
            return
        asg.active = False
        self.accepted[asg.job] -= 1
        self.earned[asg.worker] -= self.day.jobs.pay_fen[asg.job]
        self.presence[asg.worker] = Presence.GONE
        self.new_job[asg.job] = True
        self.dirty = True
        self._emit(Event(t, EventKind.CANCELLED_BY_WORKER, worker=asg.worker, job=asg.job,
                         assignment=a))

    def _cancel_job(self, t: float, j: int) -> None:
        self.open[j] = False
        self._emit(Event(t, EventKind.JOB_CANCELLED, job=j))
        for o in sorted(self.offers_of_job.get(j, set())):
            self._close_offer(t, o, EventKind.OFFER_WITHDRAWN, exclude=False)
        for a in self.assignments_of_job.get(j, []):
            asg = self.assignments[a]
            if asg.active:
                asg.active = False
                self.accepted[j] -= 1
                self.earned[asg.worker] -= self.day.jobs.pay_fen[j]
                self._emit(Event(t, EventKind.CANCELLED_BY_EMPLOYER, worker=asg.worker, job=j,
                                 assignment=a))
                self._back_to_pool(t, asg.worker)

    def _start(self, t: float, a: int) -> None:
        asg = self.assignments[a]
        if not asg.active:
            return
        w, j = np.array([asg.worker]), np.array([asg.job])
        absent = self.behaviour.no_shows(
            w, j, self.day.workers.reliability[w], np.array([asg.travel_minutes])
        )[0]
        kind = EventKind.NO_SHOW if absent else EventKind.CHECKED_IN
        self._emit(Event(t, kind, worker=asg.worker, job=asg.job, assignment=a))

    def _claim(self, t: float, w: int, j: int) -> None:
        free = self.day.jobs.headcount[j] - self.accepted[j]
        travel = self.claim_travel.pop((w, j))
        if self.presence[w] != Presence.AVAILABLE:
            return  # placed by an earlier claim, or gone: this one is never sent
        start_by = self.day.jobs.start[j] + self.rules.arrival_grace_minutes * 60.0
        if t + travel * 60.0 > start_by:
            # Seen too late to get there in time: the worker lets it go, as every other
            # policy's eligibility (arrival by the start) would.
            return
        if not self.open[j] or free <= 0:
            self._emit(Event(t, EventKind.CLAIM_LOST, worker=w, job=j))
            return
        self._assign(t, w, j, -1, travel)

    # -- rounds ----------------------------------------------------------------------------

    def _snapshot(self, now: float) -> Snapshot | None:
        day = self.day
        W, J = day.workers, day.jobs
        wi = np.flatnonzero(self.presence == Presence.AVAILABLE)
        free = J.headcount - self.accepted - self.pending
        ji = np.flatnonzero(self.open & (free > 0))
        if len(wi) == 0 or len(ji) == 0:
            return None
        workers = WorkerPool(
            ids=[W.ids[i] for i in wi],
            lat=W.lat[wi],
            lon=W.lon[wi],
            skills=W.skills[wi],
            certs=W.certs[wi],
            min_hourly_fen=W.min_hourly_fen[wi],
            available_until=W.available_until[wi],
            waited_s=now - W.arrive[wi],
            key_group=W.key_group[wi],
            rating=W.rating[wi],
            reliability=W.reliability[wi],
            earned_today_fen=self.earned[wi],
            # One job a day: nobody in the pool holds an accepted assignment.
            busy_worker=np.zeros(0, np.int64),
            busy_start=np.zeros(0, np.float64),
            busy_end=np.zeros(0, np.float64),
        )
        jobs = JobPool(
            ids=[J.ids[j] for j in ji],
            employer_ids=[J.employer_ids[j] for j in ji],
            lat=J.lat[ji],
            lon=J.lon[ji],
            skills=J.skills[ji],
            certs_required=J.certs_required[ji],
            hourly_fen=J.hourly_fen[ji],
            start_at=J.start[ji],
            end_at=J.end[ji],
            slots=free[ji],
            posted_at=J.posted[ji],
            employer_rating=J.employer_rating[ji],
            employer_reliability=J.employer_reliability[ji],
        )
        row_w = np.full(len(W), -1, np.int64)
        row_w[wi] = np.arange(len(wi))
        row_j = np.full(len(J), -1, np.int64)
        row_j[ji] = np.arange(len(ji))
        ew = row_w[np.asarray(self.excluded_w, np.int64)]
        ej = row_j[np.asarray(self.excluded_j, np.int64)]
        both = (ew >= 0) & (ej >= 0)
        return Snapshot(now, workers, jobs, Exclusions(ew[both], ej[both]),
                        np.asarray(wi, np.int64), np.asarray(ji, np.int64))

    def _round(self, now: float) -> None:
        snap = self._snapshot(now)
        if snap is None:
            return
        t0 = time.perf_counter()
        if isinstance(self.policy, FirstComeClaim):
            self._broadcast(snap)
        else:
            self._offer(snap)
        self.stats.rounds += 1
        self.stats.round_seconds.append(time.perf_counter() - t0)

    def _wage_ratio(self, w: I64, j: I64) -> F64:
        return np.asarray(self.day.jobs.hourly_fen[j] / self.day.workers.min_hourly_fen[w],
                          np.float64)

    def _offer(self, snap: Snapshot) -> None:
        assert not isinstance(self.policy, FirstComeClaim)
        picks = self.policy.choose(snap, self.rules)
        if len(picks.worker_rows) == 0:
            return
        w = snap.worker_index[picks.worker_rows]
        j = snap.job_index[picks.job_rows]
        answers = self.behaviour.answer_offers(
            w, j, self.day.workers.kiosk[w], picks.travel_minutes, self._wage_ratio(w, j)
        )
        timeout = self.rules.offer_timeout_s
        now = snap.now
        for k in range(len(w)):
            wk, jk = int(w[k]), int(j[k])
            o = len(self.offers)
            self.offers.append(_Offer(wk, jk, now + timeout, float(picks.travel_minutes[k])))
            self.offers_of_job.setdefault(jk, set()).add(o)
            self.offer_of_worker[wk] = o
            self.presence[wk] = Presence.OFFERED
            self.pending[jk] += 1
            self._emit(Event(now, EventKind.OFFER_MADE, worker=wk, job=jk, offer=o,
                             until=now + timeout, travel_minutes=float(picks.travel_minutes[k])))
            delay = float(answers.delay_s[k])
            if answers.answered[k] and delay < timeout:
                self._at(now + delay, _At.ANSWER, o, int(answers.accepts[k]))
            else:
                self._at(now + timeout, _At.EXPIRE, o)

    def _broadcast(self, snap: Snapshot) -> None:
        cand, _, _ = matching.eligible_pairs(
            snap.workers, snap.jobs, self.rules, snap.now, snap.exclusions
        )
        w = snap.worker_index[cand.worker]
        j = snap.job_index[cand.job]
        fresh = np.flatnonzero(self.new_worker[w] | self.new_job[j])
        self.new_worker[:] = False
        self.new_job[:] = False
        # A re-posted slot reaches only those who have not seen the job yet.
        keys = (w[fresh] * len(self.day.jobs) + j[fresh]).tolist()
        unseen = [k not in self.noticed for k in keys]
        keep = fresh[np.asarray(unseen, np.bool_)] if keys else fresh
        if len(keep) == 0:
            return
        self.noticed.update(k for k, u in zip(keys, unseen, strict=True) if u)
        w, j, travel = w[keep], j[keep], cand.travel_minutes[keep]
        jobs_told, told = np.unique(j, return_counts=True)
        for jk, n in zip(jobs_told.tolist(), told.tolist(), strict=True):
            self._emit(Event(snap.now, EventKind.BROADCAST, job=jk, count=n))
        wants = self.behaviour.accepts(w, j, travel, self._wage_ratio(w, j))
        delay = self.behaviour.claim_delay_s(w, j, self.day.workers.kiosk[w])
        for k in np.flatnonzero(wants):
            wk, jk = int(w[k]), int(j[k])
            self.claim_travel[(wk, jk)] = float(travel[k])
            self._at(snap.now + float(delay[k]), _At.CLAIM, wk, jk)
