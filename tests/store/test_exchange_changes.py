"""The exchange's change rows are written by the ledger itself (triggers), numbered from one
counter in the writing transaction: what the feeds serve is exactly what was committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gigmarket.store import exchange
from gigmarket.store.ledger import Ledger, SqliteLedger, Tx
from gigmarket.store.live import LiveStore
from gigmarket.store.schema import MIGRATIONS

JOB = ("INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen,"
       " wage_unit, start_at, duration_hours, lat, lon, address, state, created_at, updated_at)"
       " VALUES (?, 'e1', 'shiling', '搬货', '[\"loading\"]', 2, 30000, 'day', 100, 8, 23.4,"
       " 113.1, '仓库', 'open', ?, ?)")
EMPLOYER = ("INSERT INTO employers (id, org_name, credit_code, created_at, updated_at)"
            " VALUES ('e1', '某厂', '91440114MA5D8K3P7N', 1, 1)")


async def setup(tx: Tx) -> None:
    await tx.execute(EMPLOYER)
    await tx.execute("INSERT INTO workers (id, name, id_number_masked, created_at, updated_at)"
                     " VALUES ('w1', '王', '4401**********1234', 1, 1)")


async def test_each_visible_change_of_a_job_is_one_numbered_snapshot(ledger: Ledger) -> None:
    """Created, then a round's pending count (not a change of the job), then a hire and a
    cancel: three changes, versions 1-3, each with the job as it was then."""
    async with ledger.transaction(10) as tx:
        await setup(tx)
        await tx.execute(JOB, ("j1", 10, 10))
    async with ledger.transaction(11) as tx:
        await tx.execute("UPDATE jobs SET pending = 1 WHERE id = 'j1'")
    async with ledger.transaction(12) as tx:
        await tx.execute("UPDATE jobs SET pending = 0, accepted = 1, updated_at = 12"
                         " WHERE id = 'j1'")
    async with ledger.transaction(13) as tx:
        await tx.execute("UPDATE jobs SET state = 'cancelled', updated_at = 13 WHERE id = 'j1'")
    rows = await exchange.job_changes(ledger, 0, 10)
    assert [(r["cursor"], r["version"], r["state"], r["accepted"], r["at"]) for r in rows] == [
        (1, 1, "open", 0, 10), (2, 2, "open", 1, 12), (3, 3, "cancelled", 1, 13)]
    assert rows[0]["org_name"] == "某厂" and rows[0]["external_id"] is None
    assert [r["cursor"] for r in await exchange.job_changes(ledger, 1, 1)] == [2]


async def test_a_rolled_back_change_takes_its_number_with_it(ledger: Ledger) -> None:
    """A transaction that fails leaves no change row and no gap in the numbers."""
    async with ledger.transaction(10) as tx:
        await setup(tx)
        await tx.execute(JOB, ("j1", 10, 10))
    with pytest.raises(RuntimeError):
        async with ledger.transaction(11) as tx:
            await tx.execute(JOB, ("j2", 11, 11))
            raise RuntimeError("the change fails after the job row")
    async with ledger.transaction(12) as tx:
        await tx.execute(JOB, ("j3", 12, 12))
    rows = await exchange.job_changes(ledger, 0, 10)
    assert [(r["cursor"], r["job_id"]) for r in rows] == [(1, "j1"), (2, "j3")]


async def test_assignment_changes_feed_the_outcomes_with_the_postings_external_id(
    ledger: Ledger,
) -> None:
    """A posting linked before its job: the job's and its hires' changes carry its id."""
    async with ledger.transaction(10) as tx:
        await setup(tx)
        await exchange.link_posting(tx, "gd", "GD-1", "j1", 1, "h", {"id": "j1", "state": "open"})
        await tx.execute(JOB, ("j1", 10, 10))
        await tx.execute(
            "INSERT INTO assignments (id, job_id, worker_id, market_id, wage_fen, wage_unit,"
            " start_at, end_at, state, created_at, updated_at) VALUES ('a1', 'j1', 'w1',"
            " 'shiling', 30000, 'day', 100, 200, 'accepted', 10, 10)")
    async with ledger.transaction(20) as tx:
        await tx.execute("UPDATE assignments SET state = 'completed', hours = 8, pay_fen = 30000,"
                         " pay_unit = 'day', updated_at = 20 WHERE id = 'a1'")
        await tx.execute("UPDATE assignments SET updated_at = 21 WHERE id = 'a1'")
    jobs = await exchange.job_changes(ledger, 0, 10)
    assert (jobs[0]["external_id"], jobs[0]["platform_id"]) == ("GD-1", "gd")
    rows = await exchange.outcome_changes(ledger, 0, 10)
    assert [(r["cursor"], r["state"], r["hours"], r["pay_fen"], r["external_id"],
             r["id_number_masked"]) for r in rows] == [
        (1, "accepted", None, None, "GD-1", "4401**********1234"),
        (2, "completed", 8, 30000, "GD-1", "4401**********1234")]


async def test_a_ledger_from_before_the_exchange_gets_its_history_in_order(
    tmp_path: Path,
) -> None:
    """Jobs and hires made before the exchange migration appear once each, oldest first, and
    new changes are numbered after them."""
    mine = next(i for i, m in enumerate(MIGRATIONS) if "exchange_counters" in m)
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in enumerate(MIGRATIONS[:mine], start=1):
        db.executescript(script)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    db.execute(EMPLOYER)
    db.execute(JOB, ("j-late", 30, 30))
    db.execute(JOB, ("j-early", 20, 20))
    db.commit()
    db.close()
    ledger = await Ledger.open(path)
    try:
        async with ledger.transaction(40) as tx:
            await tx.execute(JOB, ("j-new", 40, 40))
        rows = await exchange.job_changes(ledger, 0, 10)
        assert [(r["cursor"], r["job_id"], r["version"]) for r in rows] == [
            (1, "j-early", 1), (2, "j-late", 1), (3, "j-new", 1)]
    finally:
        await ledger.aclose()


async def test_the_live_gates_count_what_a_job_has_taken(live: LiveStore) -> None:
    """Hired plus offered, as the gates count them (an exchange update reads this before
    changing the terms); a job the live store does not know has taken nothing."""
    await live.put_job("shiling", "j1", {"id": "j1"}, 5, 1, 2)
    assert await live.job_taken("shiling", "j1") == 3
    await live.close_job("shiling", "j1")
    assert await live.job_taken("shiling", "j1") == 3
    assert await live.job_taken("shiling", "nobody") == 0


async def test_the_feed_triggers_outlive_every_later_migration(ledger: Ledger) -> None:
    """Rebuilding ``jobs`` or ``assignments`` (SQLite's way to change a CHECK) drops their
    triggers silently; a migration that does so must create them again, or this fails."""
    if isinstance(ledger, SqliteLedger):
        rows = await ledger.all("SELECT name, tbl_name FROM sqlite_master"
                                " WHERE type = 'trigger' AND name LIKE 'exchange_%'")
    else:  # PostgreSQL: the plpgsql twins (store/dialect.py)
        rows = await ledger.all("SELECT t.tgname AS name, c.relname AS tbl_name"
                                " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                                " WHERE NOT t.tgisinternal AND t.tgname LIKE 'exchange_%'")
    assert sorted((r["name"], r["tbl_name"]) for r in rows) == [
        ("exchange_assignment_inserted", "assignments"),
        ("exchange_assignment_updated", "assignments"),
        # The counters before any row (PostgreSQL's lock order; never firing on SQLite).
        ("exchange_feeds_first_assignments", "assignments"),
        ("exchange_feeds_first_jobs", "jobs"),
        ("exchange_job_inserted", "jobs"),
        ("exchange_job_updated", "jobs"),
    ]
