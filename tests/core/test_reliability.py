"""Reliability and rating arithmetic (core.reliability), as plain tables."""

from __future__ import annotations

import pytest

from gigmarket.core import reliability as rel


@pytest.mark.parametrize(("record", "expected"), [
    (rel.WorkerRecord(), 1.0),
    (rel.WorkerRecord(kept=10), 1.0),
    (rel.WorkerRecord(no_shows=1), 0.8),
    (rel.WorkerRecord(late_cancels=1), 4 / 4.5),
    (rel.WorkerRecord(kept=6, no_shows=1), 10 / 11),
    (rel.WorkerRecord(no_shows=2, late_cancels=2), 4 / 7),
])
def test_worker_reliability(record: rel.WorkerRecord, expected: float) -> None:
    """No-shows weigh 1, late cancels 0.5, against kept jobs plus a newcomer's credit."""
    assert rel.worker_reliability(record) == pytest.approx(expected)


@pytest.mark.parametrize(("record", "expected"), [
    (rel.EmployerRecord(), 1.0),
    (rel.EmployerRecord(no_shows=1), 0.8),
    (rel.EmployerRecord(late_cancels=1), 4 / 4.5),
    (rel.EmployerRecord(disputes=1), 4 / 5.5),
    (rel.EmployerRecord(upheld_reports=1), 4 / 6),
    (rel.EmployerRecord(kept=4, disputes=1, upheld_reports=1), 8 / 11.5),
])
def test_employer_reliability(record: rel.EmployerRecord, expected: float) -> None:
    """Unpaid wages and upheld reports weigh more than a late cancel."""
    assert rel.employer_reliability(record) == pytest.approx(expected)


def test_more_lapses_never_raise_reliability() -> None:
    """Each added lapse of any kind strictly lowers the value."""
    base = rel.employer_reliability(rel.EmployerRecord(kept=3))
    for field in ("no_shows", "late_cancels", "disputes", "upheld_reports"):
        worse = rel.EmployerRecord(kept=3, **{field: 1})
        assert rel.employer_reliability(worse) < base


@pytest.mark.parametrize(("now_h", "start_h", "window_h", "late"), [
    (0, 24, 12, False),
    (0, 12, 12, True),
    (0, 1, 12, True),
    (0, 1, 0.5, False),
    (5, 1, 0, True),
])
def test_is_late(now_h: float, start_h: float, window_h: float, late: bool) -> None:
    """A cancellation within the window before the start (or after it) is late."""
    assert rel.is_late(now_h * 3600, start_h * 3600, window_h) is late


@pytest.mark.parametrize(("stars", "expected"), [
    (1, 1), (5, 5), (3, 3), (0, None), (6, None), (True, None), (4.0, None), ("5", None),
])
def test_check_stars(stars: object, expected: int | None) -> None:
    """Whole numbers 1 to 5 only; booleans and floats are not stars."""
    assert rel.check_stars(stars) == expected


@pytest.mark.parametrize(("total", "count", "expected"), [(0, 0, 3.0), (9, 2, 4.5), (1, 1, 1.0)])
def test_mean_rating(total: float, count: int, expected: float) -> None:
    """The mean of the stars, neutral 3 while unrated."""
    assert rel.mean_rating(total, count) == expected


def test_distinct_tags_keep_order() -> None:
    """Repeated tags count once, in the order first given."""
    assert rel.distinct_tags(["准时", "勤快", "准时"]) == ["准时", "勤快"]
