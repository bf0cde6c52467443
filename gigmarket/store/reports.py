"""The ledger events a daily report is computed from (``core.reports``), read a page at a
time in time order, so a long range of a busy market is counted as it streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from gigmarket.core.reports import EVENT_TYPES, LedgerEvent
from gigmarket.store.ledger import Ledger, Row

_COLUMNS = "seq, at, type, actor, subject, payload"
#: A manager's key-group mark is logged in the manager's market, not the worker's: read apart.
#: Inlined as literals (code constants, never input): one statement on both ledgers.
_TYPES = ", ".join(f"'{t}'" for t in EVENT_TYPES if t != "worker.key_group_set")
PAGE = 2000

#: The range's events of one kind, as a subquery; parameters: market, lo, hi.
_IN_RANGE = "SELECT {what} FROM events WHERE market_id = ? AND at >= ? AND at < ? AND type {kind}"
_SEEN = _IN_RANGE.format(what="subject", kind="IN ('worker.registered', 'worker.checked_in')")
# json_extract with a top-level key: store/dialect.py gives PostgreSQL its ->> twin.
_FILLED_JOBS = (_IN_RANGE.format(what="json_extract(payload, '$.job_id')",
                                 kind="= 'offer.accepted'")
                + " UNION " + _IN_RANGE.format(what="subject", kind="= 'job.claimed'"))
_PLACED = (_IN_RANGE.format(what="actor", kind="= 'offer.accepted'")
           + " UNION " + _IN_RANGE.format(what="json_extract(payload, '$.worker_id')",
                                          kind="= 'job.claimed'"))
_RESOLVED = _IN_RANGE.format(what="subject", kind="= 'dispute.resolved'")

_CONTEXT = (
    # Each worker's first sighting: the earliest row per subject, by a window both ledgers run.
    f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, ROW_NUMBER() OVER"
    "  (PARTITION BY subject ORDER BY at, seq) AS nth FROM events"
    "  WHERE market_id = ? AND at < ? AND type IN ('worker.registered', 'worker.checked_in')"
    f"  AND subject IN ({_SEEN})) AS sighting WHERE nth = 1"
    # The postings, approvals, call-offs and earlier fills of each job filled in the range.
    f" UNION ALL SELECT {_COLUMNS} FROM events WHERE market_id = ? AND at < ?"
    "  AND ((type IN ('job.posted', 'job.approved', 'job.claimed')"
    f"       AND subject IN ({_FILLED_JOBS}))"
    "   OR (type IN ('assignment.cancelled', 'offer.accepted')"
    f"       AND json_extract(payload, '$.job_id') IN ({_FILLED_JOBS}))"
    f"   OR (type = 'dispute.opened' AND subject IN ({_RESOLVED})))"
    # The key group of each worker placed, up to the range's end, from whichever market.
    f" UNION ALL SELECT {_COLUMNS} FROM events WHERE type = 'worker.key_group_set' AND at < ?"
    f"  AND subject IN ({_PLACED})"
    " ORDER BY at, seq"
)

_PAGE = (f"SELECT {_COLUMNS} FROM events WHERE market_id = ? AND at >= ? AND at < ?"
         f" AND type IN ({_TYPES}) AND (at > ? OR seq > ?) ORDER BY at, seq LIMIT ?")


def _event(r: Row) -> LedgerEvent:
    payload: Any = json.loads(r["payload"]) if r["payload"] else {}
    return LedgerEvent(at=float(r["at"]), type=r["type"], actor=r["actor"],
                       subject=r["subject"], payload=payload if isinstance(payload, dict) else {})


async def report_events(ledger: Ledger, market_id: str, lo: float,
                        hi: float) -> AsyncIterator[LedgerEvent]:
    """The market's report events in ``[lo, hi)`` in time order, with the earlier ones they
    depend on woven in where they belong. Only those (a few per worker, job and dispute of
    the range) are held at once; the range itself comes a page at a time."""
    m = (market_id, lo, hi)
    context = [_event(r) for r in await ledger.all(_CONTEXT, (
        market_id, lo, *m,
        market_id, lo, *m, *m, *m, *m, *m,
        hi, *m, *m))]
    i = 0
    at, seq = lo, -1
    while True:
        # From where the last page ended, along the (market_id, at) index: each page reads
        # only its own stretch of the range.
        page = await ledger.all(_PAGE, (market_id, at, hi, at, seq, PAGE))
        for r in page:
            e = _event(r)
            while i < len(context) and context[i].at <= e.at:
                yield context[i]
                i += 1
            yield e
        if len(page) < PAGE:
            break
        at, seq = float(page[-1]["at"]), int(page[-1]["seq"])
    for e in context[i:]:
        yield e
