"""Blocks between a worker and an employer: the pair is never matched again."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Tx


async def workers_blocked_by(q: Ledger | Tx, employer_id: str) -> list[str]:
    """Workers in a block with the employer, whichever side made it."""
    rows = await q.all("SELECT DISTINCT worker_id FROM blocks WHERE employer_id = ?",
                       (employer_id,))
    return [r["worker_id"] for r in rows]


async def employers_blocked_by(q: Ledger | Tx, worker_id: str) -> set[str]:
    """Employers in a block with the worker, whichever side made it."""
    rows = await q.all("SELECT employer_id FROM blocks WHERE worker_id = ?", (worker_id,))
    return {r["employer_id"] for r in rows}


async def between(q: Ledger | Tx, worker_id: str, employer_id: str) -> bool:
    return await q.one("SELECT 1 FROM blocks WHERE worker_id = ? AND employer_id = ?",
                       (worker_id, employer_id)) is not None


async def met(q: Ledger | Tx, worker_id: str, employer_id: str) -> bool:
    """Whether the worker was ever offered or hired for one of the employer's jobs."""
    return await q.one(
        "SELECT 1 FROM jobs j WHERE j.employer_id = ? AND (EXISTS (SELECT 1 FROM offers o"
        " WHERE o.job_id = j.id AND o.worker_id = ?) OR EXISTS (SELECT 1 FROM assignments a"
        " WHERE a.job_id = j.id AND a.worker_id = ?))", (employer_id, worker_id, worker_id),
    ) is not None


async def add(tx: Tx, worker_id: str, employer_id: str, by_role: str) -> None:
    """Block the pair (again is a no-op)."""
    await tx.execute("INSERT INTO blocks (worker_id, employer_id, by_role, at)"
                     " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     (worker_id, employer_id, by_role, tx.now))
