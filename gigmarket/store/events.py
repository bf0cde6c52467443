"""The ledger's event log read back in order, for exports and reports."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row


async def page_of_market(ledger: Ledger, market_id: str, *, after_at: float, after_seq: int,
                         before: float, limit: int) -> list[Row]:
    """The next ``limit`` events of the market after ``(after_at, after_seq)`` and before
    ``before``, in time order (ledger order within an instant), along the (market_id, at)
    index: each page reads only its own rows."""
    return await ledger.all(
        "SELECT seq, id, at, market_id, type, actor, subject, payload FROM events"
        " WHERE market_id = ? AND at >= ? AND at < ? AND (at > ? OR seq > ?)"
        " ORDER BY at, seq LIMIT ?",
        (market_id, after_at, before, after_at, after_seq, limit),
    )
