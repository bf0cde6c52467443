"""The bureau's daily report of a market (SPEC 11.5): read the events, count them in core."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from gigmarket.core import reports
from gigmarket.store.ledger import Ledger
from gigmarket.store.reports import report_events


async def daily(ledger: Ledger, market_id: str, tz: ZoneInfo, now: float,
                start: str | None, end: str | None) -> list[reports.DayFigures]:
    """The rows from ``start`` to ``end`` (inclusive, the market's days; default today)."""
    days = reports.parse_days(start, end, datetime.fromtimestamp(now, tz).date())
    lo, hi = reports.day_bounds(days, tz)
    tally = reports.DailyTally(days, tz)
    async for event in report_events(ledger, market_id, lo, hi):
        tally.add(event)
    return tally.rows()
