"""Reliability and ratings: the arithmetic of a record kept both ways (issue 5).

Reliability is the share of commitments kept, smoothed so that a newcomer starts at 1.0 and one
early lapse does not ruin a record: ``(kept + PRIOR) / (kept + PRIOR + weighted lapses)``. Each
side's lapses weigh what they cost the other side:

- a worker: a no-show (an employer waited, a slot went unfilled) weighs 1, a late cancel 0.5;
- an employer: a no-show (workers came to a closed site) weighs 1, a late cancel 0.5, a wage
  dispute found unpaid 1.5 and an upheld report (fake or not as described) 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: Commitments a newcomer is credited with, so the first lapse lowers 1.0 to 0.8, not to 0.
PRIOR_KEPT: Final = 4.0

WORKER_WEIGHTS: Final = {"no_shows": 1.0, "late_cancels": 0.5}
EMPLOYER_WEIGHTS: Final = {"no_shows": 1.0, "late_cancels": 0.5, "disputes": 1.5,
                           "upheld_reports": 2.0}

MIN_STARS: Final = 1
MAX_STARS: Final = 5
#: A rating's tags: few and short, chosen on a phone or a kiosk.
MAX_TAGS: Final = 5


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    kept: int = 0
    no_shows: int = 0
    late_cancels: int = 0


@dataclass(frozen=True, slots=True)
class EmployerRecord:
    kept: int = 0
    no_shows: int = 0
    late_cancels: int = 0
    disputes: int = 0
    upheld_reports: int = 0


def _smoothed(kept: int, lapses: float) -> float:
    return (kept + PRIOR_KEPT) / (kept + PRIOR_KEPT + lapses)


def worker_reliability(r: WorkerRecord) -> float:
    """0..1; 1.0 for a worker with no lapses."""
    lapses = sum(w * getattr(r, name) for name, w in WORKER_WEIGHTS.items())
    return _smoothed(r.kept, lapses)


def employer_reliability(r: EmployerRecord) -> float:
    """0..1; 1.0 for an employer with no lapses."""
    lapses = sum(w * getattr(r, name) for name, w in EMPLOYER_WEIGHTS.items())
    return _smoothed(r.kept, lapses)


def is_late(now: float, start_at: float, late_cancel_hours: float) -> bool:
    """Whether a cancellation at ``now`` is late: within ``late_cancel_hours`` of the start."""
    return now >= start_at - late_cancel_hours * 3600


def mean_rating(rating_sum: float, rating_count: int, default: float = 3.0) -> float:
    """The mean of the stars given; ``default`` (the neutral middle) while unrated."""
    return rating_sum / rating_count if rating_count else default


def check_stars(stars: object) -> int | None:
    """``stars`` as an int 1..5, or ``None`` when it is not one (the caller names the field)."""
    if isinstance(stars, bool) or not isinstance(stars, int):
        return None
    return stars if MIN_STARS <= stars <= MAX_STARS else None


def distinct_tags(tags: Sequence[str]) -> list[str]:
    """Tags in the order given, each once."""
    return list(dict.fromkeys(tags))
