"""Correct under concurrent writers, on a real PostgreSQL (issue 11 point 2).

SQLite has one writer at a time, so these hold there by construction; on PostgreSQL they hold
because of how the ledger writes. Each "process" here is its own ``Ledger`` with its own
connection pool on one database, as web processes and dispatchers on several hosts would be.
The numbers follow the issue's measurements: 4 concurrent transactions, a reader paging 360
rows under writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from gigmarket.core.errors import ConflictError
from gigmarket.store import exchange
from gigmarket.store.ledger import Ledger, LedgerConflict
from gigmarket.web.errors import status_of
from tests.store.conftest import postgres_database

WRITERS = 4

JOB_SQL = (
    "INSERT INTO jobs (id, employer_id, market_id, title, skills, headcount, wage_fen, wage_unit,"
    " start_at, duration_hours, lat, lon, address, state, created_at, updated_at)"
    " VALUES (?, 'e1', 'shiling', '仓库搬货', '[\"loading\"]', 2, 30000, 'day', 100, 8,"
    " 23.46, 113.16, '狮岭镇', 'open', 1, 1)"
)

OFFER_SQL = (
    "INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at, expires_at,"
    " state, distance_km, travel_minutes, terms)"
    " VALUES (?, ?, 'w1', 'shiling', 'r1', 1, 46, 'pending', 1.2, 4.8, '{}')"
)


@pytest_asyncio.fixture
async def processes(request: pytest.FixtureRequest,
                    tmp_path: Path) -> AsyncIterator[list[Ledger]]:
    """:data:`WRITERS` ledgers on one fresh PostgreSQL database, seeded with an employer, a
    worker and :data:`WRITERS` jobs."""
    url = postgres_database(request, tmp_path)
    opened = [await Ledger.open(url) for _ in range(WRITERS)]
    try:
        async with opened[0].transaction() as tx:
            await tx.execute("INSERT INTO employers (id, created_at, updated_at)"
                             " VALUES ('e1', 1, 1)")
            await tx.execute("INSERT INTO workers (id, created_at, updated_at)"
                             " VALUES ('w1', 1, 1)")
            await tx.executemany(JOB_SQL, [(f"j{i}",) for i in range(WRITERS)])
        yield opened
    finally:
        for ledger in opened:
            await ledger.aclose()


async def test_concurrent_writers_never_share_a_seq(processes: list[Ledger]) -> None:
    """4 processes message one recipient at once, 50 transactions each, by ``message`` and by
    ``message_many``: the seqs are exactly 1..N, each stored once with its own body. (Numbered
    in Python, 3 of 4 concurrent transactions failed with duplicate keys.)"""
    recipient = "manager:shiling"

    async def writer(w: int, ledger: Ledger) -> list[tuple[str, int]]:
        given: list[tuple[str, int]] = []
        for i in range(50):
            async with ledger.transaction() as tx:
                await asyncio.sleep(0)  # let the other processes into their transactions
                if i % 2:
                    await tx.message_many([(recipient, {"m": f"{w}.{i}a"}),
                                           ("worker:w1", {"m": f"{w}.{i}"}),
                                           (recipient, {"m": f"{w}.{i}b"})])
                else:
                    await tx.message(recipient, {"m": f"{w}.{i}"})
            # The seqs given, once committed (PostgreSQL stores a transaction's messages at
            # its commit).
            given += [(o.body["m"], o.seq) for o in tx.outbox if o.recipient == recipient]
        return given

    results = await asyncio.gather(*(writer(w, p) for w, p in enumerate(processes)))
    given = dict(pair for result in results for pair in result)
    total = WRITERS * (25 + 25 * 2)
    assert sorted(given.values()) == list(range(1, total + 1))
    stored = await processes[0].messages_after(recipient, 0, limit=total)
    assert stored is not None
    assert {m["m"]: m["seq"] for m in stored} == given
    assert await processes[0].last_seq("worker:w1") == WRITERS * 25


async def _read_decide_write(ledger: Ledger, gate: Callable[[], Awaitable[None]],
                             lock: bool) -> None:
    """Read a job's accepted count, decide, write the decision: ``_move``'s shape."""
    async with ledger.transaction() as tx:
        if lock:
            await tx.lock("market:shiling")
        row = await tx.one("SELECT accepted FROM jobs WHERE id = 'j0'")
        assert row is not None
        seen = int(row["accepted"])
        await gate()
        await tx.execute("UPDATE jobs SET accepted = ? WHERE id = 'j0'", (seen + 1,))


async def test_without_the_lock_read_decide_write_loses_updates(
    processes: list[Ledger],
) -> None:
    """The control: 4 transactions that each read before any writes (a barrier holds them)
    lose 3 of their 4 updates at READ COMMITTED. This is what the lock below prevents."""
    barrier = asyncio.Barrier(WRITERS)
    await asyncio.gather(*(_read_decide_write(p, barrier.wait, lock=False) for p in processes))
    row = await processes[0].one("SELECT accepted FROM jobs WHERE id = 'j0'")
    assert row is not None and row["accepted"] == 1


async def test_the_lock_serialises_read_decide_write_across_processes(
    processes: list[Ledger],
) -> None:
    """With ``Tx.lock`` first, 4 processes x 10 read-decide-write transactions all count."""

    async def yield_once() -> None:
        await asyncio.sleep(0)

    async def writer(ledger: Ledger) -> None:
        for _ in range(10):
            await _read_decide_write(ledger, yield_once, lock=True)

    # headcount 2 would refuse accepted > 2: count in a fresh job without that ceiling
    async with processes[0].transaction() as tx:
        await tx.execute("UPDATE jobs SET headcount = 50 WHERE id = 'j0'")
    await asyncio.gather(*(writer(p) for p in processes))
    row = await processes[0].one("SELECT accepted FROM jobs WHERE id = 'j0'")
    assert row is not None and row["accepted"] == WRITERS * 10


async def test_a_lock_is_per_key_and_ends_with_the_transaction(processes: list[Ledger]) -> None:
    """Another key does not wait; the same key waits until the holder commits."""
    a, b = processes[0], processes[1]
    held = asyncio.Event()
    release = asyncio.Event()
    order: list[str] = []

    async def holder() -> None:
        async with a.transaction() as tx:
            await tx.lock("market:shiling")
            held.set()
            await release.wait()
            order.append("holder commits")

    async def same_key() -> None:
        async with b.transaction() as tx:
            await tx.lock("market:shiling")
            order.append("same key got it")

    task = asyncio.create_task(holder())
    await held.wait()
    async with b.transaction() as tx:
        await tx.lock("market:huashan")  # would hang here if locks were not per key
    waiting = asyncio.create_task(same_key())
    while not await a.one("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
        await asyncio.sleep(0.01)  # until the second asker is seen waiting
    assert order == []
    release.set()
    await asyncio.gather(task, waiting)
    assert order == ["holder commits", "same key got it"]


async def test_racing_inserts_end_in_one_commit_and_conflicts_not_driver_errors(
    processes: list[Ledger],
) -> None:
    """4 processes offer the one worker a pending offer at once: exactly one commits, the others
    get LedgerConflict (a ConflictError, so 409) naming the schema's rule."""

    async def offer(i: int, ledger: Ledger) -> str:
        try:
            async with ledger.transaction() as tx:
                await tx.execute(OFFER_SQL, (f"o{i}", f"j{i}"))
                await asyncio.sleep(0)
        except LedgerConflict as exc:
            return exc.constraint or "?"
        return "committed"

    outcomes = await asyncio.gather(*(offer(i, p) for i, p in enumerate(processes)))
    assert sorted(outcomes) == ["committed"] + ["one_pending_offer_per_worker"] * 3
    conflict = LedgerConflict("duplicate key", "offer_pair")
    assert isinstance(conflict, ConflictError)
    assert status_of(conflict) == 409


async def test_a_reader_paging_the_feed_under_writers_misses_nothing(
    processes: list[Ledger],
) -> None:
    """A reader pages the exchange job feed 7 at a time while 4 processes write 90 jobs each:
    it sees all 360 changes (and the 4 seeded), each once, in cursor order with no gap. (By an
    identity column a reader missed 95 and 104 of 360; the counter row's lock makes cursor
    order commit order.)"""
    reader, writers = processes[0], processes
    done = asyncio.Event()

    async def writer(w: int, ledger: Ledger) -> None:
        for i in range(90):
            async with ledger.transaction() as tx:
                await tx.execute(JOB_SQL, (f"j{w}-{i}",))
                await asyncio.sleep(0)

    async def page_all() -> list[int]:
        seen: list[int] = []
        while True:
            finished = done.is_set()  # read before the page: then the last page is complete
            rows = await exchange.job_changes(reader, seen[-1] if seen else 0, 7)
            seen += [int(r["cursor"]) for r in rows]
            if not rows and finished:
                return seen
            await asyncio.sleep(0)

    async def write_all() -> None:
        await asyncio.gather(*(writer(w, p) for w, p in enumerate(writers)))
        done.set()

    seen, _ = await asyncio.gather(page_all(), write_all())
    assert seen == list(range(1, WRITERS + WRITERS * 90 + 1))
    jobs = {r["job_id"] for r in await exchange.job_changes(reader, 0, 1000)}
    assert len(jobs) == WRITERS + WRITERS * 90


async def test_a_reader_replaying_messages_under_writers_misses_nothing(
    processes: list[Ledger],
) -> None:
    """A client resuming from its last seq, again and again, while 4 processes message it
    (90 each) receives every message exactly once, in order."""
    recipient = "worker:w1"
    done = asyncio.Event()

    async def writer(ledger: Ledger) -> None:
        for _ in range(90):
            async with ledger.transaction() as tx:
                await tx.message(recipient, {"type": "n"})
                await asyncio.sleep(0)

    async def follow() -> list[int]:
        got: list[int] = []
        while True:
            finished = done.is_set()
            page = await processes[0].messages_after(recipient, got[-1] if got else 0, 1000)
            assert page is not None
            got += [int(m["seq"]) for m in page]
            if not page and finished:
                return got
            await asyncio.sleep(0)

    async def write_all() -> None:
        await asyncio.gather(*(writer(p) for p in processes))
        done.set()

    got, _ = await asyncio.gather(follow(), write_all())
    assert got == list(range(1, WRITERS * 90 + 1))



async def test_messages_in_opposite_orders_both_commit(processes: list[Ledger]) -> None:
    """Two transactions message two recipients in opposite orders, each waiting for the other
    between its two messages (an accept tells the worker then the employer, a call-off the
    employer then the worker): both commit, the messages stored at each commit in recipient
    order, so neither holds a recipient while the other waits for it."""
    a_holds, b_holds = asyncio.Event(), asyncio.Event()

    async def first(ledger: Ledger) -> None:
        async with ledger.transaction() as tx:
            await tx.message("worker:r1", {"by": "first"})
            a_holds.set()
            await b_holds.wait()
            await tx.message("worker:r2", {"by": "first"})

    async def second(ledger: Ledger) -> None:
        async with ledger.transaction() as tx:
            await a_holds.wait()
            await tx.message("worker:r2", {"by": "second"})
            b_holds.set()
            await tx.message("worker:r1", {"by": "second"})

    await asyncio.wait_for(asyncio.gather(first(processes[0]), second(processes[1])), 30)
    assert await processes[2].last_seq("worker:r1") == 2
    assert await processes[2].last_seq("worker:r2") == 2


async def test_a_deadlock_ends_in_one_commit_and_one_conflict(processes: list[Ledger]) -> None:
    """Two transactions update two rows in opposite orders: PostgreSQL rolls one back (a
    deadlock), which the ledger reports as LedgerConflict (409, retry), not a 500; the other
    commits."""
    bump = ("INSERT INTO recipients (recipient, last_seq) VALUES (?, 1) ON CONFLICT (recipient)"
            " DO UPDATE SET last_seq = recipients.last_seq + 1")
    async with processes[0].transaction() as tx:
        await tx.execute(bump, ("worker:r1",))
        await tx.execute(bump, ("worker:r2",))
    a_holds, b_holds = asyncio.Event(), asyncio.Event()

    async def first(ledger: Ledger) -> str:
        try:
            async with ledger.transaction() as tx:
                await tx.execute(bump, ("worker:r1",))
                a_holds.set()
                await b_holds.wait()
                await tx.execute(bump, ("worker:r2",))
        except LedgerConflict:
            return "conflict"
        return "committed"

    async def second(ledger: Ledger) -> str:
        try:
            async with ledger.transaction() as tx:
                await a_holds.wait()
                await tx.execute(bump, ("worker:r2",))
                b_holds.set()
                await tx.execute(bump, ("worker:r1",))
        except LedgerConflict:
            return "conflict"
        return "committed"

    outcomes = await asyncio.gather(first(processes[0]), second(processes[1]))
    assert sorted(outcomes) == ["committed", "conflict"]
    assert await processes[2].last_seq("worker:r1") == 2
    assert await processes[2].last_seq("worker:r2") == 2
