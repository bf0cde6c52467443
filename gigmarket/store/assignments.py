"""Assignments: a worker's accepted work, from the accept to the pay (SPEC 5).

Their state moves through :mod:`gigmarket.store.transitions`; here are the reads and the writes
that leave the state alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from gigmarket.store.ledger import Ledger, Row, Tx, new_id


async def get(q: Ledger | Tx, assignment_id: str) -> Row | None:
    return await q.one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))


async def states_of_job(q: Ledger | Tx, job_id: str) -> list[str]:
    rows = await q.all("SELECT state FROM assignments WHERE job_id = ?", (job_id,))
    return [r["state"] for r in rows]


async def unconfirmed_before(q: Ledger | Tx, market_id: str, completed_before: float,
                             limit: int) -> list[Row]:
    """Completed work whose pay nobody confirmed since ``completed_before``."""
    return await q.all("SELECT * FROM assignments WHERE market_id = ? AND state = 'completed'"
                       " AND completed_at <= ? LIMIT ?", (market_id, completed_before, limit))


async def clash(q: Ledger | Tx, worker_id: str, start: float, end: float) -> str | None:
    """The id of the worker's live assignment overlapping ``[start, end)``, if any."""
    row = await q.one("SELECT id FROM assignments WHERE worker_id = ? AND state IN"
                      " ('accepted', 'checked_in') AND start_at < ? AND end_at > ?",
                      (worker_id, end, start))
    return None if row is None else str(row["id"])


async def create(tx: Tx, *, job: Row, worker_id: str, offer_id: str | None,
                 travel_minutes: float | None, via: str = "offer") -> Row:
    """A new accepted assignment for ``worker_id`` on ``job``, at the job's wage and hours;
    ``via`` a round's offer or the worker's own claim."""
    start = job["start_at"]
    end = start + job["duration_hours"] * 3600
    row = await tx.one(
        "INSERT INTO assignments (id, job_id, worker_id, offer_id, market_id, wage_fen,"
        " wage_unit, start_at, end_at, travel_minutes, state, created_at, updated_at, via)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?) RETURNING *",
        (new_id("as"), job["id"], worker_id, offer_id, job["market_id"], job["wage_fen"],
         job["wage_unit"], start, end, travel_minutes, tx.now, tx.now, via),
    )
    assert row is not None
    return row


async def code_used(tx: Tx, code: str, assignment_id: str) -> bool:
    return await tx.one("SELECT 1 FROM used_codes WHERE code = ? AND assignment_id = ?",
                        (code, assignment_id)) is not None


async def use_code(tx: Tx, code: str, assignment_id: str) -> None:
    await tx.execute("INSERT INTO used_codes (code, assignment_id, at) VALUES (?, ?, ?)",
                     (code, assignment_id, tx.now))


async def live_of_jobs(q: Ledger | Tx, job_ids: Sequence[str]) -> list[Row]:
    """The jobs' assignments whose work is still ahead or under way."""
    marks = ",".join("?" * len(job_ids))
    return await q.all(f"SELECT * FROM assignments WHERE job_id IN ({marks}) AND state IN"
                       " ('accepted', 'checked_in')", list(job_ids))


async def of_pair(q: Ledger | Tx, job_id: str, worker_id: str) -> Row | None:
    """The worker's assignment on the job, if they were ever hired for it (at most one)."""
    return await q.one("SELECT * FROM assignments WHERE job_id = ? AND worker_id = ?",
                       (job_id, worker_id))


async def latest_of_worker(q: Ledger | Tx, worker_id: str, limit: int = 50) -> list[Row]:
    return await q.all("SELECT * FROM assignments WHERE worker_id = ?"
                       " ORDER BY start_at DESC LIMIT ?", (worker_id, limit))


async def busy_until(q: Ledger | Tx, worker_id: str, now: float) -> float | None:
    """When the worker's work under way now ends, if they have any."""
    row = await q.one("SELECT MAX(end_at) AS until FROM assignments WHERE worker_id = ?"
                      " AND state IN ('accepted', 'checked_in') AND start_at <= ? AND end_at > ?",
                      (worker_id, now, now))
    return None if row is None or row["until"] is None else float(row["until"])


async def next_end(q: Ledger | Tx, worker_id: str, now: float) -> float | None:
    """The earliest end of the worker's live work still to come."""
    row = await q.one("SELECT MIN(end_at) AS until FROM assignments WHERE worker_id = ?"
                      " AND state IN ('accepted', 'checked_in') AND end_at > ?", (worker_id, now))
    return None if row is None or row["until"] is None else float(row["until"])


async def taken_or_clashing(q: Ledger | Tx, worker_id: str, job_id: str, start: float,
                            end: float) -> bool:
    """Whether the worker was hired for this job before, or has live work overlapping it."""
    return await q.one(
        "SELECT 1 FROM assignments WHERE worker_id = ? AND (job_id = ? OR (state IN"
        " ('accepted', 'checked_in') AND start_at < ? AND end_at > ?))",
        (worker_id, job_id, end, start),
    ) is not None


async def of_worker_since(q: Ledger | Tx, worker_id: str, now: float,
                          day_start: float) -> list[Row]:
    """The worker's work still ahead and all made today: what their busy hours and the day's
    earnings are computed from."""
    return await q.all(
        "SELECT state, wage_fen, wage_unit, start_at, end_at, created_at FROM assignments"
        " WHERE worker_id = ? AND (end_at > ? OR created_at >= ?)", (worker_id, now, day_start))
