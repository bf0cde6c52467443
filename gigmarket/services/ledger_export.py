"""The ledger (台账) as CSV for a date range: what the bureau reports from (SPEC 8)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gigmarket.core.errors import ValidationError
from gigmarket.store import events
from gigmarket.store.ledger import Ledger

COLUMNS = ("seq", "event_id", "at", "market_id", "type", "actor", "subject", "payload")
#: Rows read per query: the export streams, it never holds a year in memory.
PAGE = 2000
MAX_DAYS = 366


def parse_range(tz: ZoneInfo, now: float, start: str | None,
                end: str | None) -> tuple[float, float]:
    """``from``/``to`` as dates (inclusive) in the market's zone; default: today."""
    today = datetime.fromtimestamp(now, tz).date()
    try:
        first = date.fromisoformat(start) if start else today
    except ValueError:
        raise ValidationError("from must be YYYY-MM-DD", code="bad_date", field="from") from None
    try:
        last = date.fromisoformat(end) if end else first
    except ValueError:
        raise ValidationError("to must be YYYY-MM-DD", code="bad_date", field="to") from None
    if last < first:
        raise ValidationError("to is before from", code="bad_range", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days at once", code="bad_range", field="to")
    lo = datetime.combine(first, time.min, tz).timestamp()
    hi = datetime.combine(last + timedelta(days=1), time.min, tz).timestamp()
    return lo, hi


async def rows(ledger: Ledger, tz: ZoneInfo, market_id: str, lo: float,
               hi: float) -> AsyncIterator[str]:
    """CSV text, a header then a page of events at a time, in time order (ledger order
    within an instant)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    yield "\ufeff" + buf.getvalue()  # a BOM, so Excel opens the Chinese text as UTF-8
    # Paged by (at, seq) from where the last page ended, along the (market_id, at) index:
    # each page reads only its own rows. Paging by seq alone made SQLite re-read and sort
    # the whole remaining range for every page (a month took minutes; issue 12).
    at, seq = lo, -1
    while True:
        page = await events.page_of_market(ledger, market_id, after_at=at, after_seq=seq,
                                           before=hi, limit=PAGE)
        if not page:
            return
        buf = io.StringIO()
        writer = csv.writer(buf)
        for r in page:
            when = datetime.fromtimestamp(r["at"], tz).isoformat(timespec="seconds")
            writer.writerow((r["seq"], r["id"], when, r["market_id"],
                             r["type"], r["actor"], r["subject"], r["payload"]))
        at, seq = float(page[-1]["at"]), int(page[-1]["seq"])
        yield buf.getvalue()
