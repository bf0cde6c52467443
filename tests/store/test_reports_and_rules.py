"""The report's event reads and the stored rules (store.reports, store.market_rules) against a
real SQLite ledger: events before the range that a day's figures depend on are found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gigmarket.core.reports import daily, day_bounds
from gigmarket.store import market_rules
from gigmarket.store.ledger import Ledger
from gigmarket.store.reports import report_events

CST = ZoneInfo("Asia/Shanghai")
YESTERDAY, TODAY = date(2026, 11, 22), date(2026, 11, 23)


def at(day: date, hh: int, mm: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=CST).timestamp()


async def log(ledger: Ledger, when: float, type_: str, market: str | None, actor: str,
              subject: str, **payload: Any) -> None:
    async with ledger.transaction(when) as tx:
        await tx.event(type_, market_id=market, actor=actor, subject=subject, payload=payload)


async def test_todays_figures_reach_back_for_what_they_depend_on(ledger: Ledger) -> None:
    """A worker first seen yesterday is not new today; a job posted yesterday times today's
    fill; a key group set in another market counts; a dispute opened yesterday and resolved
    paid today confirms its pay today; another market's events are not counted."""
    await log(ledger, at(YESTERDAY, 9), "worker.checked_in", "shiling", "w1", "w1")
    await log(ledger, at(YESTERDAY, 10), "worker.key_group_set", "huashan", "m2", "w1",
              key_group="disabled")
    await log(ledger, at(YESTERDAY, 22), "job.posted", "shiling", "e1", "j1", state="open",
              headcount=2)
    await log(ledger, at(YESTERDAY, 23), "offer.accepted", "shiling", "w9", "o9", job_id="j1")
    await log(ledger, at(YESTERDAY, 23), "dispute.opened", "shiling", "system", "d1",
              pay_fen=12000)
    await log(ledger, at(TODAY, 7), "worker.checked_in", "shiling", "w1", "w1")
    await log(ledger, at(TODAY, 7), "worker.checked_in", "shiling", "w2", "w2")
    await log(ledger, at(TODAY, 8), "offer.accepted", "shiling", "w1", "o1", job_id="j1")
    await log(ledger, at(TODAY, 9), "dispute.resolved", "shiling", "m1", "d1", outcome="paid")
    await log(ledger, at(TODAY, 9), "job.posted", "huashan", "e2", "j2", state="open",
              headcount=5)
    lo, hi = day_bounds([TODAY], CST)
    row = daily([e async for e in report_events(ledger, "shiling", lo, hi)], [TODAY], CST)[0]
    assert (row.workers_registered, row.workers_checked_in) == (1, 2)
    assert (row.jobs_posted, row.slots_filled, row.median_time_to_fill_s) == (0, 1, 10 * 3600)
    assert row.key_group_placed == 1
    assert (row.wages_confirmed_fen, row.disputes_opened, row.disputes_resolved) == (12000, 0, 1)


async def test_rules_are_merged_versioned_and_logged(ledger: Ledger) -> None:
    """Each change merges into the overrides, bumps the version and logs who, what and from
    what; the history reads newest first."""
    async with ledger.transaction(100.0) as tx:
        await market_rules.save(tx, "shiling", {"offer_timeout_s": 30.0}, "mg_1",
                                {"offer_timeout_s": 45.0})
    async with ledger.transaction(200.0) as tx:
        saved = await market_rules.save(tx, "shiling", {"claim_after_s": 60.0}, "mg_2",
                                        {"claim_after_s": 600.0})
    assert saved.version == 2
    assert (await market_rules.all_rules(ledger))["shiling"].overrides == {
        "offer_timeout_s": 30.0, "claim_after_s": 60.0}
    assert await market_rules.versions(ledger) == {"shiling": 2}
    history = await market_rules.history(ledger, "shiling")
    assert [(h["manager"]["id"], h["version"], h["changed"], h["before"]) for h in history] == [
        ("mg_2", 2, {"claim_after_s": 60.0}, {"claim_after_s": 600.0}),
        ("mg_1", 1, {"offer_timeout_s": 30.0}, {"offer_timeout_s": 45.0})]


async def test_a_range_read_in_small_pages_counts_the_same(ledger: Ledger,
                                                           monkeypatch: Any) -> None:
    """Paged by (time, seq), events sharing a time across a page edge are read once each,
    and the context events arrive in time order among them."""
    from gigmarket.store import reports as store_reports

    await log(ledger, at(YESTERDAY, 20), "job.posted", "shiling", "e1", "j1", state="open",
              headcount=9)
    for i in range(7):
        # Two events per instant: pages of 3 split some instants.
        await log(ledger, at(TODAY, 8, i), "worker.checked_in", "shiling", f"w{i}", f"w{i}")
        await log(ledger, at(TODAY, 8, i), "offer.accepted", "shiling", f"w{i}", f"o{i}",
                  job_id="j1")
    lo, hi = day_bounds([TODAY], CST)
    monkeypatch.setattr(store_reports, "PAGE", 3)
    events = [e async for e in report_events(ledger, "shiling", lo, hi)]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert len(events) == 15
    row = daily(events, [TODAY], CST)[0]
    assert (row.workers_checked_in, row.slots_filled) == (7, 7)
    assert row.median_time_to_fill_s == 12 * 3600 + 3 * 60
