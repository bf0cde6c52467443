"""What is read about a market as a whole: its board, its calls, and the manager's figures.

Read-only: counts and lists computed by the database over a market's rows of one day.
"""

from __future__ import annotations

from collections.abc import Sequence

from gigmarket.store.ledger import Ledger, Row, Tx

Q = Ledger | Tx


async def open_jobs(q: Q, market_id: str, limit: int = 200) -> list[Row]:
    """The market's open jobs, soonest start first."""
    return await q.all("SELECT * FROM jobs WHERE market_id = ? AND state = 'open'"
                       " ORDER BY start_at LIMIT ?", (market_id, limit))


async def open_job_titles(q: Q, market_id: str) -> dict[str, str]:
    rows = await q.all("SELECT id, title FROM jobs WHERE market_id = ? AND state = 'open'",
                       (market_id,))
    return {r["id"]: r["title"] for r in rows}


async def current_job_ids(q: Q, market_id: str, limit: int = 500) -> list[str]:
    """Jobs not yet under way: open, filled or awaiting review, soonest start first."""
    rows = await q.all("SELECT id FROM jobs WHERE market_id = ? AND state IN"
                       " ('open', 'filled', 'pending_review') ORDER BY start_at LIMIT ?",
                       (market_id, limit))
    return [r["id"] for r in rows]


async def offered_names(q: Q, market_id: str, limit: int = 200) -> list[Row]:
    """Workers holding a pending offer, with their names, the oldest offer first."""
    return await q.all("SELECT o.worker_id, w.name FROM offers o JOIN workers w"
                       " ON w.id = o.worker_id WHERE o.market_id = ? AND o.state = 'pending'"
                       " ORDER BY o.created_at LIMIT ?", (market_id, limit))


async def posted_since(q: Q, market_id: str, start: float) -> tuple[int, int]:
    """Jobs posted (and let through review) since ``start``, and their slots."""
    row = await q.one("SELECT COUNT(*) AS n, COALESCE(SUM(headcount), 0) AS slots FROM jobs"
                      " WHERE market_id = ? AND created_at >= ? AND state != 'pending_review'",
                      (market_id, start))
    assert row is not None
    return int(row["n"]), int(row["slots"])


async def fills_since(q: Q, market_id: str, start: float) -> list[Row]:
    """Every hire since ``start``: its trip, when, the worker's key group, when posted."""
    return await q.all(
        "SELECT a.travel_minutes, a.created_at, w.key_group, j.created_at AS posted_at"
        " FROM assignments a JOIN workers w ON w.id = a.worker_id JOIN jobs j ON j.id = a.job_id"
        " WHERE a.market_id = ? AND a.created_at >= ?", (market_id, start))


async def open_slots(q: Q, market_id: str) -> tuple[int, int]:
    """Open jobs and their free slots."""
    row = await q.one("SELECT COUNT(*) AS n, COALESCE(SUM(headcount - accepted - pending), 0)"
                      " AS free FROM jobs WHERE market_id = ? AND state = 'open'", (market_id,))
    assert row is not None
    return int(row["n"]), int(row["free"])


async def pending_offers(q: Q, market_id: str) -> int:
    row = await q.one("SELECT COUNT(*) AS n FROM offers WHERE market_id = ?"
                      " AND state = 'pending'", (market_id,))
    assert row is not None
    return int(row["n"])


async def closed_offers_since(q: Q, market_id: str, start: float) -> dict[str, int]:
    """Offers closed since ``start``, counted by how they closed."""
    rows = await q.all("SELECT state, COUNT(*) AS n FROM offers WHERE market_id = ?"
                       " AND closed_at >= ? GROUP BY state", (market_id, start))
    return {r["state"]: int(r["n"]) for r in rows}


async def times_to_fill_since(q: Q, market_id: str, start: float) -> list[float]:
    rows = await q.all("SELECT filled_at - created_at AS t FROM jobs WHERE market_id = ?"
                       " AND filled_at >= ?", (market_id, start))
    return [float(r["t"]) for r in rows]


async def rounds_since(q: Q, market_id: str, start: float, limit: int = 500) -> list[Row]:
    return await q.all("SELECT at, total_ms FROM rounds WHERE market_id = ? AND at >= ?"
                       " ORDER BY at DESC LIMIT ?", (market_id, start, limit))


async def events_by_hour(q: Q, market_id: str, start: float,
                         types: Sequence[str]) -> dict[str, list[int]]:
    """How many events of each type fell in each of the 24 hours from ``start``.

    Counted here rather than by ``CAST(… AS INTEGER)`` in SQL: PostgreSQL rounds that cast
    where SQLite truncates, and the hours must be the same on both."""
    marks = ",".join("?" * len(types))
    rows = await q.all(f"SELECT type, at FROM events WHERE market_id = ? AND at >= ? AND at < ?"
                       f" AND type IN ({marks})", (market_id, start, start + 86400, *types))
    series = {t: [0] * 24 for t in types}
    for r in rows:
        hour = int((r["at"] - start) // 3600)
        if 0 <= hour < 24:
            series[r["type"]][hour] += 1
    return series
