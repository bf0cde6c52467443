"""The manager's hourly history counts each event in the hour it fell in."""

from __future__ import annotations

from gigmarket.store import market_figures
from gigmarket.store.ledger import Ledger


async def test_events_fall_in_the_hour_they_happened(ledger: Ledger) -> None:
    """An event a moment before the hour's end counts in that hour (truncated, never rounded
    up), one at the end of the day in the last, and days before or after not at all."""
    start = 1_000_000.0
    async with ledger.transaction() as tx:
        for i, at in enumerate([start, start + 3599.9, start + 3600, start + 86399.5,
                                start - 1, start + 86400]):
            tx.now = at
            await tx.event("job.posted", market_id="shiling", actor=None, subject=f"j{i}",
                           payload={})
        tx.now = start + 10
        await tx.event("job.posted", market_id="elsewhere", actor=None, subject="x", payload={})
        await tx.event("worker.checked_in", market_id="shiling", actor=None, subject="w",
                       payload={})
    series = await market_figures.events_by_hour(ledger, "shiling", start,
                                                 ["job.posted", "worker.checked_in"])
    posted = series["job.posted"]
    assert (posted[0], posted[1], posted[23], sum(posted)) == (2, 1, 1, 4)
    assert series["worker.checked_in"][0] == 1 and sum(series["worker.checked_in"]) == 1
