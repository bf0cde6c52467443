"""The domain: states with their allowed transitions, money, and the records dispatch reads.

States are ``str`` enums so they serialise as themselves in JSON, SQLite and Redis. Each state
machine's allowed moves live in one table beside it; :func:`check_transition` is the only judge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from gigmarket.core.errors import ConflictError


class WorkerState(enum.StrEnum):
    #: Not checked in at any market.
    OFFLINE = "offline"
    #: Checked in and waiting in a market's pool.
    AVAILABLE = "available"
    #: Holding exactly one pending offer.
    OFFERED = "offered"
    #: Accepted a job; out of the pool until they check in again.
    ASSIGNED = "assigned"


class EmployerState(enum.StrEnum):
    #: May post; its jobs are dispatched.
    ACTIVE = "active"
    #: Suspended by a manager: open jobs withdrawn, nothing dispatched.
    SUSPENDED = "suspended"


class JobState(enum.StrEnum):
    #: Posted by an unverified employer; waits for a manager.
    PENDING_REVIEW = "pending_review"
    #: Dispatched: has free slots.
    OPEN = "open"
    #: Every slot accepted.
    FILLED = "filled"
    #: Work has begun (first check-in at the site).
    IN_PROGRESS = "in_progress"
    #: Employer confirmed completion.
    COMPLETED = "completed"
    #: Cancelled by the employer, rejected or withdrawn by a manager.
    CANCELLED = "cancelled"
    #: Its start passed with slots still open and nobody at work.
    EXPIRED = "expired"


class OfferState(enum.StrEnum):
    #: Sent to the worker; the clock is running.
    PENDING = "pending"
    #: The worker took it: an assignment exists.
    ACCEPTED = "accepted"
    #: The worker said no; the pair is never offered again.
    DECLINED = "declined"
    #: Nobody answered in time; the pair is never offered again.
    EXPIRED = "expired"
    #: Taken back (job cancelled, employer suspended, worker checked out).
    WITHDRAWN = "withdrawn"


class AssignmentState(enum.StrEnum):
    #: Worker accepted; not yet at the site.
    ACCEPTED = "accepted"
    #: Arrived and checked in at the site.
    CHECKED_IN = "checked_in"
    #: Employer confirmed the work with hours and pay.
    COMPLETED = "completed"
    #: Worker confirmed the pay arrived.
    PAID = "paid"
    #: Worker never arrived.
    NO_SHOW = "no_show"
    #: Called off by either side before the work.
    CANCELLED = "cancelled"
    #: Completed without pay confirmed in time: on the manager's queue.
    DISPUTED = "disputed"


class WageUnit(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    PIECE = "piece"


class KeyGroup(enum.StrEnum):
    """重点群体: set by a manager after checking papers, never self-declared."""

    HARD_TO_EMPLOY = "hard_to_employ"
    DISABLED = "disabled"
    VETERAN = "veteran"
    LONG_TERM_UNEMPLOYED = "long_term_unemployed"
    ZERO_EMPLOYMENT_HOUSEHOLD = "zero_employment_household"
    GRADUATE = "graduate"
    OLDER_WORKER = "older_worker"
    POVERTY_ALLEVIATED = "poverty_alleviated"


class Role(enum.StrEnum):
    WORKER = "worker"
    EMPLOYER = "employer"
    MANAGER = "manager"
    KIOSK = "kiosk"
    EXCHANGE = "exchange"


_W, _J, _O, _A = WorkerState, JobState, OfferState, AssignmentState

TRANSITIONS: Final[dict[type[enum.Enum], dict[enum.Enum, frozenset[enum.Enum]]]] = {
    WorkerState: {
        _W.OFFLINE: frozenset({_W.AVAILABLE}),
        _W.AVAILABLE: frozenset({_W.OFFERED, _W.ASSIGNED, _W.OFFLINE}),
        _W.OFFERED: frozenset({_W.AVAILABLE, _W.ASSIGNED, _W.OFFLINE}),
        _W.ASSIGNED: frozenset({_W.AVAILABLE, _W.OFFLINE}),
    },
    JobState: {
        _J.PENDING_REVIEW: frozenset({_J.OPEN, _J.CANCELLED}),
        _J.OPEN: frozenset({_J.FILLED, _J.CANCELLED, _J.EXPIRED, _J.IN_PROGRESS}),
        _J.FILLED: frozenset({_J.OPEN, _J.IN_PROGRESS, _J.CANCELLED, _J.COMPLETED}),
        _J.IN_PROGRESS: frozenset({_J.COMPLETED, _J.CANCELLED}),
        _J.COMPLETED: frozenset(),
        _J.CANCELLED: frozenset(),
        _J.EXPIRED: frozenset(),
    },
    OfferState: {
        _O.PENDING: frozenset({_O.ACCEPTED, _O.DECLINED, _O.EXPIRED, _O.WITHDRAWN}),
        _O.ACCEPTED: frozenset(),
        _O.DECLINED: frozenset(),
        _O.EXPIRED: frozenset(),
        _O.WITHDRAWN: frozenset(),
    },
    AssignmentState: {
        _A.ACCEPTED: frozenset({_A.CHECKED_IN, _A.NO_SHOW, _A.CANCELLED}),
        _A.CHECKED_IN: frozenset({_A.COMPLETED, _A.CANCELLED}),
        _A.COMPLETED: frozenset({_A.PAID, _A.DISPUTED}),
        _A.DISPUTED: frozenset({_A.PAID}),
        _A.PAID: frozenset(),
        _A.NO_SHOW: frozenset(),
        _A.CANCELLED: frozenset(),
    },
}

#: Jobs that still take offers and claims.
DISPATCHABLE_JOB_STATES: Final = frozenset({JobState.OPEN})


def can_transition(current: enum.Enum, target: enum.Enum) -> bool:
    """Whether ``current -> target`` is an allowed move of its state machine."""
    table = TRANSITIONS[type(current)]
    return target in table[current]


def check_transition(current: enum.Enum, target: enum.Enum, *, what: str) -> None:
    """Raise :class:`ConflictError` naming ``what`` unless ``current -> target`` is allowed."""
    if not can_transition(current, target):
        raise ConflictError(
            f"{what} is {current.value}; it cannot become {target.value}",
            code=f"{what}_{current.value}",
        )


@dataclass(frozen=True, slots=True)
class Money:
    """A wage: integer fen (1/100 yuan) per unit. Floats never hold money."""

    fen: int
    unit: WageUnit

    @property
    def yuan(self) -> float:
        return self.fen / 100

    def as_json(self) -> dict[str, object]:
        """``{"amount": 300, "unit": "day"}``: whole yuan as int, else a 2-decimal number."""
        amount: int | float = self.fen // 100 if self.fen % 100 == 0 else self.fen / 100
        return {"amount": amount, "unit": self.unit.value}


#: A working day, for comparing hourly and daily wages (《劳动法》 standard 8-hour day).
HOURS_PER_DAY: Final = 8.0


def hourly_fen(wage: Money, duration_hours: float = HOURS_PER_DAY) -> float | None:
    """A wage as fen per hour, for comparing across units; ``None`` for piece rates.

    A daily wage is spread over the job's hours, capped at a standard day: 300/day for a
    4-hour job is 75/hour; 300/day for 10 hours counts as 37.5/hour, not 30, because overtime
    is paid on top and a worker's daily minimum is about the day, not the overtime.
    """
    if wage.unit is WageUnit.HOUR:
        return float(wage.fen)
    if wage.unit is WageUnit.DAY:
        hours = min(max(duration_hours, 1.0), HOURS_PER_DAY)
        return wage.fen / hours
    return None


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float
