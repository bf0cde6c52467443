"""The bureau's daily report (SPEC 11.5), computed from ledger events alone.

Pure: the store reads the events, this module counts them. The figures are defined once here
(and in docs/api.md), so the API, the CSV and ``gigmarket export --report daily`` agree:

- ``workers_registered``: workers new to this market that day: the day of a worker's first
  ``worker.registered`` (kiosk sign-up at this market) or ``worker.checked_in`` event here.
  A phone sign-up names no market, so a phone worker counts where they first check in.
- ``workers_checked_in``: distinct workers with a ``worker.checked_in`` event that day.
- ``jobs_posted`` / ``slots_posted``: ``job.posted`` events that day, and their headcounts.
- ``slots_filled``: placements that day: an accepted offer (``offer.accepted``) or a claim
  (``job.claimed``). A slot filled, called off and filled again counts twice: two placements.
- ``median_time_to_fill_s``: the median over that day's placements of the time from the slot
  opening to its placement. Slots open when the job goes live (``job.posted`` as ``open``, or
  ``job.approved`` after review), one per head, and again when a placement is called off
  (``assignment.cancelled``); a placement takes the earliest open slot of its job. ``None``
  on a day without placements whose opening is known.
- ``key_group_placed``: placements of workers whose key group (``worker.key_group_set``, the
  latest at the placement's time) was set.
- ``wages_confirmed_fen``: pay confirmed as received that day: the worker's
  ``assignment.paid``, and a wage dispute resolved as paid (``dispute.resolved``) with the
  pay of its ``dispute.opened``.
- ``disputes_opened`` / ``disputes_resolved`` / ``reports_opened``: ``dispute.opened``,
  ``dispute.resolved`` and ``report.filed`` events that day.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gigmarket.core.errors import ValidationError

#: At most this many days in one report: a year and a day covers a leap year.
MAX_DAYS = 366

#: The event types a daily report reads.
EVENT_TYPES = (
    "worker.registered", "worker.checked_in", "worker.key_group_set", "job.posted",
    "job.approved", "offer.accepted", "job.claimed", "assignment.cancelled",
    "assignment.paid", "dispute.opened", "dispute.resolved", "report.filed",
)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    at: float
    type: str
    actor: str | None
    subject: str | None
    payload: Mapping[str, Any]


@dataclass(slots=True)
class DayFigures:
    date: str
    workers_registered: int = 0
    workers_checked_in: int = 0
    jobs_posted: int = 0
    slots_posted: int = 0
    slots_filled: int = 0
    median_time_to_fill_s: float | None = None
    key_group_placed: int = 0
    wages_confirmed_fen: int = 0
    disputes_opened: int = 0
    disputes_resolved: int = 0
    reports_opened: int = 0
    #: Beyond SPEC 11.5, for the console's chart (not in the CSV): placements per local hour.
    fills_by_hour: list[int] = field(default_factory=lambda: [0] * 24)

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "fills_by_hour"} | {"fills_by_hour": list(self.fills_by_hour)}


#: CSV columns: the JSON names, headed in Chinese for the bureau's spreadsheets.
CSV_HEADERS: tuple[tuple[str, str], ...] = (
    ("date", "日期"),
    ("workers_registered", "新登记劳动者"),
    ("workers_checked_in", "签到劳动者"),
    ("jobs_posted", "发布岗位"),
    ("slots_posted", "招聘人数"),
    ("slots_filled", "成功匹配人数"),
    ("median_time_to_fill_s", "匹配用时中位数（秒）"),
    ("key_group_placed", "重点群体就业人数"),
    ("wages_confirmed_fen", "确认到账工资（分）"),
    ("disputes_opened", "新增欠薪纠纷"),
    ("disputes_resolved", "已处理欠薪纠纷"),
    ("reports_opened", "新增举报"),
)


def parse_days(start: str | None, end: str | None, today: date) -> list[date]:
    """``from``/``to`` (inclusive, YYYY-MM-DD) as the list of days; both default to today."""
    try:
        first = date.fromisoformat(start) if start else today
    except ValueError:
        raise ValidationError("from must be a date, YYYY-MM-DD", code="bad_date",
                              field="from") from None
    try:
        last = date.fromisoformat(end) if end else first
    except ValueError:
        raise ValidationError("to must be a date, YYYY-MM-DD", code="bad_date",
                              field="to") from None
    if last < first:
        raise ValidationError("to is before from", code="bad_range", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days in one report", code="bad_range",
                              field="to")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_bounds(days: list[date], tz: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of the first day's local midnight and of the midnight after the last."""
    lo = datetime(days[0].year, days[0].month, days[0].day, tzinfo=tz).timestamp()
    end = days[-1] + timedelta(days=1)
    return lo, datetime(end.year, end.month, end.day, tzinfo=tz).timestamp()


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class DailyTally:
    """The figures, counted one event at a time, in time order. It keeps only what later
    events need (workers seen, open slots, key groups, disputes' pay), so a long range is
    counted as it streams from the ledger. Events before the first day set the scene (a job
    posted yesterday and filled today) and are not counted."""

    def __init__(self, days: list[date], tz: ZoneInfo) -> None:
        self.days, self.tz = days, tz
        self._rows = {d: DayFigures(date=d.isoformat()) for d in days}
        self._first_seen: set[str] = set()
        self._checked_in: dict[date, set[str]] = defaultdict(set)
        self._headcount: dict[str, int] = {}
        self._openings: dict[str, deque[float]] = defaultdict(deque)
        self._key_group: dict[str, str | None] = {}
        self._dispute_pay: dict[str, int] = {}
        self._waits: dict[date, list[float]] = defaultdict(list)

    def add(self, e: LedgerEvent) -> None:
        local = datetime.fromtimestamp(e.at, self.tz)
        row = self._rows.get(local.date())
        p = e.payload
        if e.type in ("worker.registered", "worker.checked_in") and e.subject:
            if e.subject not in self._first_seen:
                self._first_seen.add(e.subject)
                if row is not None:
                    row.workers_registered += 1
            if e.type == "worker.checked_in" and row is not None:
                self._checked_in[local.date()].add(e.subject)
        elif e.type == "worker.key_group_set" and e.subject:
            value = p.get("key_group")
            self._key_group[e.subject] = value if isinstance(value, str) and value else None
        elif e.type == "job.posted" and e.subject:
            heads = self._headcount[e.subject] = _int(p.get("headcount"))
            if p.get("state") == "open":
                self._openings[e.subject].extend([e.at] * heads)
            if row is not None:
                row.jobs_posted += 1
                row.slots_posted += heads
        elif e.type == "job.approved" and e.subject:
            self._openings[e.subject].extend([e.at] * self._headcount.get(e.subject, 0))
        elif e.type == "assignment.cancelled":
            job_id = p.get("job_id")
            if isinstance(job_id, str):
                self._openings[job_id].append(e.at)
        elif e.type in ("offer.accepted", "job.claimed"):
            self._placed(e, local, row)
        elif e.type == "assignment.paid":
            if row is not None:
                row.wages_confirmed_fen += _int(p.get("pay_fen"))
        elif e.type == "dispute.opened":
            if e.subject:
                self._dispute_pay[e.subject] = _int(p.get("pay_fen"))
            if row is not None:
                row.disputes_opened += 1
        elif e.type == "dispute.resolved" and row is not None:
            row.disputes_resolved += 1
            if p.get("outcome") == "paid" and e.subject:
                row.wages_confirmed_fen += self._dispute_pay.get(e.subject, 0)
        elif e.type == "report.filed" and row is not None:
            row.reports_opened += 1

    def _placed(self, e: LedgerEvent, local: datetime, row: DayFigures | None) -> None:
        job_id = e.payload.get("job_id") if e.type == "offer.accepted" else e.subject
        worker = e.actor if e.type == "offer.accepted" else e.payload.get("worker_id")
        slots = self._openings.get(job_id) if isinstance(job_id, str) else None
        opened = slots.popleft() if slots else None
        if row is None:
            return
        row.slots_filled += 1
        row.fills_by_hour[local.hour] += 1
        if opened is not None:
            self._waits[local.date()].append(e.at - opened)
        if isinstance(worker, str) and self._key_group.get(worker):
            row.key_group_placed += 1

    def rows(self) -> list[DayFigures]:
        for d, row in self._rows.items():
            row.workers_checked_in = len(self._checked_in[d])
            if self._waits[d]:
                row.median_time_to_fill_s = round(statistics.median(self._waits[d]), 3)
        return [self._rows[d] for d in self.days]


def daily(events: Iterable[LedgerEvent], days: list[date], tz: ZoneInfo) -> list[DayFigures]:
    """One row per day from ``events`` in any order (see :class:`DailyTally`)."""
    tally = DailyTally(days, tz)
    for e in sorted(events, key=lambda e: e.at):
        tally.add(e)
    return tally.rows()


def as_csv(rows: Iterable[DayFigures]) -> str:
    """The rows as CSV with Chinese headers and a BOM, so spreadsheet programs read UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([zh for _, zh in CSV_HEADERS])
    for row in rows:
        data = row.as_json()
        writer.writerow(["" if data[k] is None else data[k] for k, _ in CSV_HEADERS])
    return "\ufeff" + buf.getvalue()
