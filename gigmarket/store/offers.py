"""Offers' rows: reads, and the writes that leave the state alone.

Their state moves through :mod:`gigmarket.store.transitions`.
"""

from __future__ import annotations

from collections.abc import Sequence

from gigmarket.store.ledger import Ledger, Row, Tx


async def get(q: Ledger | Tx, offer_id: str) -> Row | None:
    return await q.one("SELECT * FROM offers WHERE id = ?", (offer_id,))


async def pending_of_job(q: Ledger | Tx, job_id: str) -> list[str]:
    rows = await q.all("SELECT id FROM offers WHERE job_id = ? AND state = 'pending'", (job_id,))
    return [r["id"] for r in rows]


async def expiry(q: Ledger | Tx, offer_id: str) -> Row | None:
    """The offer's state and deadline, for explaining a refusal."""
    return await q.one("SELECT state, expires_at FROM offers WHERE id = ?", (offer_id,))


async def pending_of_jobs(q: Ledger | Tx, job_ids: Sequence[str]) -> list[Row]:
    marks = ",".join("?" * len(job_ids))
    return await q.all(f"SELECT * FROM offers WHERE job_id IN ({marks}) AND state = 'pending'",
                       list(job_ids))


async def met(q: Ledger | Tx, job_id: str, worker_id: str) -> bool:
    """Whether the worker was ever offered this job."""
    return await q.one("SELECT 1 FROM offers WHERE job_id = ? AND worker_id = ?",
                       (job_id, worker_id)) is not None


async def latest_of_pair(q: Ledger | Tx, job_id: str, worker_id: str) -> str | None:
    """The id of the newest offer of this job to this worker."""
    row = await q.one("SELECT id FROM offers WHERE job_id = ? AND worker_id = ?"
                      " ORDER BY created_at DESC, id DESC LIMIT 1", (job_id, worker_id))
    return None if row is None else str(row["id"])


async def pending_between(q: Ledger | Tx, worker_id: str, employer_id: str) -> list[str]:
    """The worker's pending offers of the employer's jobs."""
    rows = await q.all("SELECT o.id FROM offers o JOIN jobs j ON j.id = o.job_id"
                       " WHERE o.worker_id = ? AND j.employer_id = ? AND o.state = 'pending'",
                       (worker_id, employer_id))
    return [r["id"] for r in rows]


async def pending_of_worker(q: Ledger | Tx, worker_id: str) -> str | None:
    """The worker's pending offer (at most one: the schema says so)."""
    row = await q.one("SELECT id FROM offers WHERE worker_id = ? AND state = 'pending'",
                      (worker_id,))
    return None if row is None else str(row["id"])


async def latest_of_worker(q: Ledger | Tx, worker_id: str, limit: int = 50) -> list[Row]:
    """The worker's offers, the pending one first, then the newest."""
    return await q.all("SELECT * FROM offers WHERE worker_id = ?"
                       " ORDER BY CASE WHEN state = 'pending' THEN 0 ELSE 1 END,"
                       " created_at DESC LIMIT ?", (worker_id, limit))
