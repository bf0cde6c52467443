"""Wrong typed check-in codes, counted per assignment (SPEC 11.2: five, then locked)."""

from __future__ import annotations

from collections.abc import Sequence

from gigmarket.store.ledger import Ledger, Row, Tx


async def failures(tx: Tx, assignment_id: str) -> int:
    row = await tx.one("SELECT code_failures FROM assignments WHERE id = ?", (assignment_id,))
    return 0 if row is None else int(row["code_failures"])


async def add_failure(tx: Tx, assignment_id: str) -> int:
    """Count one wrong code; the new count."""
    await tx.execute("UPDATE assignments SET code_failures = code_failures + 1 WHERE id = ?",
                     (assignment_id,))
    return await failures(tx, assignment_id)


async def clear(tx: Tx, assignment_id: str) -> None:
    await tx.execute("UPDATE assignments SET code_failures = 0 WHERE id = ?", (assignment_id,))


async def locked_of(q: Ledger | Tx, worker_ids: Sequence[str], at_least: int) -> list[Row]:
    """Accepted assignments of these workers whose typed code is locked, with the job title."""
    if not worker_ids:
        return []
    marks = ",".join("?" * len(worker_ids))
    return await q.all(
        "SELECT a.id, a.worker_id, a.market_id, j.title FROM assignments a"
        f" JOIN jobs j ON j.id = a.job_id WHERE a.worker_id IN ({marks})"
        " AND a.state = 'accepted' AND a.code_failures >= ?", (*worker_ids, at_least))
