"""Wage disputes: completed work whose pay nobody confirmed, on the manager's queue."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx, new_id

#: A dispute with what a manager needs to judge it: the work, the pay, both sides' names.
_WITH_WORK = (
    "SELECT d.*, a.job_id, a.hours, a.pay_fen, a.pay_unit, a.completed_at, j.title,"
    " j.employer_id, w.name AS worker_name, e.org_name FROM disputes d"
    " JOIN assignments a ON a.id = d.assignment_id JOIN jobs j ON j.id = a.job_id"
    " JOIN workers w ON w.id = a.worker_id JOIN employers e ON e.id = j.employer_id"
)


async def get(q: Ledger | Tx, dispute_id: str) -> Row | None:
    return await q.one(f"{_WITH_WORK} WHERE d.id = ?", (dispute_id,))


async def open_of_market(q: Ledger | Tx, market_id: str, limit: int = 500) -> list[Row]:
    return await q.all(f"{_WITH_WORK} WHERE d.market_id = ? AND d.state = 'open'"
                       " ORDER BY d.opened_at LIMIT ?", (market_id, limit))


async def open_(tx: Tx, assignment_id: str, market_id: str) -> str:
    """Open a dispute over the assignment's pay; its id."""
    dispute_id = new_id("d")
    await tx.execute("INSERT INTO disputes (id, assignment_id, market_id, opened_at, state)"
                     " VALUES (?, ?, ?, ?, 'open')", (dispute_id, assignment_id, market_id, tx.now))
    return dispute_id


async def resolve(tx: Tx, dispute_id: str, *, outcome: str, note: str, by: str) -> bool:
    """Resolve an open dispute; ``False`` when it was already resolved."""
    n = await tx.execute("UPDATE disputes SET state = 'resolved', outcome = ?, note = ?,"
                         " resolved_by = ?, resolved_at = ? WHERE id = ? AND state = 'open'",
                         (outcome, note, by, tx.now, dispute_id))
    return n == 1


async def settle_paid(tx: Tx, assignment_id: str, by: str) -> None:
    """The worker confirmed the pay: an open dispute over it closes as paid."""
    await tx.execute(
        "UPDATE disputes SET state = 'resolved', outcome = 'paid', note = 'worker confirmed"
        " pay', resolved_by = ?, resolved_at = ? WHERE assignment_id = ? AND state = 'open'",
        (by, tx.now, assignment_id),
    )
