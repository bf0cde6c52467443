"""The daily report's figures (core.reports) from tables of ledger events."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gigmarket.core.errors import ValidationError
from gigmarket.core.reports import LedgerEvent, as_csv, daily, day_bounds, parse_days

CST = ZoneInfo("Asia/Shanghai")
D1, D2 = date(2026, 11, 20), date(2026, 11, 21)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=CST).timestamp()


def ev(t: float, type_: str, actor: str | None = None, subject: str | None = None,
       **payload: Any) -> LedgerEvent:
    return LedgerEvent(at=t, type=type_, actor=actor, subject=subject, payload=payload)


def test_a_quiet_range_has_a_zero_row_per_day() -> None:
    """Every day of the range has a row, zeros and no median, when nothing happened."""
    rows = daily([], [D1, D2], CST)
    assert [r.date for r in rows] == ["2026-11-20", "2026-11-21"]
    assert rows[0].as_json() == {
        "date": "2026-11-20", "workers_registered": 0, "workers_checked_in": 0,
        "jobs_posted": 0, "slots_posted": 0, "slots_filled": 0, "median_time_to_fill_s": None,
        "key_group_placed": 0, "wages_confirmed_fen": 0, "disputes_opened": 0,
        "disputes_resolved": 0, "reports_opened": 0, "fills_by_hour": [0] * 24}


def test_days_are_the_markets_days_not_utc() -> None:
    """23:59 and 00:01 Beijing time fall on two days, though both are the same UTC day."""
    events = [ev(at(D1, 23, 59), "job.posted", "e1", "j1", state="open", headcount=2),
              ev(at(D2, 0, 1), "job.posted", "e1", "j2", state="open", headcount=3)]
    rows = daily(events, [D1, D2], CST)
    assert [(r.jobs_posted, r.slots_posted) for r in rows] == [(1, 2), (1, 3)]
    utc = daily(events, [D1, D2], ZoneInfo("UTC"))
    assert [(r.jobs_posted, r.slots_posted) for r in utc] == [(2, 5), (0, 0)]


def test_registered_is_a_workers_first_sighting_in_the_market() -> None:
    """A worker counts as registered on the day of their first registration or check-in
    here; checking in again (that day or later) counts them as checked in, not new."""
    events = [
        ev(at(D1, 8), "worker.registered", "w1", "w1", via="kiosk"),
        ev(at(D1, 8, 1), "worker.checked_in", "w1", "w1"),
        ev(at(D1, 9), "worker.checked_in", "w2", "w2"),
        ev(at(D1, 15), "worker.checked_in", "w2", "w2"),
        ev(at(D2, 8), "worker.checked_in", "w1", "w1"),
        ev(at(D2, 8), "worker.checked_in", "w3", "w3"),
    ]
    rows = daily(events, [D1, D2], CST)
    assert [(r.workers_registered, r.workers_checked_in) for r in rows] == [(2, 2), (1, 2)]


def test_a_worker_first_seen_before_the_range_is_not_new_in_it() -> None:
    """An earlier sighting (given as context) keeps a later check-in from counting as new."""
    events = [ev(at(D1, 9), "worker.checked_in", "w1", "w1"),
              ev(at(D2, 9), "worker.checked_in", "w1", "w1")]
    rows = daily(events, [D2], CST)
    assert (rows[0].workers_registered, rows[0].workers_checked_in) == (0, 1)


def test_time_to_fill_runs_from_the_slot_opening() -> None:
    """Fills take the job's earliest open slot; a call-off reopens one at its own time, so a
    refill is timed from the call-off; a job reviewed first opens when approved."""
    events = [
        ev(at(D1, 8), "job.posted", "e1", "j1", state="open", headcount=2),
        ev(at(D1, 8, 0, 30), "offer.accepted", "w1", "o1", job_id="j1"),
        ev(at(D1, 8, 1, 30), "job.claimed", "w2", "j1", worker_id="w2"),
        ev(at(D1, 9), "assignment.cancelled", "w1", "a1", job_id="j1"),
        ev(at(D1, 9, 10), "offer.accepted", "w3", "o3", job_id="j1"),
        ev(at(D1, 10), "job.posted", "e1", "j2", state="pending_review", headcount=1),
        ev(at(D1, 11), "job.approved", "m1", "j2"),
        ev(at(D1, 11, 0, 20), "offer.accepted", "w4", "o4", job_id="j2"),
    ]
    row = daily(events, [D1], CST)[0]
    assert row.slots_filled == 4
    assert row.fills_by_hour[8] == 2 and row.fills_by_hour[9] == 1 and row.fills_by_hour[11] == 1
    # waits: 30 s, 90 s, 600 s (refill after the call-off), 20 s (from the approval)
    assert row.median_time_to_fill_s == 60.0


def test_a_fill_of_a_job_posted_yesterday_counts_today() -> None:
    """Context from before the range times today's fill and is not counted itself."""
    events = [ev(at(D1, 22), "job.posted", "e1", "j1", state="open", headcount=1),
              ev(at(D2, 6), "offer.accepted", "w1", "o1", job_id="j1")]
    row = daily(events, [D2], CST)[0]
    assert (row.jobs_posted, row.slots_filled, row.median_time_to_fill_s) == (0, 1, 8 * 3600)


def test_key_group_placements_use_the_group_at_the_time() -> None:
    """A placement counts for key groups when the worker's group was set before it and not
    cleared since."""
    events = [
        ev(at(D1, 7), "worker.key_group_set", "m1", "w1", key_group="veteran"),
        ev(at(D1, 7), "worker.key_group_set", "m1", "w2", key_group="disabled"),
        ev(at(D1, 7, 30), "worker.key_group_set", "m1", "w2", key_group=None),
        ev(at(D1, 8), "job.posted", "e1", "j1", state="open", headcount=3),
        ev(at(D1, 8, 1), "offer.accepted", "w1", "o1", job_id="j1"),
        ev(at(D1, 8, 2), "offer.accepted", "w2", "o2", job_id="j1"),
        ev(at(D1, 8, 3), "offer.accepted", "w3", "o3", job_id="j1"),
        ev(at(D1, 9), "worker.key_group_set", "m1", "w3", key_group="graduate"),
    ]
    assert daily(events, [D1], CST)[0].key_group_placed == 1


def test_wages_disputes_and_reports() -> None:
    """Pay confirmed by the worker, and a dispute resolved as paid with its opening's pay;
    a dispute resolved unpaid confirms nothing."""
    events = [
        ev(at(D1, 18), "assignment.paid", "w1", "a1", job_id="j1", pay_fen=20000),
        ev(at(D1, 19), "dispute.opened", "system", "d1", assignment_id="a2", pay_fen=15000),
        ev(at(D1, 19), "dispute.opened", "system", "d2", assignment_id="a3", pay_fen=9000),
        ev(at(D1, 20), "dispute.resolved", "m1", "d1", outcome="paid", assignment_id="a2"),
        ev(at(D1, 20), "dispute.resolved", "m1", "d2", outcome="unpaid", assignment_id="a3"),
        ev(at(D1, 21), "report.filed", "w1", "r1", job_id="j1", reason="fake"),
    ]
    row = daily(events, [D1], CST)[0]
    assert (row.wages_confirmed_fen, row.disputes_opened, row.disputes_resolved,
            row.reports_opened) == (35000, 2, 2, 1)


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-13-01", None, "from"),
    ("2026-11-20", "yesterday", "to"),
    ("2026-11-20", "2026-11-19", "to"),
    ("2025-01-01", "2026-01-02", "to"),
])
def test_bad_ranges_name_the_field(start: str, end: str | None, field: str) -> None:
    """Malformed dates, a range backwards and one over 366 days are refused by field."""
    with pytest.raises(ValidationError) as e:
        parse_days(start, end, D1)
    assert e.value.field == field


def test_range_defaults_and_bounds() -> None:
    """No dates means today; the bounds are local midnights."""
    assert parse_days(None, None, D2) == [D2]
    assert parse_days("2026-11-20", None, D2) == [D1]
    lo, hi = day_bounds([D1, D2], CST)
    assert (lo, hi) == (at(D1, 0), at(date(2026, 11, 22), 0))


def test_csv_has_a_bom_and_chinese_headers() -> None:
    """The CSV opens in a spreadsheet: BOM, Chinese headers, one line per day, blank median."""
    text = as_csv(daily([], [D1, D2], CST))
    assert text.startswith("\ufeff日期,新登记劳动者,")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(table) == 3 and table[1][0] == "2026-11-20" and table[1][6] == ""
