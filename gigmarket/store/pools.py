"""What a market's live pools are rebuilt from, read from the ledger (the truth) after Redis
lost them: waiting workers, open jobs, pending offers, and the pairs never to offer again."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx

Q = Ledger | Tx
Pair = tuple[str, str]


async def present_workers(q: Q, market_id: str) -> list[Row]:
    """Workers checked in at the market: waiting, holding an offer or at work."""
    return await q.all("SELECT * FROM workers WHERE market_id = ? AND state IN"
                       " ('available', 'offered', 'assigned')", (market_id,))


async def dispatchable_jobs(q: Q, market_id: str) -> list[Row]:
    """Open jobs with their employer's rating and reliability (``e_*``), except those a hired
    worker found nobody at: they recruit no more (services.lifecycle.cancel)."""
    return await q.all(
        "SELECT j.*, e.rating_sum AS e_rating_sum, e.rating_count AS e_rating_count,"
        " e.reliability AS e_reliability FROM jobs j JOIN employers e ON e.id = j.employer_id"
        " WHERE j.market_id = ? AND j.state = 'open'"
        " AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.job_id = j.id"
        " AND r.reason = 'no_show')", (market_id,))


async def pending_offers(q: Q, market_id: str) -> list[Row]:
    return await q.all("SELECT id, worker_id, job_id, expires_at FROM offers"
                       " WHERE market_id = ? AND state = 'pending'", (market_id,))


async def offered_pairs(q: Q, market_id: str) -> list[Pair]:
    """Every (worker, job) pair ever offered in the market, whatever came of it."""
    rows = await q.all("SELECT worker_id, job_id FROM offers WHERE market_id = ?", (market_id,))
    return [(r["worker_id"], r["job_id"]) for r in rows]


async def hired_pairs(q: Q, market_id: str) -> list[Pair]:
    rows = await q.all("SELECT worker_id, job_id FROM assignments WHERE market_id = ?",
                       (market_id,))
    return [(r["worker_id"], r["job_id"]) for r in rows]


async def blocked_pairs(q: Q, market_id: str) -> list[Pair]:
    """Each blocked worker with every open job of the employer (blocks go either way)."""
    rows = await q.all("SELECT DISTINCT b.worker_id, j.id AS job_id FROM blocks b JOIN jobs j"
                       " ON j.employer_id = b.employer_id WHERE j.market_id = ?"
                       " AND j.state = 'open'", (market_id,))
    return [(r["worker_id"], r["job_id"]) for r in rows]
