"""Reports on jobs and employers filed by workers (trust, SPEC 11.2), and their resolutions."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx


async def absent_reported(q: Ledger | Tx, job_id: str) -> bool:
    """Whether a hired worker reported that nobody came to give this job's work."""
    return await q.one("SELECT 1 FROM reports WHERE job_id = ? AND reason = 'no_show'",
                       (job_id,)) is not None


#: A report with what a manager needs to judge it: the job, the employer, the worker's name.
_WITH_PARTIES = (
    "SELECT r.*, j.title, j.state AS job_state, e.org_name, e.state AS employer_state,"
    " w.name AS worker_name FROM reports r JOIN jobs j ON j.id = r.job_id"
    " JOIN employers e ON e.id = r.employer_id JOIN workers w ON w.id = r.worker_id"
)


async def get(q: Ledger | Tx, report_id: str) -> Row | None:
    return await q.one(f"{_WITH_PARTIES} WHERE r.id = ?", (report_id,))


async def open_of_market(q: Ledger | Tx, market_id: str, limit: int = 500) -> list[Row]:
    return await q.all(f"{_WITH_PARTIES} WHERE r.market_id = ? AND r.state = 'open'"
                       " ORDER BY r.at LIMIT ?", (market_id, limit))


async def filed(q: Ledger | Tx, job_id: str, worker_id: str) -> bool:
    return await q.one("SELECT 1 FROM reports WHERE job_id = ? AND worker_id = ?",
                       (job_id, worker_id)) is not None


async def file(tx: Tx, *, report_id: str, job: Row, worker_id: str, reason: str,
               note: str | None) -> None:
    await tx.execute(
        "INSERT INTO reports (id, job_id, worker_id, employer_id, market_id, reason, note,"
        " at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
        (report_id, job["id"], worker_id, job["employer_id"], job["market_id"], reason, note,
         tx.now),
    )


async def resolve(tx: Tx, report_id: str, *, upheld: bool, note: str, by: str) -> bool:
    """Resolve an open report; ``False`` when it was already resolved."""
    n = await tx.execute("UPDATE reports SET state = 'resolved', upheld = ?,"
                         " resolution_note = ?, resolved_by = ?, resolved_at = ?"
                         " WHERE id = ? AND state = 'open'",
                         (int(upheld), note, by, tx.now, report_id))
    return n == 1
