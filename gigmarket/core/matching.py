"""One dispatch round: who may work where, what each pairing costs, the best plan, and why.

SPEC 4 in four steps, each a pure function over the columnar pools of ``core.pool``:

1. :func:`eligible_pairs` — every (worker, job) pair that may be offered. A worker may take a
   job when they hold every required skill (and a verified certificate where the skill needs
   one), the straight-line distance is within the job's reach (``core.reach``: the market's
   service circle, ``Rules.reach_km``, widened for a job that has waited) and the trip no
   longer than the worker's own limit (``WorkerPool.max_travel_minutes``), the job's hourly
   pay meets the worker's minimum (piece rates pass), they can arrive by the start (plus
   ``arrival_grace_minutes``), they are available until the job ends, it does not overlap an
   assignment they have accepted, and the pair is not excluded (declined, expired, blocked).
   Pairs come from KD-trees over locally projected km, searched per required-skill signature
   so pairs failing on skills are mostly never enumerated, and every later rule is a numpy mask:
   nothing loops over workers x jobs in Python. The masks are evaluated cheapest first (wage
   and availability, then the float64 distance on what they leave, then arrival only for jobs
   where the edge of reach could be late); eligibility is their AND, so the order changes no
   verdict, and the distance and arrival tests stay exact at their limits. Every row left
   with no eligible partner gets the first rule, in the order above, that took its last
   candidate away.
2. :func:`cost_terms` — each pair's cost, lower is better, as weighted terms each bounded by
   its weight ``w`` from ``Rules.weights``:

   ===========  ===================================================================  =======
   term         value                                                                range
   ===========  ===================================================================  =======
   travel       ``w * min(travel_minutes / limit, 1)``; limit = the travel time at   [0, w]
                the edge of the service circle (60 min when the market sets none);
                with expanding reach the cap is ``max_reach_minutes / limit``
   waited       ``-w * min(waited_s / 3600, 4) / 4``: four hours' wait earns all     [-w, 0]
   key_group    ``-w`` for a manager-verified key-group member (重点群体)             [-w, 0]
   rating       ``-w * (rating - 3) / 2``: 5 stars earns ``w``, 1 star costs it      [-w, w]
   reliability  ``-w * (reliability - 0.5) * 2``: always turning up earns ``w``      [-w, w]
   fairness     ``w * min(earned_today_fen / 30000, 1)``: 300 yuan of work already   [0, w]
                given today counts fully against more
   employer_    ``-w * (employer rating - 3) / 2``, as for workers                   [-w, w]
   rating
   employer_    ``-w * (employer reliability - 0.5) * 2``: an employer who turns up, [-w, w]
   reliability  pays and is not reported earns ``w``
   total        the sum
   ===========  ===================================================================  =======

   Travel depends on the pair; waited to fairness are the worker's own and decide which
   workers win when workers compete for the same slots; the two employer terms are the job's
   own and steer workers, when jobs compete for them, away from employers who let people
   down (no-shows, late cancels, wage disputes, upheld reports) or are rated low.
3. :func:`solve` — OR-Tools min-cost max-flow over the given pairs only: most slots filled,
   then sooner-starting jobs, then least total cost.
4. :func:`plan_round` — the three together, with a reason for every job left out and every
   worker no job could take.
   It streams the eligible pairs through a shortlist (each worker's few nearest, each job's
   cheapest few per slot), so a round with tens of millions of eligible pairs neither holds
   them all in memory nor hands them all to the solver.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from gigmarket.core import reach
from gigmarket.core.geo import local_distance_km, project_km, search_radius_km, z_order
from gigmarket.core.market import Rules
from gigmarket.core.pool import (
    BOOL,
    F64,
    I64,
    Candidates,
    Exclusions,
    JobPool,
    Match,
    RoundPlan,
    WorkerPool,
)

REASONS: Final[dict[str, str]] = {
    # A worker left out of a round.
    "no_open_jobs": "No job is open in this market right now.",
    "no_job_in_reach": "No open job is within the market's travel limit.",
    "no_skill_match": "No job within reach asks for your skills.",
    "certificate_required": "Jobs within reach for your skills need a verified certificate.",
    "wage_below_minimum": "Jobs within reach for your skills pay less than your minimum.",
    "cannot_arrive_in_time": "You could not reach the suitable jobs by their start time.",
    "not_available_long_enough": "The suitable jobs end after the time you are available until.",
    "busy_overlap": "The suitable jobs overlap work you have already accepted.",
    # Either side.
    "declined_before": "Every remaining match was declined, let expire or blocked before.",
    "outranked": "Suitable matches existed, but this round's best plan placed them elsewhere.",
    # A job left with free slots.
    "no_workers_waiting": "No worker is waiting in this market right now.",
    "no_worker_in_reach": "No waiting worker is within the market's travel limit.",
    "no_worker_with_skill": "No worker within reach has the skills this job needs.",
    "no_worker_with_certificate": "No worker within reach holds the certificate this job needs.",
    "wage_below_worker_minimum": "The wage is below the minimum of every suitable worker nearby.",
    "no_worker_can_arrive_in_time": "No suitable worker can arrive by the start time.",
    "no_worker_available_long_enough": "No suitable worker is available until the job ends.",
    "no_worker_free": "Every suitable worker already has work at that time.",
    "not_enough_workers": "Every suitable worker is offered this job; slots are still free.",
}

REASONS_ZH: Final[dict[str, str]] = {
    "no_open_jobs": "本市场目前没有开放的岗位。",
    "no_job_in_reach": "出行范围内没有开放的岗位。",
    "no_skill_match": "附近的岗位与您的技能不匹配。",
    "certificate_required": "附近与您技能相符的岗位需要经核验的证书。",
    "wage_below_minimum": "附近与您技能相符的岗位工资低于您的最低要求。",
    "cannot_arrive_in_time": "您无法在开工前赶到合适的岗位。",
    "not_available_long_enough": "合适岗位的结束时间晚于您的可工作时间。",
    "busy_overlap": "合适的岗位与您已接受的工作时间冲突。",
    "declined_before": "其余可匹配的对象此前已被拒绝、超时未答复或被屏蔽。",
    "outranked": "存在合适的匹配，但本轮最优方案将其安排给了其他人或岗位。",
    "no_workers_waiting": "本市场目前没有等待派工的工人。",
    "no_worker_in_reach": "出行范围内没有等待派工的工人。",
    "no_worker_with_skill": "附近的工人不具备本岗位所需的技能。",
    "no_worker_with_certificate": "附近的工人没有本岗位所需的证书。",
    "wage_below_worker_minimum": "工资低于附近合适工人的最低要求。",
    "no_worker_can_arrive_in_time": "合适的工人都无法在开工前赶到。",
    "no_worker_available_long_enough": "合适的工人都无法工作到岗位结束。",
    "no_worker_free": "合适的工人在该时段都已有工作。",
    "not_enough_workers": "所有合适的工人都已收到本岗位的邀约，仍有空缺。",
}

#: The rules in the order reasons are judged; a row's reason is the first that leaves it with
#: no partner. Index 0 is distance, then skill, certificate, wage, arrival, availability,
#: overlap, exclusion.
_WORKER_STAGES: Final = (
    "no_job_in_reach",
    "no_skill_match",
    "certificate_required",
    "wage_below_minimum",
    "cannot_arrive_in_time",
    "not_available_long_enough",
    "busy_overlap",
    "declined_before",
)
_JOB_STAGES: Final = (
    "no_worker_in_reach",
    "no_worker_with_skill",
    "no_worker_with_certificate",
    "wage_below_worker_minimum",
    "no_worker_can_arrive_in_time",
    "no_worker_available_long_enough",
    "no_worker_free",
    "declined_before",
)

COST_KEYS: Final = (
    "travel", "waited", "key_group", "rating", "reliability", "fairness",
    "employer_rating", "employer_reliability", "total",
)
#: The terms that are the worker's own, and those that are the job's (its employer's).
WORKER_KEYS: Final = COST_KEYS[1:6]
JOB_KEYS: Final = COST_KEYS[6:-1]

#: Float costs become integer flow costs at this resolution (1/1000 of a weight unit).
_COST_SCALE: Final = 1000.0
#: Start-time buckets (hours from now) for the sooner-first preference; later is all "48 h".
_URGENCY_HOURS: Final = 48
#: Pairs per KD-tree search: enough to amortise the call, few enough to stay in cache (one
#: search of ten million pairs is 3-10x slower per pair than fifty of 200k).
_CHUNK_PAIRS: Final = 200_000
#: Flow shortlist (see :class:`_Shortlist`): a pair goes to the solver when it is among its
#: worker's PER_WORKER nearest or its job's PER_JOB_SLOT x free slots cheapest. On the
#: benchmark pools 5 and 15 fill every slot the unpruned solve fills; 5 and 10 lost 0.6 %
#: of the fills at 50k x 10k, 4 and 8 lost 1 % already at 10k x 2k.
PER_WORKER: Final = 5
PER_JOB_SLOT: Final = 15
#: Resolution of the shortlist's per-row cuts (ties at a cut are kept): job-side over the
#: whole cost range, worker-side over travel time to the edge of the circle (~1 minute).
_COST_LEVELS: Final = 64
_NEAR_LEVELS: Final = 16


def skill_mask(codes: Iterable[str], skill_order: Sequence[str]) -> int:
    """The bitmask of ``codes`` over ``skill_order`` (bit i = ``skill_order[i]``)."""
    bit = {code: 1 << i for i, code in enumerate(skill_order)}
    mask = 0
    for code in codes:
        if code not in bit:
            raise ValueError(f"unknown skill {code!r}")
        mask |= bit[code]
    return mask


def _travel_minutes(distance_km: F64, rules: Rules) -> F64:
    # Rules.travel_minutes, over an array.
    return distance_km * (rules.detour_factor / rules.speed_kmh * 60.0)


class _Frame:
    """Both pools in one flat km frame, with KD-trees over workers for radius searches."""

    def __init__(self, workers: WorkerPool, jobs: JobPool, job_reach_km: F64) -> None:
        lats = np.concatenate([workers.lat, jobs.lat])
        lons = np.concatenate([workers.lon, jobs.lon])
        lat0 = float((lats.min() + lats.max()) / 2)
        lon0 = float((lons.min() + lons.max()) / 2)
        self.workers, self.jobs = workers, jobs
        #: Each job's reach (``core.reach``: the circle, wider for jobs that wait), and the
        #: widest, which the searches use as their radius.
        self.job_reach_km = job_reach_km
        reach_km = float(job_reach_km.max()) if len(job_reach_km) else 0.0
        self.reach_km = reach_km
        self.worker_xy = project_km(workers.lat, workers.lon, lat0, lon0)
        self.job_xy = project_km(jobs.lat, jobs.lon, lat0, lon0)
        self.worker_cos = np.cos(np.radians(workers.lat))
        self.job_cos = np.cos(np.radians(jobs.lat))
        self.radius = search_radius_km(reach_km, lats, lat0)
        self._trees: dict[tuple[str, int], tuple[I64, cKDTree]] = {}

    def tree(self, rows: I64) -> cKDTree:
        return cKDTree(self.worker_xy[rows])

    def holders(self, kind: str, bit: int) -> tuple[I64, cKDTree]:
        """Workers with skill (``kind="skill"``) or certificate ``bit`` (0: everyone), indexed."""
        key = (kind, bit)
        if key not in self._trees:
            held = self.workers.skills if kind == "skill" else self.workers.certs
            rows = (
                np.arange(len(self.workers), dtype=np.int64)
                if bit == 0
                else np.flatnonzero(held & np.uint64(bit))
            )
            self._trees[key] = (rows, self.tree(rows))
        return self._trees[key]

    def found(self, w_rows: I64, tree: cKDTree, j_rows: I64) -> Iterator[tuple[I64, I64, I64]]:
        """Pairs within the search radius (a superset of reach), in chunks of jobs.

        Yields ``(js, w, jl)``: the chunk's job rows, and per pair the worker row and the
        job's index into ``js``. Local job indices keep per-job lookups in small arrays and
        let the per-job shortlist count without a compaction.
        """
        if len(w_rows) == 0:
            return
        chunk, start = 64, 0
        while start < len(j_rows):
            js = j_rows[start : start + chunk]
            start += len(js)
            found = tree.sparse_distance_matrix(
                cKDTree(self.job_xy[js]), self.radius, output_type="ndarray"
            )
            # Size the next chunk from this one's yield: dense and sparse markets alike.
            chunk = int(np.clip(chunk * _CHUNK_PAIRS / max(len(found), 1), 8, 8192))
            yield js, w_rows[found["i"]], np.asarray(found["j"], np.int64)

    def distance(self, w: I64, js: I64, jl: I64) -> F64:
        """The true distance of each pair (worker ``w``, job ``js[jl]``), km."""
        workers, jobs = self.workers, self.jobs
        return local_distance_km(
            workers.lat[w],
            workers.lon[w],
            self.worker_cos[w],
            jobs.lat[js][jl],
            jobs.lon[js][jl],
            self.job_cos[js][jl],
        )

    def pairs(self, w_rows: I64, tree: cKDTree, j_rows: I64) -> Iterator[tuple[I64, I64, F64]]:
        """Pairs of ``w_rows`` (indexed by ``tree``) and ``j_rows`` within reach, in chunks."""
        for js, w, jl in self.found(w_rows, tree, j_rows):
            d = self.distance(w, js, jl)
            near = np.flatnonzero(d <= self.job_reach_km[js[jl]])
            yield w[near], js[jl[near]], d[near]


class _PairRules:
    """The rules judged per pair, with the round's lookups built once."""

    def __init__(
        self, workers: WorkerPool, jobs: JobPool, rules: Rules, now: float, exclusions: Exclusions,
        job_reach_km: F64,
    ) -> None:
        self.workers, self.jobs, self.rules = workers, jobs, rules
        order = np.argsort(workers.busy_worker, kind="stable")
        self.busy_worker = np.asarray(workers.busy_worker[order], np.int64)
        self.busy_start = workers.busy_start[order]
        self.busy_end = workers.busy_end[order]
        self.has_busy = np.zeros(len(workers), dtype=bool)
        self.has_busy[self.busy_worker] = True
        self.n_jobs = len(jobs)
        # Keys worker * n_jobs + job would alias another pair for an out-of-range row.
        for rows, n in ((exclusions.worker_rows, len(workers)), (exclusions.job_rows, len(jobs))):
            if len(rows) and (rows.min() < 0 or rows.max() >= n):
                raise ValueError("exclusion rows must index the round's pools")
        self.banned = np.unique(exclusions.worker_rows * self.n_jobs + exclusions.job_rows)
        self.has_ban = np.zeros(len(workers), dtype=bool)
        self.has_ban[exclusions.worker_rows] = True
        # Per job once, not per pair: a piece rate meets any minimum; the travel time left
        # to arrive by the start (plus grace).
        self.pay = np.where(np.isnan(jobs.hourly_fen), np.inf, jobs.hourly_fen)
        self.travel_s_left = jobs.start_at + rules.arrival_grace_minutes * 60.0 - now
        # Jobs that every pair within reach can reach in time: travel time grows with
        # distance in floating point too (a product with positive constants rounds
        # monotonically), so the pair at the very edge passing means all pass.
        edge_s = _travel_minutes(job_reach_km, rules) * 60.0
        self.arrival_binds = ~(edge_s <= self.travel_s_left)
        # Workers whose pairs need the overlap or exclusion join at all.
        self.has_either = self.has_busy | self.has_ban

    def skills(self, w: I64, j: I64) -> list[BOOL]:
        """Has every required skill; holds every required certificate."""
        return [
            (self.jobs.skills[j] & ~self.workers.skills[w]) == 0,
            (self.jobs.certs_required[j] & ~self.workers.certs[w]) == 0,
        ]

    def others(self, w: I64, j: I64, distance_km: F64) -> list[BOOL]:
        """Wage, arrival, availability, overlap, exclusion: one mask each, in reason order."""
        return [
            self.workers.min_hourly_fen[w] <= self.pay[j],
            _travel_minutes(distance_km, self.rules) * 60.0 <= self.travel_s_left[j],
            self.jobs.end_at[j] <= self.workers.available_until[w],
            self.free(w, j),
            self.allowed(w, j),
        ]

    def free(self, w: I64, j: I64) -> BOOL:
        """The job does not overlap any of the worker's busy ``[start, end)``."""
        free = np.ones(len(w), dtype=bool)
        idx = np.flatnonzero(self.has_busy[w])
        if len(idx) == 0:
            return free
        # Join each such pair with each busy interval of its worker: the intervals of worker
        # w[i] are the sorted positions lo[i] .. lo[i] + count[i] - 1.
        bw = self.busy_worker
        lo = np.searchsorted(bw, w[idx], side="left")
        count = np.searchsorted(bw, w[idx], side="right") - lo
        pair = np.repeat(np.arange(len(idx)), count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count - lo, count)
        jj = j[idx][pair]
        clash = (self.jobs.start_at[jj] < self.busy_end[k]) & (
            self.busy_start[k] < self.jobs.end_at[jj]
        )
        free[idx[np.bincount(pair[clash], minlength=len(idx)) > 0]] = False
        return free

    def allowed(self, w: I64, j: I64) -> BOOL:
        """The pair is not excluded (keys ``worker * n_jobs + job`` against a sorted list)."""
        allowed = np.ones(len(w), dtype=bool)
        # Only pairs of workers with some exclusion are searched; the rest cost one gather.
        idx = np.flatnonzero(self.has_ban[w])
        if len(idx) == 0:
            return allowed
        key = w[idx] * self.n_jobs + j[idx]
        pos = np.minimum(np.searchsorted(self.banned, key), len(self.banned) - 1)
        allowed[idx[self.banned[pos] == key]] = False
        return allowed


#: ``(worker, job, distance_km, local job index, chunk job rows)``, see ``_Search.eligible``.
_Chunk = tuple[I64, I64, F64, I64, I64]


def _empty_candidates() -> Candidates:
    empty = np.zeros(0, np.int64)
    return Candidates(empty, empty.copy(), np.zeros(0), np.zeros(0))


class _Search:
    """One round's search for eligible pairs, and for the reasons of rows that have none."""

    def __init__(
        self, workers: WorkerPool, jobs: JobPool, rules: Rules, now: float, exclusions: Exclusions
    ) -> None:
        self.workers, self.jobs = workers, jobs
        # A job that has waited may reach beyond the circle (issue 14): read from its age.
        job_reach_km = reach.reach_km(now - jobs.posted_at, rules,
                                      left=reach.left_s(now, jobs.start_at, rules))
        self.frame = _Frame(workers, jobs, job_reach_km)
        self.rules = _PairRules(workers, jobs, rules, now, exclusions, job_reach_km)
        self.widening = reach.widens(rules) and rules.reach_worker_wait_s is not None
        self.circle_km = rules.reach_km
        self.leave_circle = reach.may_leave_circle(workers.waited_s, rules)
        # The worker's own longest trip, when anyone in the pool set one: part of reach, so a
        # worker sees no job beyond it however far the job's reach has widened.
        own = workers.max_travel_minutes
        self.own_minutes = own if own is not None and np.isfinite(own).any() else None

    def _within_own(self, w: I64, d: F64) -> BOOL:
        """Per pair: the trip is no longer than its worker's own limit."""
        assert self.own_minutes is not None
        return _travel_minutes(d, self.rules.rules) <= self.own_minutes[w]

    def eligible(self) -> Iterator[_Chunk]:
        """Every eligible pair, in chunks; each job in one chunk.

        A chunk is ``(worker, job, distance_km, local, chunk_jobs)``: per pair the rows, the
        distance, and the job's index into ``chunk_jobs``, the rows of the chunk's jobs.

        Jobs are searched per signature (required skills and certificates) against only the
        holders of its rarest requirement, so pairs failing on skills are mostly never
        enumerated; within a signature they go in Z-order, so each chunk covers a compact
        patch and meets few workers (which keeps searches fast and the per-chunk shortlist in
        :func:`plan_round` small).
        """
        jobs, frame = self.jobs, self.frame
        signatures, sig_of_job = np.unique(
            np.stack([jobs.skills, jobs.certs_required], axis=1), axis=0, return_inverse=True
        )
        sig_of_job = sig_of_job.reshape(-1)
        if np.isfinite(frame.reach_km):
            by_place = np.argsort(z_order(frame.job_xy, max(frame.reach_km / 4, 1e-3)))
            sig_of_job_placed = sig_of_job[by_place]
        else:
            by_place, sig_of_job_placed = np.arange(len(jobs)), sig_of_job
        for g, (need, certs) in enumerate(signatures.tolist()):
            w_rows, tree, exact = self._qualified(need, certs)
            for js, w, jl in frame.found(w_rows, tree, by_place[sig_of_job_placed == g]):
                chunk = self._chunk(js, w, jl, exact)
                if len(chunk[0]):
                    yield chunk

    def _chunk(self, js: I64, w: I64, jl: I64, exact: bool) -> _Chunk:
        """The eligible pairs among found ones: the rules an AND, cheapest first.

        The distance-free masks run on every found pair and the distance only on the pairs
        they leave (about three in four); arrival is judged only for jobs where it can fail.
        The verdicts are the masks of :class:`_PairRules`, only their order of evaluation
        differs.
        """
        rules, workers, jobs = self.rules, self.workers, self.jobs
        keep = workers.min_hourly_fen[w] <= rules.pay[js][jl]
        keep &= jobs.end_at[js][jl] <= workers.available_until[w]
        if not exact:
            for mask in rules.skills(w, js[jl]):
                keep &= mask
        sel = np.flatnonzero(keep)
        w, jl = w[sel], jl[sel]
        d = self.frame.distance(w, js, jl)
        keep = d <= self.frame.job_reach_km[js][jl]
        if self.own_minutes is not None:
            keep &= self._within_own(w, d)
        if self.widening:
            keep &= (d <= self.circle_km) | self.leave_circle[w]
        if rules.arrival_binds[js].any():
            left = rules.travel_s_left[js][jl]
            keep &= _travel_minutes(d, rules.rules) * 60.0 <= left
        either = np.flatnonzero(rules.has_either[w] & keep)
        if len(either):
            j = js[jl[either]]
            keep[either] = rules.free(w[either], j) & rules.allowed(w[either], j)
        sel = np.flatnonzero(keep)
        w, jl = w[sel], jl[sel]
        return w, js[jl], d[sel], jl, js

    def _qualified(self, need: int, certs: int) -> tuple[I64, cKDTree, bool]:
        """Workers to search for a signature: the holders of its rarest skill or certificate.

        Returns the rows, their tree, and whether the rows are exactly the qualified workers
        (else the pairs still need the skill and certificate masks).
        """
        options = [("skill", 1 << b) for b in range(64) if need >> b & 1]
        options += [("cert", 1 << b) for b in range(64) if certs >> b & 1]
        if not options:
            rows, tree = self.frame.holders("skill", 0)
            return rows, tree, True
        kind, bit = min(options, key=lambda o: len(self.frame.holders(*o)[0]))
        rows, tree = self.frame.holders(kind, bit)
        return rows, tree, len(options) == 1 and kind == "skill"

    def reasons(self, rows: I64, side: str) -> dict[int, str]:
        """Why each of ``rows`` (workers or jobs) has no eligible partner.

        Replays every rule in order over the rows' pairs within reach, of any skill, and
        records per row the furthest any pair got. Only rows without a partner pay for this.
        """
        if len(rows) == 0:
            return {}
        frame = self.frame
        if side == "worker":
            everywhere = np.arange(len(self.jobs), dtype=np.int64)
            chunks = frame.pairs(rows, frame.tree(rows), everywhere)
            n, stages = len(self.workers), _WORKER_STAGES
        else:
            everyone, tree = frame.holders("skill", 0)
            chunks = frame.pairs(everyone, tree, rows)
            n, stages = len(self.jobs), _JOB_STAGES
        # furthest[r] = most rules passed by any pair of row r; -1 = no pair within reach.
        furthest = np.full(n, -1, dtype=np.int64)
        for w, j, d in chunks:
            if self.own_minutes is not None:
                # Beyond the worker's own limit counts as out of reach, as in the search.
                inside = self._within_own(w, d)
                w, j, d = w[inside], j[inside], d[inside]
            alive = np.ones(len(w), dtype=bool)
            passed = np.zeros(len(w), dtype=np.int64)
            for mask in self.rules.skills(w, j) + self.rules.others(w, j, d):
                alive &= mask
                passed += alive
            np.maximum.at(furthest, w if side == "worker" else j, passed)
        # A row passing every rule here would contradict the main search; it is not left out
        # for want of a partner, so it gets the generic reason rather than an invented rule.
        return {
            int(r): stages[s] if s < len(stages) else "outranked"
            for r, s in zip(rows.tolist(), (furthest[rows] + 1).tolist(), strict=True)
        }


def eligible_pairs(
    workers: WorkerPool, jobs: JobPool, rules: Rules, now: float, exclusions: Exclusions
) -> tuple[Candidates, dict[int, str], dict[int, str]]:
    """Every pair that may be offered, and why each row without a partner has none.

    Returns ``(candidates, worker_reasons, job_reasons)``; the reasons are keyed by row and
    cover exactly the rows that appear in no candidate.
    """
    nw, nj = len(workers), len(jobs)
    if nw == 0 or nj == 0:
        return _empty_candidates(), *_empty_market(nw, nj)
    search = _Search(workers, jobs, rules, now, exclusions)
    parts = list(search.eligible())
    if parts:
        dist = np.concatenate([p[2] for p in parts])
        cand = Candidates(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            dist,
            _travel_minutes(dist, rules),
        )
    else:
        cand = _empty_candidates()
    lonely_workers = np.flatnonzero(np.bincount(cand.worker, minlength=nw) == 0)
    lonely_jobs = np.flatnonzero(np.bincount(cand.job, minlength=nj) == 0)
    return cand, search.reasons(lonely_workers, "worker"), search.reasons(lonely_jobs, "job")


def _worker_terms(workers: WorkerPool, rules: Rules) -> dict[str, F64]:
    """The cost terms that depend on the worker alone, one value per worker row."""
    wt = rules.weights
    return {
        "waited": -wt.waited * np.clip(workers.waited_s / 3600.0, 0.0, 4.0) / 4.0,
        "key_group": -wt.key_group * workers.key_group.astype(np.float64),
        "rating": -wt.rating * (np.clip(workers.rating, 1.0, 5.0) - 3.0) / 2.0,
        "reliability": -wt.reliability * (np.clip(workers.reliability, 0.0, 1.0) - 0.5) * 2.0,
        "fairness": wt.fairness * np.clip(workers.earned_today_fen / 30000.0, 0.0, 1.0),
    }


def _job_terms(jobs: JobPool, rules: Rules) -> dict[str, F64]:
    """The cost terms that depend on the job (its employer) alone, one value per job row."""
    wt = rules.weights
    return {
        "employer_rating":
            -wt.employer_rating * (np.clip(jobs.employer_rating, 1.0, 5.0) - 3.0) / 2.0,
        "employer_reliability":
            -wt.employer_reliability
            * (np.clip(jobs.employer_reliability, 0.0, 1.0) - 0.5) * 2.0,
    }


def _travel_limit_minutes(rules: Rules) -> float:
    """Travel time at the edge of the service circle (60 minutes when there is no edge)."""
    limit = float(_travel_minutes(np.array([rules.reach_km]), rules)[0])
    return limit if np.isfinite(limit) and limit > 0 else 60.0


def _travel_term(travel_minutes: F64, rules: Rules) -> F64:
    limit = _travel_limit_minutes(rules)
    # Beyond the circle (a job that waited, core.reach) travel keeps costing more, so the
    # nearest of the far workers is asked first; inside it the term is unchanged.
    cap = max(rules.max_reach_minutes / limit, 1.0) if reach.widens(rules) else 1.0
    return rules.weights.travel * np.minimum(travel_minutes / limit, cap)


def _sum(terms: dict[str, F64], keys: Sequence[str], n: int) -> F64:
    total = np.zeros(n)
    for k in keys:
        total += terms[k]
    return total


def cost_terms(
    workers: WorkerPool, jobs: JobPool, cand: Candidates, rules: Rules, now: float
) -> dict[str, F64]:
    """Each candidate's weighted cost terms (module docstring), lower is better.

    Keys are ``COST_KEYS``; every array is aligned with ``cand``.
    """
    per_worker = _worker_terms(workers, rules)
    per_job = _job_terms(jobs, rules)
    travel = _travel_term(cand.travel_minutes, rules)
    terms = (
        {"travel": travel}
        | {k: v[cand.worker] for k, v in per_worker.items()}
        | {k: v[cand.job] for k, v in per_job.items()}
    )
    terms["total"] = (
        travel
        + _sum(per_worker, WORKER_KEYS, len(workers))[cand.worker]
        + _sum(per_job, JOB_KEYS, len(jobs))[cand.job]
    )
    return terms


def _span(values: F64) -> tuple[float, float]:
    return (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)


def _cheapest(row: I64, level: I64, levels: int, limit: I64) -> tuple[BOOL, I64]:
    """Per pair: among the ``limit[row]`` cheapest of its row (ties at the cut are kept).

    ``level`` is the pair's cost quantised to ``levels`` steps; a histogram of levels per row
    finds every row's cut in one pass, with no sort. Also returns each row's cut level
    (``levels - 1`` for rows with no more than their limit).
    """
    degree = np.bincount(row, minlength=len(limit))
    over = degree > limit
    if over.all():
        # Every row is cut (the usual case per job): no compaction, no gathers.
        n = len(limit)
        hist = np.bincount(row * levels + level, minlength=n * levels)
        cut = np.argmax(np.cumsum(hist.reshape(n, levels), axis=1) >= limit[:, None], axis=1)
        return level <= cut[row], cut
    keep = ~over[row]
    cut = np.full(len(limit), levels - 1, dtype=np.int64)
    if not over.any():
        return keep, cut
    compact = np.cumsum(over) - 1
    sel = np.flatnonzero(~keep)
    r = compact[row[sel]]
    n_over = int(over.sum())
    hist = np.bincount(r * levels + level[sel], minlength=n_over * levels)
    over_cut = np.argmax(
        np.cumsum(hist.reshape(n_over, levels), axis=1) >= limit[over][:, None], axis=1
    )
    keep[sel] = level[sel] <= over_cut[r]
    cut[over] = over_cut
    return keep, cut


class _Shortlist:
    """The pairs worth giving the solver, gathered chunk by chunk from :class:`_Search`.

    A pair is kept when it is among its job's ``PER_JOB_SLOT`` x slots cheapest (a job's
    pairs all arrive in one chunk) or among its worker's ``PER_WORKER`` cheapest (for one
    worker only travel and the employer terms differ; when those weigh nothing, its
    nearest), ties at either cut kept. Job-side lists let each job pick its best workers
    (key-group members, long waits); worker-side lists make sure workers no job ranks highly
    still have somewhere to go, which keeps the number of filled slots at the unpruned
    optimum. Every row with an eligible pair keeps at least one.

    A worker's pairs arrive over many chunks, so each chunk pools its workers' cheapest few
    and :meth:`finish` cuts the pool; the running cut keeps the pool small.
    """

    def __init__(self, workers: WorkerPool, jobs: JobPool, rules: Rules) -> None:
        self.rules = rules
        self.worker_terms = _worker_terms(workers, rules)
        self.worker_total = _sum(self.worker_terms, WORKER_KEYS, len(workers))
        self.job_terms = _job_terms(jobs, rules)
        self.job_total = _sum(self.job_terms, JOB_KEYS, len(jobs))
        self.job_limit = PER_JOB_SLOT * np.asarray(jobs.slots, np.int64)
        self.worker_limit = np.full(len(workers), PER_WORKER, np.int64)
        # Cost levels span every possible cost, so they mean the same in every chunk.
        w_lo, w_hi = _span(self.worker_total)
        j_lo, j_hi = _span(self.job_total)
        lo, hi = w_lo + j_lo, w_hi + j_hi + rules.weights.travel
        self.lo, self.scale = lo, (_COST_LEVELS - 1) / (hi - lo) if hi > lo else 0.0
        # A worker ranks its own pairs by travel plus the employer terms (its own terms are
        # the same in each); by nearness alone when those weigh nothing.
        own_span = j_hi - j_lo + rules.weights.travel
        self.own_lo = j_lo
        self.own_scale = _NEAR_LEVELS / own_span if own_span > 0 else 0.0
        self.near_scale = _NEAR_LEVELS / _travel_limit_minutes(rules)
        self.worker_cut = np.full(len(workers), _NEAR_LEVELS - 1, dtype=np.int64)
        self.parts: list[tuple[I64, I64, F64, F64, BOOL]] = []
        #: Eligible pairs seen, kept or not.
        self.count = 0

    def _own_level(self, own: F64, travel_minutes: F64) -> I64:
        """Each pair's level in its worker's own ranking (lower is better), from ``own``, the
        pair's cost less the worker's own terms."""
        if self.own_scale:
            value = (own - self.own_lo) * self.own_scale
        else:
            value = travel_minutes * self.near_scale
        return np.minimum(value, _NEAR_LEVELS - 1).astype(np.int64)

    def add(self, w: I64, j: I64, d: F64, jl: I64, js: I64) -> None:
        """Pool a chunk of eligible pairs (see ``_Search.eligible``)."""
        self.count += len(w)
        travel_minutes = _travel_minutes(d, self.rules)
        own = _travel_term(travel_minutes, self.rules) + self.job_total[j]
        cost = own + self.worker_total[w]
        level = np.clip((cost - self.lo) * self.scale, 0, _COST_LEVELS - 1).astype(np.int64)
        # The chunk holds all pairs of its jobs, so local job indices count them directly.
        by_job, _ = _cheapest(jl, level, _COST_LEVELS, self.job_limit[js])
        # A worker's PER_WORKER cheapest overall are never beyond the cut of any chunk seen
        # so far, so pairs beyond the running minimum of cuts cannot make the final list:
        # they skip the histogram, and the pool stays a few times PER_WORKER per worker.
        near = self._own_level(own, travel_minutes)
        hopeful = np.flatnonzero(near <= self.worker_cut[w])
        chunk_best, cut = _cheapest(w[hopeful], near[hopeful], _NEAR_LEVELS, self.worker_limit)
        np.minimum(self.worker_cut, cut, out=self.worker_cut)
        either = by_job.copy()
        either[hopeful[chunk_best]] = True
        keep = np.flatnonzero(either)
        self.parts.append((w[keep], j[keep], d[keep], cost[keep], by_job[keep]))

    def finish(self) -> tuple[Candidates, F64]:
        """The kept pairs and their total costs."""
        if not self.parts:
            return _empty_candidates(), np.zeros(0)
        w, j, d, cost, by_job = (np.concatenate([p[k] for p in self.parts]) for k in range(5))
        travel_minutes = _travel_minutes(d, self.rules)
        near = self._own_level(cost - self.worker_total[w], travel_minutes)
        keep = by_job | _cheapest(w, near, _NEAR_LEVELS, self.worker_limit)[0]
        cand = Candidates(w[keep], j[keep], d[keep], travel_minutes[keep])
        return cand, cost[keep]


def solve(workers: WorkerPool, jobs: JobPool, cand: Candidates, costs: F64, now: float) -> I64:
    """Indices into ``cand`` of the chosen pairs: most slots, sooner jobs, least cost.

    The network is source -> worker (capacity 1) -> job (capacity 1, the pair's cost) -> sink
    (capacity = the job's free slots, cost = its urgency); only the given pairs are arcs.
    ``solve_max_flow_with_min_cost`` first maximises the flow, i.e. the number of filled
    slots, and only then minimises cost among maximum flows, so filling comes first whatever
    the costs.

    Among maximum flows the cost is ``U * H + P``: ``H`` sums, over filled slots, the whole
    hours until their job starts (clipped to 0..48), ``P`` sums the pair costs (integers at
    1/1000 resolution), and ``U`` is one more than the spread of pair costs. So a plan that
    fills a slot an hour sooner beats any plan that differs from it in one pair's cost: when
    jobs compete for a worker, the sooner job wins however far it is, and only among equally
    urgent plans does cost decide. Strict lexicographic order over every exchange would
    need ``U`` about ``min(workers, jobs)`` times larger, because an exchange can re-route
    a chain of pairs; that measured 1.7x slower on a 10k x 2k round and changed the urgency
    of no benchmark plan.
    """
    if len(cand) == 0:
        return np.zeros(0, np.int64)
    costs = np.asarray(costs, np.float64)
    if not np.all(np.isfinite(costs)):
        raise ValueError("pair costs must be finite")
    w_rows, w_node = np.unique(cand.worker, return_inverse=True)
    j_rows, j_node = np.unique(cand.job, return_inverse=True)
    nw, nj, na = len(w_rows), len(j_rows), len(cand)
    source, sink = nw + nj, nw + nj + 1

    pair_cost = np.rint(costs * _COST_SCALE).astype(np.int64)
    # A common shift changes every maximum flow's cost by the same amount (each unit of flow
    # crosses exactly one pair arc): the optimum is unchanged and costs stay >= 0.
    pair_cost -= pair_cost.min()
    urgency_unit = int(pair_cost.max()) + 1
    hours = np.clip(np.floor((jobs.start_at[j_rows] - now) / 3600.0), 0, _URGENCY_HOURS)

    slots = np.asarray(jobs.slots[j_rows], np.int64)
    tails = np.concatenate([np.full(nw, source), w_node, nw + np.arange(nj)])
    heads = np.concatenate([np.arange(nw), nw + j_node, np.full(nj, sink)])
    capacities = np.concatenate([np.ones(nw + na, np.int64), slots])
    unit_costs = np.concatenate(
        [np.zeros(nw, np.int64), pair_cost, hours.astype(np.int64) * urgency_unit]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities, unit_costs
    )
    # Offer more than can ever flow; the solver sends the maximum it can.
    most = min(nw, int(slots.sum()))
    flow.set_node_supply(source, most)
    flow.set_node_supply(sink, -most)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = np.asarray(flow.flows(np.asarray(arcs, np.int32)[nw : nw + na])) > 0
    return np.flatnonzero(used).astype(np.int64)


def _empty_market(n_workers: int, n_jobs: int) -> tuple[dict[int, str], dict[int, str]]:
    """Reasons when one side of the market is empty."""
    return (
        dict.fromkeys(range(n_workers), "no_open_jobs"),
        dict.fromkeys(range(n_jobs), "no_workers_waiting"),
    )


def plan_round(
    workers: WorkerPool, jobs: JobPool, rules: Rules, now: float, exclusions: Exclusions
) -> RoundPlan:
    """A round's plan: the matches with their cost terms, a reason for every job left with a
    free slot, and one for every worker without an eligible partner.

    Same eligibility and costs as :func:`eligible_pairs` and :func:`cost_terms`, but the
    pairs stream through :class:`_Shortlist` instead of being gathered whole: the solver
    sees ~``PER_WORKER * workers + PER_JOB_SLOT * slots`` arcs, not every eligible pair
    (tens of millions in a 50k x 10k round). The shortlist cannot bind while no worker has
    more than ``PER_WORKER`` candidates and no job more than ``PER_JOB_SLOT`` per free slot;
    on the benchmark pools it fills as many slots, as soon, as solving over every pair, at a
    pair cost a few per cent higher (1.4 % and 3.1 % on two 10k x 2k seeds).
    ``candidate_count`` counts every eligible pair; ``candidates_s`` times search, costs,
    shortlist and reasons, ``solve_s`` the flow.
    """
    t0 = time.perf_counter()
    nw, nj = len(workers), len(jobs)
    shortlist = _Shortlist(workers, jobs, rules)
    search = _Search(workers, jobs, rules, now, exclusions) if nw and nj else None
    for chunk in search.eligible() if search else ():
        shortlist.add(*chunk)
    cand, total = shortlist.finish()
    if search is None:
        lonely_workers, lonely_jobs = _empty_market(nw, nj)
    else:
        # The shortlist keeps at least one pair of every worker and job that has any.
        lonely_workers = search.reasons(
            np.flatnonzero(np.bincount(cand.worker, minlength=nw) == 0), "worker"
        )
        lonely_jobs = search.reasons(
            np.flatnonzero(np.bincount(cand.job, minlength=nj) == 0), "job"
        )
    t1 = time.perf_counter()
    chosen = solve(workers, jobs, cand, total, now)
    t2 = time.perf_counter()

    cw, cj = cand.worker[chosen], cand.job[chosen]
    columns = [_travel_term(cand.travel_minutes[chosen], rules).tolist()]
    columns += [shortlist.worker_terms[k][cw].tolist() for k in WORKER_KEYS]
    columns += [shortlist.job_terms[k][cj].tolist() for k in JOB_KEYS]
    columns.append(total[chosen].tolist())
    matches = [
        Match(
            worker_row=wr,
            job_row=jr,
            distance_km=dk,
            travel_minutes=tm,
            terms=dict(zip(COST_KEYS, values, strict=True)),
        )
        for wr, jr, dk, tm, *values in zip(
            cw.tolist(),
            cj.tolist(),
            cand.distance_km[chosen].tolist(),
            cand.travel_minutes[chosen].tolist(),
            *columns,
            strict=True,
        )
    ]

    # A job with a free slot after a maximum flow has no unmatched shortlisted worker (that
    # would be an augmenting path): they are all placed, some elsewhere (outranked), or all
    # here and there are too few. The shortlist keeps 15 per slot, so "too few" is exact.
    free = np.asarray(jobs.slots, np.int64) - np.bincount(cj, minlength=nj)
    job_of_worker = np.full(nw, -1, dtype=np.int64)
    job_of_worker[cw] = cj
    elsewhere = np.bincount(cand.job[job_of_worker[cand.worker] != cand.job], minlength=nj)
    job_reasons = {
        r: lonely_jobs.get(r, "outranked" if elsewhere[r] else "not_enough_workers")
        for r in np.flatnonzero(free > 0).tolist()
    }
    return RoundPlan(
        matches=matches,
        # Only the workers no job could take: the rest were placed, or were eligible and
        # placed behind others ("outranked"), which ``core.waiting.round_reason`` says when
        # asked. At city scale that is ~90 rows to store a round instead of ~5,600 (issue 13).
        worker_reasons=lonely_workers,
        job_reasons=job_reasons,
        candidate_count=shortlist.count,
        candidates_s=t1 - t0,
        solve_s=t2 - t1,
    )
