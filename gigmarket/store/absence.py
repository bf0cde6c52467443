"""The ledger's side of "absence costs no work" (issue 10): which pairs a worker's return
frees again."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Tx


async def pairs_to_restore(q: Tx | Ledger, worker_id: str) -> list[tuple[str, str]]:
    """``(market_id, job_id)`` of still-open jobs whose only offers to this worker expired
    while they were away, with nothing else excluding the pair (a refusal, a hire or its
    call-off, a block either way)."""
    rows = await q.all(
        "SELECT DISTINCT o.market_id, o.job_id FROM offers o JOIN jobs j ON j.id = o.job_id"
        " WHERE o.worker_id = ? AND o.absent = 1 AND j.state = 'open'"
        " AND NOT EXISTS (SELECT 1 FROM offers x WHERE x.worker_id = o.worker_id"
        " AND x.job_id = o.job_id AND x.absent = 0)"
        " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.worker_id = o.worker_id"
        " AND a.job_id = o.job_id)"
        " AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.worker_id = o.worker_id"
        " AND b.employer_id = j.employer_id)", (worker_id,),
    )
    return [(r["market_id"], r["job_id"]) for r in rows]
