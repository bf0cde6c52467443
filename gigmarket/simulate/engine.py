"""The simulated clock: one market day played under one online policy.

Time is event-driven. Check-ins, postings, answers, expiries, claims, cancellations and starts
are timed events in a heap, handled at their exact moments; dispatch rounds fall on the grid
``opens + k · batch_interval_s`` as on the server. A round runs only when something since the
last one could create a new eligible pair (a worker entered the pool, a slot was freed, a job
was posted). Skipping the others is exact, not an approximation: every policy here fills a
maximal set of pairs, so with no pair added the remaining pools have no eligible pair left, and
eligibility only ever shrinks with time (starts draw nearer, workers leave), except when a
waiting job's reach widens (``core.reach``), which is scheduled as a happening of its own.

Behaviour comes from ``behaviour.Behaviour`` (the same model for all policies), and every
change is appended to the event log (``events.Event``) that the auditor and the metrics read:
the engine is not trusted to report on itself.

Simplifications, stated: a worker takes at most one job a day (day labour is sold by the day;
it also keeps the hindsight bound an exact assignment problem), a worker who calls an
assignment off leaves the market, and a worker whose job the employer cancels returns to the
pool.

Under gigmarket the simulator plays the shipped rules (issue 14): a job still unfilled
``claim_after_s`` after posting goes on the boards, where every eligible waiting worker without
a pending offer may claim a free slot (one notice per job, when it goes up; a slot is free when
neither an accept nor a pending offer holds it, as the server's claim gate counts); and an
accept is judged again by ``core.eligibility``: one too late to reach the start is refused and
the offer withdrawn, without burning the pair. A worker who answers yes after their offer ran
out (within ``late_take_s``) takes the job if a slot is still free, as the server's late take
does: a claim of that one job, counted among the claims.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gigmarket.core import matching, reach
from gigmarket.core.eligibility import can_arrive, judge_accept
from gigmarket.core.pool import F64, I64, Exclusions, JobPool, WorkerPool
from gigmarket.simulate.behaviour import Behaviour
from gigmarket.simulate.day import Day
from gigmarket.simulate.events import Event, EventKind
from gigmarket.simulate.policies import (
    POLICY_REACH,
    WIDENING,
    FirstComeClaim,
    OfferPolicy,
    Snapshot,
    rules_for,
)

Progress = Callable[[float], None]


class Absence(enum.StrEnum):
    """What an offer that runs out while its worker is away from any screen does (issue 10).

    Only matters when the behaviour model sends workers away (``Behaviour.away_share``).
    """

    #: The pair is burnt, as for a refusal (the server before issue 10).
    BURN = "burn"
    #: The pair is kept out while they are away and offered again on their return.
    KEEP = "keep"
    #: KEEP, and an offer to a worker who is away lasts only ``SHORT_OFFER_S``.
    SHORT = "short"
    #: KEEP, and each round places present workers first; away ones only on what is left.
    PREFER = "prefer"


#: The offer to an away worker under ``Absence.SHORT``: long enough for a kiosk's call to be
#: heard by someone near it, short enough not to hold the slot for the full timeout.
SHORT_OFFER_S = 15.0


def _rows(pool: object, rows: I64) -> object:
    """The same pool with only ``rows`` (busy intervals are empty in the simulation)."""
    values = {}
    for f in dataclasses.fields(pool):  # type: ignore[arg-type]
        v = getattr(pool, f.name)
        if f.name.startswith("busy_") or v is None:
            values[f.name] = v  # empty, or an optional column nobody set
        elif isinstance(v, list):
            values[f.name] = [v[i] for i in rows.tolist()]
        else:
            values[f.name] = v[rows]
    return type(pool)(**values)


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
    RETURN = 10
    BOARD = 11
    WIDEN = 12
    LATE_TAKE = 13


@dataclass(slots=True)
class _Offer:
    worker: int
    job: int
    expires_at: float
    travel_minutes: float
    pending: bool = True
    #: The offer the worker's answer is scheduled on: itself, or its menu's first offer.
    menu: int = -1


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
        absence: Absence = Absence.KEEP,
        claims: bool | None = None,
        menu_size: int = 1,
    ) -> None:
        self.day, self.behaviour, self.policy = day, behaviour, policy
        self.absence = absence
        #: Whether unfilled jobs open to claims after ``claim_after_s`` (default: gigmarket,
        #: the shipped rules; the baselines are played as the practices they model).
        self.claims = policy.name == "gigmarket" if claims is None else claims
        #: Accepts refused because the worker could no longer arrive in time.
        self.late_accepts = 0
        #: Menus (issue 14): each offered worker may get up to this many jobs at once, and
        #: takes the one they like best; the others are withdrawn.
        self.menu_size = menu_size
        #: Pending offers of each proposal, by its first offer: one for a single offer.
        self.proposal: dict[int, set[int]] = {}
        #: The market's rules with this policy's reach (``policies.POLICY_REACH``).
        self.rules = rules_for(POLICY_REACH[policy.name], day.market,
                               widening=policy.name in WIDENING)
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
        self.away_from, self.away_until = behaviour.away_windows(
            np.arange(nw, dtype=np.int64), day.workers.arrive, day.workers.depart)
        #: Pairs kept out only while their worker is away: worker -> jobs.
        self.held: dict[int, list[int]] = {}
        #: Offers that ran out while their worker was away, for the absence comparison.
        self.expired_away = 0

    # -- the clock -------------------------------------------------------------------------

    def _at(self, t: float, what: _At, a: int = -1, b: int = -1) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, int(what), self.seq, a, b))

    def run(self) -> list[Event]:
        day, rules = self.day, self.rules
        for i in range(len(day.workers)):
            self._at(float(day.workers.arrive[i]), _At.ARRIVE, i)
            self._at(float(day.workers.depart[i]), _At.DEPART, i)
            if math.isfinite(self.away_until[i]):
                self._at(float(self.away_until[i]), _At.RETURN, i)
        grace = rules.arrival_grace_minutes * 60.0
        for j in range(len(day.jobs)):
            self._at(float(day.jobs.posted[j]), _At.POST, j)
            self._at(float(day.jobs.start[j]) + grace, _At.CLOSE, j)
            if math.isfinite(day.jobs.cancel_at[j]):
                self._at(float(day.jobs.cancel_at[j]), _At.CANCEL_JOB, j)
            if self.claims:
                self._at(float(day.jobs.posted[j]) + rules.claim_after_s, _At.BOARD, j)
            for t in self._widenings(j):
                self._at(t, _At.WIDEN, j)
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
            for o in sorted(self.proposal.get(a, ())):
                offer = self.offers[o]
                away = self._away(offer.worker, t) and self.absence is not Absence.BURN
                self._close_offer(t, o, EventKind.OFFER_EXPIRED, exclude=True)
                if away:
                    self.expired_away += 1
                    self.held.setdefault(offer.worker, []).append(offer.job)
        elif what is _At.RETURN:
            self._returns(a)
        elif what is _At.CLAIM:
            self._claim(t, a, b)
        elif what is _At.WORKER_CANCEL:
            self._worker_cancels(t, a)
        elif what is _At.START:
            self._start(t, a)
        elif what is _At.BOARD:
            self._board(t, a)
        elif what is _At.LATE_TAKE:
            self._late_take(t, a)
        elif what is _At.WIDEN:
            # A wider reach may bring new pairs: the one way eligibility grows with time.
            free = self.day.jobs.headcount[a] - self.accepted[a] - self.pending[a]
            self.dirty |= bool(self.open[a] and free > 0)

    def _widenings(self, j: int) -> list[float]:
        """The moments job ``j``'s reach steps out (``core.reach``), while it can still fill."""
        rules = self.rules
        if not reach.widens(rules) or rules.reach_expand_after_s is None:
            return []
        posted = float(self.day.jobs.posted[j])
        last = float(self.day.jobs.start[j]) + rules.arrival_grace_minutes * 60.0
        # The first step: after reach_expand_after_s, and no earlier than
        # reach_expand_before_start_s before the latest arrival when the market sets it.
        t = posted + rules.reach_expand_after_s
        if rules.reach_expand_before_start_s is not None:
            t = max(t, last - rules.reach_expand_before_start_s)

        def minutes(at: float) -> float:
            return float(reach.reach_minutes(at - posted, rules, last - at))

        out: list[float] = []
        step = minutes(t)
        while t <= last:
            out.append(t)
            if step >= rules.max_reach_minutes:
                break
            t += rules.reach_step_every_s
            step = minutes(t)
        return out

    def _away(self, w: int, t: float) -> bool:
        return bool(self.away_from[w] <= t < self.away_until[w])

    def _returns(self, w: int) -> None:
        """Back at a screen: the pairs held while away may be offered again."""
        jobs = set(self.held.pop(w, []))
        if jobs:
            keep = [k for k, (ew, ej) in enumerate(zip(self.excluded_w, self.excluded_j,
                                                       strict=True))
                    if not (ew == w and ej in jobs)]
            self.excluded_w = [self.excluded_w[k] for k in keep]
            self.excluded_j = [self.excluded_j[k] for k in keep]
        if self.presence[w] == Presence.AVAILABLE:
            self.new_worker[w] = True
            self.dirty = True

    def _depart(self, t: float, w: int) -> None:
        p = self.presence[w]
        if p == Presence.OFFERED:
            for o in sorted(self.proposal.get(int(self.offer_of_worker[w]), ())):
                self._close_offer(t, o, EventKind.OFFER_WITHDRAWN, exclude=False)
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
        self.offers_of_job[offer.job].discard(o)
        self._emit(Event(t, kind, worker=offer.worker, job=offer.job, offer=o))
        if exclude:
            self.excluded_w.append(offer.worker)
            self.excluded_j.append(offer.job)
        self.dirty = True
        left = self.proposal.get(offer.menu, set())
        left.discard(o)
        if not left:
            # The worker's last pending offer: they are free again.
            self.proposal.pop(offer.menu, None)
            self.offer_of_worker[offer.worker] = -1
            self._back_to_pool(t, offer.worker)

    def _answer(self, t: float, key: int, *, accepts: bool) -> None:
        mine = sorted(self.proposal.get(key, ()))
        if not mine:
            return
        if len(mine) > 1 or self.menu_size > 1:
            o = self._pick_from_menu(t, mine)
            if o < 0:
                return
        else:
            o = mine[0]
            if not accepts:
                self._close_offer(t, o, EventKind.OFFER_DECLINED, exclude=True)
                return
        offer = self.offers[o]
        if judge_accept(t, offer.travel_minutes, float(self.day.jobs.start[offer.job]),
                        self.rules) is not None:
            self.late_accepts += 1
            self._close_offer(t, o, EventKind.ACCEPT_TOO_LATE, exclude=False)
            return
        offer.pending = False
        self.pending[offer.job] -= 1
        self.offer_of_worker[offer.worker] = -1
        self.offers_of_job[offer.job].discard(o)
        self.proposal.pop(offer.menu, None)
        self._emit(Event(t, EventKind.OFFER_ACCEPTED, worker=offer.worker, job=offer.job, offer=o))
        self._assign(t, offer.worker, offer.job, o, offer.travel_minutes)

    def _pick_from_menu(self, t: float, mine: list[int]) -> int:
        """The worker's answer to a menu: the job they would take that they like best (the
        behaviour model's acceptance odds), the others withdrawn; -1 when they take none
        (each pair then counts as declined)."""
        offers = [self.offers[o] for o in mine]
        w = np.array([x.worker for x in offers], np.int64)
        j = np.array([x.job for x in offers], np.int64)
        travel = np.array([x.travel_minutes for x in offers], np.float64)
        ratio = self._wage_ratio(w, j, travel)
        yes = self.behaviour.accepts(w, j, travel, ratio)
        if not yes.any():
            for o in mine:
                self._close_offer(t, o, EventKind.OFFER_DECLINED, exclude=True)
            return -1
        liking = np.where(yes, self.behaviour.accept_probability(travel, ratio), -1.0)
        chosen = mine[int(np.argmax(liking))]
        for o in mine:
            if o != chosen:
                self._close_offer(t, o, EventKind.OFFER_WITHDRAWN, exclude=False)
        return chosen

    def _assign(self, t: float, w: int, j: int, o: int, travel: float) -> None:
        jobs = self.day.jobs
        a = len(self.assignments)
        self.assignments.append(_Assignment(w, j, travel))
        self.assignments_of_job.setdefault(j, []).append(a)
        self.accepted[j] += 1
        self.presence[w] = Presence.ASSIGNED
        pay = float(jobs.pay_fen[j]) + self._supplement(travel)
        self.earned[w] += pay
        start = float(jobs.start[j])
        self._emit(Event(t, EventKind.ASSIGNED, worker=w, job=j, offer=o, assignment=a,
                         start=start, until=float(jobs.end[j]), travel_minutes=travel,
                         pay_fen=pay))
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
        self.earned[asg.worker] -= self.day.jobs.pay_fen[asg.job] + self._supplement(
            asg.travel_minutes)
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
                self.earned[asg.worker] -= self.day.jobs.pay_fen[j] + self._supplement(
                    asg.travel_minutes)
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
        # Pending offers hold their slots, as the server's claim gate counts them.
        free = self.day.jobs.headcount[j] - self.accepted[j] - self.pending[j]
        travel = self.claim_travel.pop((w, j))
        if self.presence[w] != Presence.AVAILABLE:
            return  # placed by an earlier claim, or gone: this one is never sent
        if not can_arrive(t, travel, float(self.day.jobs.start[j]), self.rules):
            # Seen too late to get there in time: the worker lets it go, as every other
            # policy's eligibility (arrival by the start) would.
            return
        if not self.open[j] or free <= 0:
            self._emit(Event(t, EventKind.CLAIM_LOST, worker=w, job=j))
            return
        self._assign(t, w, j, -1, travel)

    def _late_take(self, t: float, o: int) -> None:
        """A worker takes an offer that ran out (``Rules.late_take_s``): as a claim, only if
        they are free, a slot is free (pending offers hold theirs) and they can still arrive."""
        offer = self.offers[o]
        w, j = offer.worker, offer.job
        free = self.day.jobs.headcount[j] - self.accepted[j] - self.pending[j]
        if self.presence[w] != Presence.AVAILABLE:
            return
        if not self.open[j] or free <= 0 or not can_arrive(
                t, offer.travel_minutes, float(self.day.jobs.start[j]), self.rules):
            self._emit(Event(t, EventKind.CLAIM_LOST, worker=w, job=j))
            return
        self._assign(t, w, j, -1, offer.travel_minutes)

    def _board(self, t: float, j: int) -> None:
        """Job ``j`` goes on the boards: eligible waiting workers may claim it (SPEC 4)."""
        if not self.open[j] or self.day.jobs.headcount[j] - self.accepted[j] - self.pending[j] <= 0:
            return
        snap = self._snapshot(t, only_job=j)
        if snap is None:
            return
        cand, _, _ = matching.eligible_pairs(snap.workers, snap.jobs, self.rules, t,
                                             snap.exclusions)
        w = snap.worker_index[cand.worker]
        seen = np.array([(int(wk), j) not in self.claim_travel for wk in w], np.bool_)
        w, travel = w[seen], cand.travel_minutes[seen]
        self._emit(Event(t, EventKind.ON_BOARD, job=j, count=len(w)))
        if len(w) == 0:
            return
        jobs = np.full(len(w), j, np.int64)
        wants = self.behaviour.accepts(w, jobs, travel, self._wage_ratio(w, jobs))
        delay = self.behaviour.claim_delay_s(w, jobs, self.day.workers.kiosk[w])
        for k in np.flatnonzero(wants):
            wk = int(w[k])
            self.claim_travel[(wk, j)] = float(travel[k])
            self._at(t + float(delay[k]), _At.CLAIM, wk, j)

    # -- rounds ----------------------------------------------------------------------------

    def _snapshot(self, now: float, only_job: int = -1) -> Snapshot | None:
        day = self.day
        W, J = day.workers, day.jobs
        wi = np.flatnonzero(self.presence == Presence.AVAILABLE)
        free = J.headcount - self.accepted - self.pending
        ji = np.flatnonzero(self.open & (free > 0))
        if only_job >= 0:
            ji = ji[ji == only_job]
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

    def _supplement(self, travel_minutes: float) -> float:
        """The travel supplement of a trip this long (0 inside the circle, core.reach)."""
        if not reach.widens(self.rules):
            return 0.0
        km = travel_minutes / self.rules.travel_minutes(1.0)
        return float(reach.supplement_fen(km, self.rules))

    def _wage_ratio(self, w: I64, j: I64, travel: F64 | None = None) -> F64:
        """Pay per hour over the worker's minimum; a trip beyond the circle adds its travel
        supplement, spread over the job's hours (the worker weighs the whole offer)."""
        J = self.day.jobs
        hourly = J.hourly_fen[j]
        if travel is not None and reach.widens(self.rules):
            km = np.asarray(travel, np.float64) / self.rules.travel_minutes(1.0)
            hours = np.maximum((J.end[j] - J.start[j]) / 3600.0, 1.0)
            hourly = hourly + reach.supplement_fen(km, self.rules) / hours
        return np.asarray(hourly / self.day.workers.min_hourly_fen[w], np.float64)

    def _choose(self, snap: Snapshot) -> tuple[I64, I64, F64]:
        """Day rows of the round's pairs and their travel; under ``Absence.PREFER`` present
        workers are placed first and away ones only on the slots left."""
        assert not isinstance(self.policy, FirstComeClaim)
        if self.absence is not Absence.PREFER:
            picks = self.policy.choose(snap, self.rules)
            return (snap.worker_index[picks.worker_rows], snap.job_index[picks.job_rows],
                    picks.travel_minutes)
        away = np.array([self._away(int(w), snap.now) for w in snap.worker_index], np.bool_)
        out_w: list[I64] = []
        out_j: list[I64] = []
        out_t: list[F64] = []
        taken = np.zeros(len(snap.jobs), np.int64)
        for group in (np.flatnonzero(~away), np.flatnonzero(away)):
            slots = np.asarray(snap.jobs.slots, np.int64) - taken
            open_rows = np.flatnonzero(slots > 0)
            if len(group) == 0 or len(open_rows) == 0:
                continue
            new_w = np.full(len(snap.workers), -1, np.int64)
            new_w[group] = np.arange(len(group))
            new_j = np.full(len(snap.jobs), -1, np.int64)
            new_j[open_rows] = np.arange(len(open_rows))
            ew = new_w[snap.exclusions.worker_rows]
            ej = new_j[snap.exclusions.job_rows]
            both = (ew >= 0) & (ej >= 0)
            jobs = _rows(snap.jobs, open_rows)
            jobs = dataclasses.replace(jobs, slots=slots[open_rows])  # type: ignore[type-var]
            part = Snapshot(snap.now, _rows(snap.workers, group), jobs,  # type: ignore[arg-type]
                            Exclusions(ew[both], ej[both]), snap.worker_index[group],
                            snap.job_index[open_rows])
            picks = self.policy.choose(part, self.rules)
            np.add.at(taken, open_rows[picks.job_rows], 1)
            out_w.append(part.worker_index[picks.worker_rows])
            out_j.append(part.job_index[picks.job_rows])
            out_t.append(picks.travel_minutes)
        if not out_w:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(out_w), np.concatenate(out_j), np.concatenate(out_t)

    def _offer(self, snap: Snapshot) -> None:
        w, j, travel = self._choose(snap)
        if len(w) == 0:
            return
        picks_travel = travel
        answers = self.behaviour.answer_offers(
            w, j, self.day.workers.kiosk[w], picks_travel, self._wage_ratio(w, j, picks_travel)
        )
        now = snap.now
        extras = self._menu_extras(snap, w, j) if self.menu_size > 1 else {}
        missed = self.behaviour.claim_delay_s(w, j, self.day.workers.kiosk[w])
        for k in range(len(w)):
            wk, jk = int(w[k]), int(j[k])
            away = self._away(wk, now)
            timeout = (SHORT_OFFER_S if away and self.absence is Absence.SHORT
                       else self.rules.offer_timeout_s)
            o = self._make_offer(now, wk, jk, timeout, float(picks_travel[k]), menu=-1)
            for jx, tx in extras.get(wk, ()):
                self._make_offer(now, wk, jx, timeout, tx, menu=o)
            delay = float(answers.delay_s[k])
            # Away from any screen: nobody sees the offer until it runs out.
            if answers.answered[k] and delay < timeout and not self._away(wk, now + delay):
                self._at(now + delay, _At.ANSWER, o, int(answers.accepts[k]))
            else:
                self._at(now + timeout, _At.EXPIRE, o)
                if self.rules.late_take_s > 0 and answers.accepts[k]:
                    # They reach the screen after it ran out and still want it: a slow answer
                    # at its own moment; a missed push only once it has run out, and then as
                    # late as a broadcast is noticed (no sooner than first-come's worker).
                    seen = delay if answers.answered[k] else timeout + float(missed[k])
                    if seen < timeout + self.rules.late_take_s and not self._away(wk, now + seen):
                        self._at(now + seen, _At.LATE_TAKE, o)

    def _make_offer(self, now: float, w: int, j: int, timeout: float, travel: float, *,
                    menu: int) -> int:
        """One pending offer; ``menu`` names the first offer of the menu it joins (-1: none,
        it is a proposal of its own)."""
        o = len(self.offers)
        key = o if menu < 0 else menu
        self.offers.append(_Offer(w, j, now + timeout, travel, menu=key))
        self.proposal.setdefault(key, set()).add(o)
        self.offers_of_job.setdefault(j, set()).add(o)
        self.offer_of_worker[w] = key
        self.presence[w] = Presence.OFFERED
        self.pending[j] += 1
        self._emit(Event(now, EventKind.OFFER_MADE, worker=w, job=j, offer=o,
                         until=now + timeout, travel_minutes=travel,
                         menu=key if self.menu_size > 1 else -1))
        return o

    def _menu_extras(self, snap: Snapshot, w: I64, j: I64) -> dict[int, list[tuple[int, float]]]:
        """Up to ``menu_size - 1`` more jobs for each worker the round placed: their nearest
        eligible jobs with a slot left after the round's own offers (a menu holds its slots,
        as any pending offer does), handed out nearest pair first."""
        cand, _, _ = matching.eligible_pairs(snap.workers, snap.jobs, self.rules, snap.now,
                                             snap.exclusions)
        row_of_job = {int(d): r for r, d in enumerate(snap.job_index.tolist())}
        free = np.asarray(snap.jobs.slots, np.int64).copy()
        for jk in j.tolist():
            free[row_of_job[int(jk)]] -= 1
        placed = {int(d): int(jk) for d, jk in zip(w.tolist(), j.tolist(), strict=True)}
        cw = snap.worker_index[cand.worker]
        mask = np.isin(cw, np.asarray(list(placed), np.int64))
        out: dict[int, list[tuple[int, float]]] = {}
        for k in np.flatnonzero(mask)[np.argsort(cand.travel_minutes[mask], kind="stable")]:
            wk, row = int(cw[k]), int(cand.job[k])
            jk = int(snap.job_index[row])
            got = out.setdefault(wk, [])
            if jk == placed[wk] or free[row] <= 0 or len(got) >= self.menu_size - 1:
                continue
            free[row] -= 1
            got.append((jk, float(cand.travel_minutes[k])))
        return out

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
