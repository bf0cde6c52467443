"""Columnar snapshots of a market's live pools: what one dispatch round decides over.

Rows are parallel numpy arrays (one row per available worker, one per open job) so candidate
generation is vectorised. Times are epoch seconds (float); money is fen; skills are bitmasks
over the market's skill list (bit i = ``skill_codes[i]``), so "has every required skill" is
``job_mask & ~worker_mask == 0``.
"""

from __future__ import annotations

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
    #: Unmatched worker row -> reason code (see ``matching.REASONS``).
    worker_reasons: dict[int, str]
    #: Job row -> reason code, for jobs left with free slots.
    job_reasons: dict[int, str]
    candidate_count: int
    #: Seconds spent, for the round's timing figures.
    candidates_s: float
    solve_s: float
