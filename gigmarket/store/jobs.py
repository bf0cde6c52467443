"""Jobs' rows: reads and the slot counts (accepted, pending).

Their state moves through :mod:`gigmarket.store.transitions`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gigmarket.core.model import JobState
from gigmarket.store import transitions
from gigmarket.store.ledger import Ledger, Row, Tx


async def get(q: Ledger | Tx, job_id: str) -> Row | None:
    return await q.one("SELECT * FROM jobs WHERE id = ?", (job_id,))


async def release_accepted(tx: Tx, job_id: str, *, reopen: bool) -> Row:
    """One accepted slot is free again; with ``reopen`` a filled job opens again in the same
    statement. The job after it."""
    if not reopen:
        row = await tx.one("UPDATE jobs SET accepted = accepted - 1, updated_at = ?"
                           " WHERE id = ? RETURNING *", (tx.now, job_id))
        assert row is not None
        return row
    return await transitions.counted(tx, JobState.OPEN, job_id, add={"accepted": -1},
                                     when="1 = 1", only_from={JobState.FILLED},
                                     filled_at=None)


async def of_ids(q: Ledger | Tx, job_ids: Sequence[str]) -> list[Row]:
    """The jobs with these ids (at most 500 a call: SQLite's parameter limit is far above)."""
    marks = ",".join("?" * len(job_ids))
    return await q.all(f"SELECT * FROM jobs WHERE id IN ({marks})", list(job_ids))


async def hired_of(q: Ledger | Tx, job_ids: Sequence[str]) -> list[Row]:
    """The assignments of these jobs with their workers' names, phones and ratings, in the
    order they were made."""
    marks = ",".join("?" * len(job_ids))
    return await q.all(
        "SELECT a.job_id, a.id AS assignment_id, a.worker_id, a.state, a.travel_minutes,"
        " w.name, w.phone, w.rating_sum, w.rating_count FROM assignments a JOIN workers w"
        f" ON w.id = a.worker_id WHERE a.job_id IN ({marks}) ORDER BY a.created_at",
        list(job_ids),
    )


async def take_slot(tx: Tx, job_id: str, *, pending: bool) -> Row:
    """One more accepted worker (from a pending offer when ``pending``); the last free slot
    fills the job in the same statement, as the transition table allows. The job after it."""
    return await transitions.counted(
        tx, JobState.FILLED, job_id, add={"accepted": 1, "pending": -int(pending)},
        when="accepted + 1 >= headcount", filled_at=tx.now)


async def release_pending(tx: Tx, job_id: str) -> None:
    """A pending offer closed without an accept: its slot is free again."""
    await tx.execute("UPDATE jobs SET pending = pending - 1, updated_at = ? WHERE id = ?",
                     (tx.now, job_id))


async def insert(tx: Tx, *, job_id: str, employer_id: str, market_id: str, title: str,
                 skills: list[str], headcount: int, wage_fen: int, wage_unit: str,
                 start_at: float, duration_hours: float, lat: float, lon: float, address: str,
                 description: str, state: str) -> Row:
    row = await tx.one(
        "INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen,"
        " wage_unit, start_at, duration_hours, lat, lon, address, description, state,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING *",
        (job_id, employer_id, market_id, title, json.dumps(skills), headcount, wage_fen,
         wage_unit, start_at, duration_hours, lat, lon, address, description, state, tx.now,
         tx.now),
    )
    assert row is not None
    return row


async def ids_of_employer(q: Ledger | Tx, employer_id: str, limit: int = 100) -> list[str]:
    """The employer's latest jobs first."""
    rows = await q.all("SELECT id FROM jobs WHERE employer_id = ? ORDER BY created_at DESC"
                       " LIMIT ?", (employer_id, limit))
    return [r["id"] for r in rows]


async def awaiting_review_of_employer(q: Ledger | Tx, employer_id: str) -> list[Row]:
    return await q.all("SELECT id, market_id FROM jobs WHERE employer_id = ?"
                       " AND state = 'pending_review'", (employer_id,))


async def awaiting_review_in(q: Ledger | Tx, market_id: str) -> list[str]:
    rows = await q.all("SELECT id FROM jobs WHERE market_id = ? AND state = 'pending_review'"
                       " ORDER BY created_at", (market_id,))
    return [r["id"] for r in rows]


async def open_started_before(q: Ledger | Tx, market_id: str, before: float) -> list[str]:
    """Open jobs of the market whose start lies before ``before``."""
    rows = await q.all("SELECT id FROM jobs WHERE market_id = ? AND state = 'open'"
                       " AND start_at < ?", (market_id, before))
    return [r["id"] for r in rows]


async def release_pending_many(tx: Tx, per_job: dict[str, int]) -> None:
    """Free ``n`` pending slots of each job: its offers closed without an accept."""
    await tx.executemany("UPDATE jobs SET pending = pending - ?, updated_at = ? WHERE id = ?",
                         [(n, tx.now, job_id) for job_id, n in per_job.items()])


async def of_employer_in(q: Ledger | Tx, employer_id: str, states: Sequence[str]) -> list[Row]:
    """The employer's jobs in these states."""
    marks = ",".join("?" * len(states))
    return await q.all(f"SELECT * FROM jobs WHERE employer_id = ? AND state IN ({marks})",
                       (employer_id, *states))


async def open_of_employer(q: Ledger | Tx, employer_id: str) -> list[Row]:
    return await q.all("SELECT * FROM jobs WHERE employer_id = ? AND state = 'open'",
                       (employer_id,))


async def claimable_in(q: Ledger | Tx, market_id: str, posted_before: float,
                       limit: int = 200) -> list[Row]:
    """Open jobs with a free slot, posted before ``posted_before``, soonest start first."""
    return await q.all("SELECT * FROM jobs WHERE market_id = ? AND state = 'open'"
                       " AND created_at <= ? AND headcount - accepted - pending > 0"
                       " ORDER BY start_at LIMIT ?", (market_id, posted_before, limit))
