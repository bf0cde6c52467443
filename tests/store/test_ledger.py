"""The ledger on both backends (a real SQLite temp file, a real PostgreSQL database):
migrations, transactions, per-recipient seqs, replay, and the invariants the schema itself
holds. Tests of what only SQLite has say so (``only_sqlite``)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gigmarket.store import lease_tokens, recoveries
from gigmarket.store.dialect import statements as _statements
from gigmarket.store.ledger import Ledger, LedgerConflict, SqliteLedger, Tx
from gigmarket.store.postgres import PostgresLedger
from gigmarket.store.recoveries import Recovery
from gigmarket.store.schema import MIGRATIONS
from tests.store.conftest import only_sqlite

JOB_SQL = (
    "INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen, wage_unit,"
    " start_at, duration_hours, lat, lon, address, state, created_at, updated_at)"
    " VALUES (?, 'e1', 'shiling', '仓库搬货', '[\"loading\"]', ?, 30000, 'day', 100, 8,"
    " 23.46, 113.16, '狮岭镇', 'open', 1, 1)"
)

OFFER_SQL = (
    "INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at, expires_at,"
    " state, distance_km, travel_minutes, terms)"
    " VALUES (?, ?, ?, 'shiling', 'r1', 1, 46, ?, 1.2, 4.8, '{}')"
)

REPORT_SQL = (
    "INSERT INTO reports (id, job_id, worker_id, employer_id, market_id, reason, at, state)"
    " VALUES (?, 'j1', ?, 'e1', 'shiling', ?, 6, 'open')"
)


#: A broken CHECK, in either backend's words.
CHECK_FAILED = r"CHECK constraint failed|violates check constraint"


async def scalar(source: Ledger | Tx, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = await source.one(sql, params)
    assert row is not None
    return row[0]


async def versions(ledger: Ledger) -> list[int]:
    return [int(r["version"]) for r in await ledger.all("SELECT version FROM schema_version")]


async def send(ledger: Ledger, recipient: str, count: int) -> None:
    """``count`` messages to ``recipient``, one transaction each."""
    for _ in range(count):
        async with ledger.transaction() as tx:
            await tx.message(recipient, {"type": "n"})
        (sent,) = tx.outbox
        assert sent.seq == await ledger.last_seq(recipient)


def given(tx: Tx) -> list[int]:
    """The seqs a committed transaction gave its messages, in order (PostgreSQL gives them at
    the commit)."""
    return [o.seq for o in tx.outbox]


def seqs(messages: list[dict[str, Any]] | None) -> list[int]:
    assert messages is not None
    return [int(m["seq"]) for m in messages]


async def seed(ledger: Ledger) -> None:
    """An employer, two jobs of headcount 2 and two workers, as bare rows."""
    async with ledger.transaction(now=1.0) as tx:
        await tx.execute("INSERT INTO employers (id, created_at, updated_at) VALUES ('e1', 1, 1)")
        await tx.executemany(
            "INSERT INTO workers (id, created_at, updated_at) VALUES (?, 1, 1)",
            [("w1",), ("w2",)],
        )
        await tx.executemany(JOB_SQL, [("j1", 2), ("j2", 2)])


async def add_offer(ledger: Ledger, offer_id: str, worker: str, job: str, state: str) -> None:
    async with ledger.transaction() as tx:
        await tx.execute(OFFER_SQL, (offer_id, job, worker, state))


# -- migrations and connection settings ------------------------------------------------------


async def test_migrations_apply_once_and_never_again(tmp_path: Path) -> None:
    """A new file gets every migration once; reopening it applies none again and keeps data."""
    path = tmp_path / "ledger.sqlite3"
    first = await Ledger.open(path)
    try:
        assert await versions(first) == list(range(1, len(MIGRATIONS) + 1))
        async with first.transaction() as tx:
            await tx.message("worker:w1", {"type": "hello"})
    finally:
        await first.aclose()
    second = await Ledger.open(path)
    try:
        assert await versions(second) == list(range(1, len(MIGRATIONS) + 1))
        assert await second.last_seq("worker:w1") == 1
    finally:
        await second.aclose()


async def test_wal_and_full_sync_on_both_connections(ledger: Ledger) -> None:
    only_sqlite(ledger)
    """The reader and the writer both run WAL with synchronous=FULL (2) and foreign keys on."""
    assert await scalar(ledger, "PRAGMA journal_mode") == "wal"
    assert await scalar(ledger, "PRAGMA synchronous") == 2
    async with ledger.transaction() as tx:
        assert await scalar(tx, "PRAGMA journal_mode") == "wal"
        assert await scalar(tx, "PRAGMA synchronous") == 2
        assert await scalar(tx, "PRAGMA foreign_keys") == 1


# -- transactions ----------------------------------------------------------------------------


async def test_a_transaction_that_raises_leaves_nothing(ledger: Ledger) -> None:
    """A raising transaction rolls back its rows, events, messages and recipients' seqs."""
    async with ledger.transaction() as tx:
        await tx.message("worker:w1", {"type": "hello"})
    with pytest.raises(RuntimeError, match="boom"):
        async with ledger.transaction() as tx:
            await tx.execute(
                "INSERT INTO employers (id, created_at, updated_at) VALUES ('e1', 2, 2)"
            )
            await tx.event("job_posted", market_id="shiling", actor="e1", subject="j1",
                           payload={"title": "搬货"})
            await tx.event_many("offer_made", "shiling", None, [("ev_o1", "o1", {})])
            await tx.message("worker:w1", {"type": "offer"})
            await tx.message("worker:w2", {"type": "offer"})
            await tx.message_many([("worker:w1", {"type": "x"}), ("worker:w3", {"type": "x"})])
            raise RuntimeError("boom")
    assert await scalar(ledger, "SELECT COUNT(*) FROM employers") == 0
    assert await scalar(ledger, "SELECT COUNT(*) FROM events") == 0
    assert await scalar(ledger, "SELECT COUNT(*) FROM messages") == 1
    assert await scalar(ledger, "SELECT COUNT(*) FROM recipients") == 1
    assert [await ledger.last_seq(r) for r in ("worker:w1", "worker:w2", "worker:w3")] == [1, 0, 0]
    async with ledger.transaction() as tx:
        await tx.message("worker:w1", {"type": "offer"})
    assert given(tx) == [2]


async def test_a_failed_commit_does_not_wedge_the_writer(ledger: Ledger) -> None:
    """When COMMIT itself fails, nothing is kept and the next transaction still works."""
    only_sqlite(ledger)  # PostgreSQL's foreign keys are not deferrable here
    await seed(ledger)
    with pytest.raises(LedgerConflict, match="FOREIGN KEY"):
        async with ledger.transaction() as tx:
            # A deferred foreign key makes COMMIT the statement that fails: a deterministic
            # stand-in for any error at commit time (disk full, I/O error).
            await tx.execute("PRAGMA defer_foreign_keys = ON")
            await tx.execute(OFFER_SQL, ("o1", "no-such-job", "w1", "pending"))
    async with ledger.transaction() as tx:
        await tx.message("worker:w1", {"type": "hello"})
    assert given(tx) == [1]
    assert await scalar(ledger, "SELECT COUNT(*) FROM offers") == 0


async def test_a_cancel_during_commit_keeps_the_commit_and_lands_after_it(
    ledger: Ledger,
) -> None:
    """A SIGTERM cancels the dispatcher's task while a round's COMMIT runs in the database
    thread. The commit finishes and is reported as done, the cancel lands at the caller's next
    await, and the writer is free for the next transaction (it used to follow the finished
    COMMIT with a ROLLBACK that found no transaction, and log a failed round)."""
    reached: list[str] = []

    async def round_() -> None:
        task = asyncio.current_task()
        assert task is not None
        async with ledger.transaction() as tx:
            await tx.message("worker:w1", {"type": "offer"})
            # Runs on the loop's next turn, which comes while COMMIT is in the thread.
            asyncio.get_running_loop().call_soon(task.cancel)
        reached.append("committed")
        await asyncio.sleep(0)
        reached.append("after the next await")

    task = asyncio.create_task(round_())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reached == ["committed"]
    assert await ledger.last_seq("worker:w1") == 1
    async with ledger.transaction() as tx:
        await tx.message("worker:w1", {"type": "hello"})
    assert given(tx) == [2]


# -- per-recipient seqs and replay -----------------------------------------------------------


async def test_message_numbers_each_recipient_independently(ledger: Ledger) -> None:
    """Tx.message gives each recipient its own 1, 2, 3…, continuing across transactions."""
    async with ledger.transaction() as tx:
        for r in ("a", "b", "a", "a", "c", "b"):
            await tx.message(r, {"type": "t"})
    assert given(tx) == [1, 1, 2, 3, 1, 2]
    async with ledger.transaction() as tx:
        await tx.message("b", {"type": "t"})
        await tx.message("a", {"type": "t"})
    assert given(tx) == [3, 4]
    assert [await ledger.last_seq(r) for r in ("a", "b", "c", "d")] == [4, 3, 1, 0]


async def test_message_many_continues_and_interleaves_with_message(ledger: Ledger) -> None:
    """message_many continues each recipient's seq; message before and after it agrees; the
    outbox and the stored history carry the full bodies with their seq."""
    async with ledger.transaction() as tx:
        await tx.message("a", {"type": "offer", "n": 1})
        await tx.message_many(
            [("a", {"n": 2}), ("b", {"n": 3}), ("a", {"n": 4}), ("c", {"n": 5})]
        )
        await tx.message("a", {"n": 6})
        await tx.message("b", {"n": 7})
    first = [(o.recipient, o.seq, o.body) for o in tx.outbox]
    async with ledger.transaction() as tx:
        await tx.message_many([("c", {"n": 8}), ("a", {"n": 9})])
    second = [(o.recipient, o.seq, o.body) for o in tx.outbox]
    assert first == [
        ("a", 1, {"type": "offer", "n": 1, "seq": 1}),
        ("a", 2, {"n": 2, "seq": 2}),
        ("b", 1, {"n": 3, "seq": 1}),
        ("a", 3, {"n": 4, "seq": 3}),
        ("c", 1, {"n": 5, "seq": 1}),
        ("a", 4, {"n": 6, "seq": 4}),
        ("b", 2, {"n": 7, "seq": 2}),
    ]
    assert second == [("c", 2, {"n": 8, "seq": 2}), ("a", 5, {"n": 9, "seq": 5})]
    for recipient in ("a", "b", "c"):
        sent = [body for r, _, body in first + second if r == recipient]
        assert await ledger.messages_after(recipient, 0) == sent
    assert [await ledger.last_seq(r) for r in ("a", "b", "c")] == [5, 2, 2]


async def test_messages_after_returns_exactly_the_missing_ones(ledger: Ledger) -> None:
    """messages_after gives every message after a seq, in order; [] when up to date or for a
    recipient never written to; None (a snapshot) when more are missing than the limit, never
    the first ``limit`` of them (issue 8: a manager 1,300 behind got 1,000 and no snapshot)."""
    await send(ledger, "worker:w1", 5)
    assert await ledger.messages_after("worker:w1", 2) == [
        {"type": "n", "seq": 3}, {"type": "n", "seq": 4}, {"type": "n", "seq": 5},
    ]
    assert seqs(await ledger.messages_after("worker:w1", 0)) == [1, 2, 3, 4, 5]
    assert await ledger.messages_after("worker:w1", 1, limit=2) is None
    assert seqs(await ledger.messages_after("worker:w1", 3, limit=2)) == [4, 5]
    assert await ledger.messages_after("worker:w1", 5) == []
    assert await ledger.messages_after("worker:nobody", 0) == []


async def test_pruned_history_leaves_a_gap_that_asks_for_a_snapshot(ledger: Ledger) -> None:
    """After prune_messages keeps the last N per recipient, a resume from before them gets None
    (snapshot); a resume within them gets the rest; numbering carries on."""
    await send(ledger, "worker:w1", 5)
    await send(ledger, "worker:w2", 1)
    assert await ledger.prune_messages(keep_per_recipient=2) == 3
    assert await ledger.messages_after("worker:w1", 0) is None
    assert await ledger.messages_after("worker:w1", 2) is None
    assert seqs(await ledger.messages_after("worker:w1", 3)) == [4, 5]
    assert await ledger.messages_after("worker:w1", 5) == []
    assert seqs(await ledger.messages_after("worker:w2", 0)) == [1]
    await send(ledger, "worker:w1", 1)
    assert seqs(await ledger.messages_after("worker:w1", 3)) == [4, 5, 6]


async def test_a_replayed_event_id_is_a_noop(ledger: Ledger) -> None:
    """The same event_id twice, in one transaction, in two, or through event_many, is one row
    (the first); events without an id each get their own."""
    async with ledger.transaction(now=1.0) as tx:
        for n in (1, 2):
            await tx.event("offer_accepted", market_id="shiling", actor="w1", subject="o1",
                           payload={"n": n}, event_id="offer:o1:accepted")
    async with ledger.transaction(now=2.0) as tx:
        await tx.event("offer_accepted", market_id="shiling", actor="w1", subject="o1",
                       payload={"n": 3}, event_id="offer:o1:accepted")
        await tx.event_many("offer_accepted", "shiling", "w2", [
            ("offer:o1:accepted", "o1", {"n": 4}),
            ("offer:o2:accepted", "o2", {"n": 5}),
            ("offer:o2:accepted", "o2", {"n": 6}),
        ])
    rows = await ledger.all("SELECT id, at, payload FROM events ORDER BY seq")
    assert [(r["id"], r["at"], json.loads(r["payload"])) for r in rows] == [
        ("offer:o1:accepted", 1.0, {"n": 1}),
        ("offer:o2:accepted", 2.0, {"n": 5}),
    ]
    async with ledger.transaction() as tx:
        first = await tx.event("ping", market_id=None, actor=None, subject=None, payload={})
        second = await tx.event("ping", market_id=None, actor=None, subject=None, payload={})
    assert first != second
    assert await scalar(ledger, "SELECT COUNT(*) FROM events WHERE type = 'ping'") == 2


# -- invariants held by the schema -----------------------------------------------------------


async def test_a_worker_holds_at_most_one_pending_offer(ledger: Ledger) -> None:
    """A second pending offer for one worker is refused; once the first closes, one may follow."""
    await seed(ledger)
    await add_offer(ledger, "o1", "w1", "j1", "pending")
    await add_offer(ledger, "o2", "w2", "j1", "pending")
    with pytest.raises(
        LedgerConflict,
        match=r"UNIQUE constraint failed: offers\.worker_id$|\"one_pending_offer_per_worker\"",
    ):
        await add_offer(ledger, "o3", "w1", "j2", "pending")
    async with ledger.transaction() as tx:
        await tx.execute("UPDATE offers SET state = 'declined' WHERE id = 'o1'")
    await add_offer(ledger, "o3", "w1", "j2", "pending")
    assert await scalar(ledger, "SELECT COUNT(*) FROM offers WHERE state = 'pending'") == 2


@pytest.mark.parametrize("first_state", ["pending", "declined", "expired", "accepted"])
async def test_a_pair_is_offered_at_most_once(ledger: Ledger, first_state: str) -> None:
    """The same (worker, job) pair cannot be offered twice, whatever became of the first."""
    await seed(ledger)
    await add_offer(ledger, "o1", "w1", "j1", first_state)
    with pytest.raises(
        LedgerConflict,
        match=r"UNIQUE constraint failed: offers\.worker_id, offers\.job_id|\"offer_pair\"",
    ):
        await add_offer(ledger, "o2", "w1", "j1", "withdrawn")
    assert await scalar(ledger, "SELECT COUNT(*) FROM offers") == 1


@pytest.mark.parametrize(
    ("accepted", "pending", "allowed"),
    [
        (0, 0, True),
        (2, 0, True),
        (1, 1, True),
        (0, 2, True),
        (2, 1, False),
        (1, 2, False),
        (3, 0, False),
        (0, 3, False),
        (-1, 1, False),
        (1, -1, False),
    ],
)
async def test_slots_never_exceed_headcount(
    ledger: Ledger, accepted: int, pending: int, allowed: bool
) -> None:
    """On a job of headcount 2, accepted + pending above 2 (or either below 0) is refused."""
    await seed(ledger)

    async def set_slots() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET accepted = ?, pending = ? WHERE id = 'j1'", (accepted, pending)
            )

    if allowed:
        await set_slots()
        expected = (accepted, pending)
    else:
        with pytest.raises(LedgerConflict, match=CHECK_FAILED):
            await set_slots()
        expected = (0, 0)
    row = await ledger.one("SELECT accepted, pending FROM jobs WHERE id = 'j1'")
    assert row is not None
    assert (row["accepted"], row["pending"]) == expected


@pytest.mark.parametrize(("headcount", "allowed"), [(0, False), (1, True), (50, True), (51, False)])
async def test_headcount_is_between_1_and_50(ledger: Ledger, headcount: int, allowed: bool) -> None:
    """A job's headcount outside 1..50 is refused by the schema."""
    await seed(ledger)

    async def insert() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(JOB_SQL, ("j3", headcount))

    if allowed:
        await insert()
    else:
        with pytest.raises(LedgerConflict, match=CHECK_FAILED):
            await insert()
    count = await scalar(ledger, "SELECT COUNT(*) FROM jobs WHERE id = 'j3'")
    assert count == (1 if allowed else 0)


# -- concurrency -----------------------------------------------------------------------------


async def test_concurrent_transactions_number_without_gaps_or_duplicates(ledger: Ledger) -> None:
    """50 concurrent transactions each messaging one recipient (half through message, half
    through message_many) end with seqs exactly 1..50, each stored with its own body."""
    recipient = "manager:shiling"

    async def one(i: int) -> tuple[int, int]:
        async with ledger.transaction() as tx:
            # Yield inside the transaction so the others pile up on the lock mid-way.
            await asyncio.sleep(0)
            if i % 2:
                await tx.message_many([(recipient, {"i": i})])
            else:
                await tx.message(recipient, {"i": i})
        return i, tx.outbox[0].seq

    given = dict(await asyncio.gather(*(one(i) for i in range(50))))
    assert sorted(given.values()) == list(range(1, 51))
    assert await ledger.last_seq(recipient) == 50
    stored = await ledger.messages_after(recipient, 0)
    assert seqs(stored) == list(range(1, 51))
    assert stored is not None
    assert {m["i"]: m["seq"] for m in stored} == given


async def test_a_committed_write_is_seen_by_the_next_read_even_under_overlapping_reads(
    ledger: Ledger,
) -> None:
    """Reads share one connection; if their statements overlapped, the connection's read
    transaction would never end and a read would see a snapshot from before a commit it
    follows (a session just opened would answer 401). Busy readers run throughout; every
    row written must be visible to the read that comes right after its commit."""
    await seed(ledger)
    stop = asyncio.Event()

    async def busy_reader() -> None:
        while not stop.is_set():
            await ledger.one("SELECT COUNT(*) FROM workers")
            await ledger.all("SELECT id FROM jobs")

    readers = [asyncio.create_task(busy_reader()) for _ in range(8)]
    missed = 0
    try:
        for i in range(200):
            async with ledger.transaction() as tx:
                await tx.execute(
                    "INSERT INTO workers (id, created_at, updated_at) VALUES (?, 1, 1)",
                    (f"fresh{i}",),
                )
            if await ledger.one("SELECT 1 FROM workers WHERE id = ?", (f"fresh{i}",)) is None:
                missed += 1
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert missed == 0, f"{missed} of 200 fresh rows were invisible to the next read"


async def test_migration_3_keeps_the_reports_filed_before_it(tmp_path: Path) -> None:
    """A ledger at version 2 with a report on file moves to 3 with the report intact, and
    then takes the new reason."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    conn.execute("INSERT INTO employers (id, created_at, updated_at) VALUES ('e1', 1, 1)")
    conn.execute("INSERT INTO workers (id, created_at, updated_at) VALUES ('w1', 1, 1)")
    conn.execute(JOB_SQL, ("j1", 2))
    conn.execute("INSERT INTO reports (id, job_id, worker_id, employer_id, market_id, reason,"
                 " note, at, state) VALUES ('rp1', 'j1', 'w1', 'e1', 'shiling', 'fake',"
                 " '没有这个厂', 5, 'open')")
    conn.commit()
    conn.close()

    ledger = await Ledger.open(path)
    try:
        assert await versions(ledger) == list(range(1, len(MIGRATIONS) + 1))
        kept = await ledger.one("SELECT * FROM reports WHERE id = 'rp1'")
        assert kept is not None and (kept["reason"], kept["note"]) == ("fake", "没有这个厂")
        async with ledger.transaction() as tx:
            await tx.execute("INSERT INTO workers (id, created_at, updated_at)"
                             " VALUES ('w2', 1, 1)")
            await tx.execute(REPORT_SQL, ("rp2", "w2", "no_show"))
        with pytest.raises(LedgerConflict):
            async with ledger.transaction() as tx:
                await tx.execute(REPORT_SQL, ("rp3", "w1", "rude"))
        assert [r["id"] for r in await ledger.all("SELECT id FROM reports ORDER BY id")] == [
            "rp1", "rp2"]
    finally:
        await ledger.aclose()


async def test_lease_tokens_never_repeat_and_survive_reopening(tmp_path: Path) -> None:
    """Each lease number is new for its market, numbering is per market, and it carries on
    after the ledger is closed and opened again (it is what outlives a lost Redis)."""
    path = tmp_path / "tokens.sqlite3"
    first = await Ledger.open(path)
    try:
        got = [await lease_tokens.next_token(first, "shiling") for _ in range(3)]
        assert got == [1, 2, 3]
        assert await lease_tokens.next_token(first, "huashan") == 1
    finally:
        await first.aclose()
    again = await Ledger.open(path)
    try:
        assert await lease_tokens.last_token(again, "shiling") == 3
        assert await lease_tokens.next_token(again, "shiling") == 4
    finally:
        await again.aclose()


async def test_recoveries_are_counted_from_any_process(ledger: Ledger, tmp_path: Path) -> None:
    """Counts from the event loop and from a thread without one (serve's supervisor) add up;
    kinds never counted read 0; the readiness probe commits without counting anything."""
    where: Path | str = tmp_path / "ledger.sqlite3"
    if isinstance(ledger, PostgresLedger):
        where = ledger.url
    else:
        assert isinstance(ledger, SqliteLedger)
    await recoveries.count(ledger, Recovery.REBUILD)
    await asyncio.to_thread(recoveries.count_now, where, Recovery.REBUILD)
    await asyncio.to_thread(recoveries.count_now, where, Recovery.REDIS_RESTART)
    await recoveries.ledger_commits(ledger)
    counts = await recoveries.counts(ledger)
    assert counts[Recovery.REBUILD] == 2
    assert counts[Recovery.REDIS_RESTART] == 1
    assert counts[Recovery.SOLVER_RESTART] == 0
    assert set(counts) == set(Recovery)


async def test_reads_inside_many_transactions_never_wait_on_the_transactions(
    ledger: Ledger,
) -> None:
    """Services read through the ledger while holding a transaction. With three times as many
    such transactions at once as a PostgreSQL pool has connections, all still finish (one
    shared pool deadlocked here: a thousand concurrent claims hung the server)."""
    from gigmarket.store.postgres import POOL_MAX

    async def one(i: int) -> None:
        async with ledger.transaction() as tx:
            await tx.message(f"worker:w{i % 5}", {"i": i})
            await asyncio.sleep(0)
            assert await ledger.one("SELECT 1") is not None

    # A guard against hanging the suite, not a measurement: the work takes well under a second.
    async with asyncio.timeout(120):
        await asyncio.gather(*(one(i) for i in range(3 * POOL_MAX)))
    assert sum([await ledger.last_seq(f"worker:w{k}") for k in range(5)]) == 3 * POOL_MAX
