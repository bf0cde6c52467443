"""Columnar snapshots of a market's live pools: what one dispatch round decides over.

Rows are parallel numpy arrays (one row per available worker, one per open job) so candidate
generation is vectorised. Times are epoch seconds (float); money is fen; skills are bitmasks
over the market's skill list (bit i = ``skill_codes[i]``), so "has every required skill" is
``job_mask & ~worker_mask == 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class WorkerPool:
    """Available workers (state ``available``) of one market at one instant."""

    ids: list[str]
    lat: F64
    lon: F64
    #: Skills held (bitmask).
    skills: U64
    #: Skills held with a verified certificate (bitmask, a subset of ``skills``).
    certs: U64
    #: Lowest acceptable pay as fen per hour (see ``model.hourly_fen``); 0 = none.
    min_hourly_fen: F64
    #: Epoch seconds until which the worker is available; ``inf`` when not given.
    available_until: F64
    #: Seconds waited in the pool today (since first check-in today, minus time at work).
    waited_s: F64
    #: A manager-verified key-group member (重点群体).
    key_group: BOOL
    #: Mean rating 1..5 (3.0 when unrated).
    rating: F64
    #: 0..1, share of accepted jobs turned up for and not cancelled late (1.0 when new).
    reliability: F64
    #: Fen earned (agreed) today from assignments already accepted.
    earned_today_fen: F64
    #: Busy intervals from accepted assignments: row ``busy_worker[k]`` is busy
    #: ``[busy_start[k], busy_end[k])``.
    busy_worker: I64
    busy_start: F64
    busy_end: F64
    #: The worker's own longest trip in travel minutes (``inf``: none of their own, the
    #: market's reach alone). ``None``: nobody in the pool set one (issue 14: a job that
    #: reaches beyond the circle must not send a worker further than they said they go).
    max_travel_minutes: F64 | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class JobPool:
    """Open jobs with at least one free slot (headcount − accepted − pending offers)."""

    ids: list[str]
    employer_ids: list[str]
    lat: F64
    lon: F64
    #: Required skills (bitmask).
    skills: U64
    #: Required skills that need a verified certificate (bitmask ⊆ ``skills``).
    certs_required: U64
    #: Pay as fen per hour; NaN for piece rates (then only piece-rate minimums compare).
    hourly_fen: F64
    start_at: F64
    end_at: F64
    #: Free slots this round (>= 1).
    slots: I64
    posted_at: F64
    #: The posting employer's rating 1..5 (3 until rated) and reliability 0..1 (1 until it
    #: lets anyone down): shown in offers, and both weigh in the pair's cost.
    employer_rating: F64
    employer_reliability: F64

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Pairs that must never be offered: declined or expired before, or blocked.

    Given as row indices into the round's ``WorkerPool`` and ``JobPool``.
    """

    worker_rows: I64
    job_rows: I64

    @staticmethod
    def none() -> Exclusions:
        return Exclusions(np.zeros(0, np.int64), np.zeros(0, np.int64))

    @staticmethod
    def among(pairs: Iterable[str], worker_ids: Sequence[str],
              job_ids: Sequence[str]) -> Exclusions:
        """The ``worker|job`` pairs whose both ends are in this round's pools, as rows."""
        w_index = {w: i for i, w in enumerate(worker_ids)}
        j_index = {j: i for i, j in enumerate(job_ids)}
        ex_w: list[int] = []
        ex_j: list[int] = []
        for pair in pairs:
            w, _, j = pair.partition("|")
            wi, ji = w_index.get(w), j_index.get(j)
            if wi is not None and ji is not None:
                ex_w.append(wi)
                ex_j.append(ji)
        return Exclusions(np.array(ex_w, np.int64), np.array(ex_j, np.int64))


@dataclass(frozen=True, slots=True)
class Candidates:
    """Eligible (worker, job) pairs with what the cost needs, one row per pair."""

    worker: I64
    job: I64
    distance_km: F64
    travel_minutes: F64

    def __len__(self) -> int:
        return int(self.worker.shape[0])


@dataclass(frozen=True, slots=True)
class Match:
    worker_row: int
    job_row: int
    distance_km: float
    travel_minutes: float
    #: Weighted cost terms, keys as ``core.matching.COST_KEYS``.
    terms: dict[str, float]


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """A round's decision: who is offered what, and why everybody else is not."""

    matches: list[Match]
    #: Worker row without any eligible partner -> reason code (see ``matching.REASONS``).
    #: An unmatched worker missing here had partners and was outranked.
    worker_reasons: dict[int, str]
    #: Job row -> reason code, for jobs left with free slots.
    job_reasons: dict[int, str]
    candidate_count: int
    #: Seconds spent, for the round's timing figures.
    candidates_s: float
    solve_s: float


# -- subsets: a round that looks only near what changed (issue 13) ---------------------------


def take_workers(pool: WorkerPool, rows: I64) -> WorkerPool:
    """The workers at ``rows`` (ascending), busy intervals renumbered to the new rows."""
    new_row = np.full(len(pool), -1, np.int64)
    new_row[rows] = np.arange(len(rows))
    keep = new_row[pool.busy_worker] >= 0 if len(pool.busy_worker) else np.zeros(0, np.bool_)
    return WorkerPool(
        ids=[pool.ids[i] for i in rows.tolist()], lat=pool.lat[rows], lon=pool.lon[rows],
        skills=pool.skills[rows], certs=pool.certs[rows],
        min_hourly_fen=pool.min_hourly_fen[rows], available_until=pool.available_until[rows],
        waited_s=pool.waited_s[rows], key_group=pool.key_group[rows], rating=pool.rating[rows],
        reliability=pool.reliability[rows], earned_today_fen=pool.earned_today_fen[rows],
        busy_worker=new_row[pool.busy_worker[keep]], busy_start=pool.busy_start[keep],
        busy_end=pool.busy_end[keep],
        max_travel_minutes=None if pool.max_travel_minutes is None
        else pool.max_travel_minutes[rows])


def take_jobs(pool: JobPool, rows: I64) -> JobPool:
    """The jobs at ``rows`` (ascending)."""
    picked = rows.tolist()
    return JobPool(
        ids=[pool.ids[i] for i in picked], employer_ids=[pool.employer_ids[i] for i in picked],
        lat=pool.lat[rows], lon=pool.lon[rows], skills=pool.skills[rows],
        certs_required=pool.certs_required[rows], hourly_fen=pool.hourly_fen[rows],
        start_at=pool.start_at[rows], end_at=pool.end_at[rows], slots=pool.slots[rows],
        posted_at=pool.posted_at[rows], employer_rating=pool.employer_rating[rows],
        employer_reliability=pool.employer_reliability[rows])


def take_exclusions(ex: Exclusions, n_workers: int, n_jobs: int, worker_rows: I64,
                    job_rows: I64) -> Exclusions:
    """The excluded pairs among the kept rows, renumbered."""
    w_new = np.full(n_workers, -1, np.int64)
    w_new[worker_rows] = np.arange(len(worker_rows))
    j_new = np.full(n_jobs, -1, np.int64)
    j_new[job_rows] = np.arange(len(job_rows))
    w, j = w_new[ex.worker_rows], j_new[ex.job_rows]
    keep = (w >= 0) & (j >= 0)
    return Exclusions(w[keep], j[keep])


def _near(lat: F64, lon: F64, at_lat: F64, at_lon: F64, reach_km: float) -> BOOL:
    """Rows of (lat, lon) within ``reach_km`` of any of the points: a flat-earth test with a
    margin, so a superset of what the matcher's own distance admits."""
    near = np.zeros(len(lat), np.bool_)
    km_lat = 111.2
    for a, b in zip(at_lat.tolist(), at_lon.tolist(), strict=True):
        km_lon = km_lat * np.cos(np.radians(a))
        d2 = ((lat - a) * km_lat) ** 2 + ((lon - b) * km_lon) ** 2
        near |= d2 <= (reach_km * 1.05 + 0.1) ** 2
    return near


def neighbourhood(workers: WorkerPool, jobs: JobPool, changed_workers: I64, changed_jobs: I64,
                  reach_km: float) -> tuple[I64, I64]:
    """The rows a round must look at when only ``changed_*`` rows came or changed: those
    rows, the workers within reach of a changed job and the jobs within reach of a changed
    worker. Every other pair was already judged by an earlier round and nothing about it
    moved, so leaving it out loses no offer it could make (issue 13)."""
    w = np.zeros(len(workers), np.bool_)
    j = np.zeros(len(jobs), np.bool_)
    w[changed_workers] = True
    j[changed_jobs] = True
    if len(changed_jobs):
        w |= _near(workers.lat, workers.lon, jobs.lat[changed_jobs], jobs.lon[changed_jobs],
                   reach_km)
    if len(changed_workers):
        j |= _near(jobs.lat, jobs.lon, workers.lat[changed_workers],
                   workers.lon[changed_workers], reach_km)
    return np.flatnonzero(w).astype(np.int64), np.flatnonzero(j).astype(np.int64)
