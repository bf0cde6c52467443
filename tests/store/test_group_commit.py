"""Group commit on the SQLite ledger (issue 13): concurrent transactions share one COMMIT, and
none is acknowledged before the COMMIT that holds it has returned.

A real SQLite file throughout. The writer's statements are traced to count COMMITs, and what a
caller was told is checked against a plain ``sqlite3`` connection of its own, as another process
would see the file. A group is made deterministic by holding the writer in a first transaction
until the others have queued behind it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from gigmarket.store.ledger import GROUP_MAX, LedgerConflict, LedgerUnavailable, SqliteLedger, Tx

ROOT = Path(__file__).resolve().parents[2]

EMPLOYER_SQL = "INSERT INTO employers (id, created_at, updated_at) VALUES (?, 1, 1)"

OFFER_SQL = (
    "INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at, expires_at,"
    " state, distance_km, travel_minutes, terms)"
    " VALUES (?, 'no-such-job', 'no-such-worker', 'shiling', 'r1', 1, 46, 'pending', 1.2, 4.8,"
    " '{}')"
)


@pytest_asyncio.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[SqliteLedger]:
    opened = await SqliteLedger.connect(tmp_path / "ledger.sqlite3")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest_asyncio.fixture
async def commits(ledger: SqliteLedger) -> list[str]:
    """Every COMMIT the ledger's writer connection runs, as it runs it."""
    seen: list[str] = []
    ledger._writer.set_trace_callback(
        lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def on_disk(tmp_path: Path, sql: str, params: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    """What another process reading the file sees now."""
    db = sqlite3.connect(tmp_path / "ledger.sqlite3")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def employers_on_disk(tmp_path: Path) -> set[str]:
    return {str(r[0]) for r in on_disk(tmp_path, "SELECT id FROM employers")}


Body = Callable[[Tx], Awaitable[None]]


async def one_group(ledger: SqliteLedger, bodies: list[Body]) -> list[BaseException | None]:
    """Run ``bodies`` as one group: the first holds the writer until all the others have
    queued behind it. What each raised (``None``: acknowledged)."""
    queued = asyncio.Event()

    async def first(tx: Tx) -> None:
        await bodies[0](tx)
        await queued.wait()

    async def run(body: Body) -> None:
        async with ledger.transaction() as tx:
            await body(tx)

    tasks = [asyncio.create_task(run(first))]
    await asyncio.sleep(0.01)
    tasks += [asyncio.create_task(run(b)) for b in bodies[1:]]
    while ledger._queued < len(bodies) - 1:
        await asyncio.sleep(0)
    queued.set()
    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        return list(await asyncio.gather(*tasks, return_exceptions=True))


def employer(eid: str) -> Body:
    async def body(tx: Tx) -> None:
        await tx.execute(EMPLOYER_SQL, (eid,))
    return body


async def test_concurrent_transactions_share_commits_and_each_is_on_disk_when_acknowledged(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """200 transactions from 32 concurrent clients: far fewer COMMITs than transactions, and
    every one is on disk, seen by another connection, the moment its ``async with`` returns."""
    missing: list[str] = []

    async def client(c: int) -> None:
        for i in range(200 // 32 + 1):
            eid = f"e{c}-{i}"
            async with ledger.transaction() as tx:
                await tx.execute(EMPLOYER_SQL, (eid,))
                await tx.message("manager:shiling", {"eid": eid})
            if eid not in {str(r[0]) for r in on_disk(
                    tmp_path, "SELECT id FROM employers WHERE id = ?", (eid,))}:
                missing.append(eid)
            if await ledger.one("SELECT 1 FROM employers WHERE id = ?", (eid,)) is None:
                missing.append(f"{eid} (reader)")

    async with asyncio.timeout(60):
        await asyncio.gather(*(client(c) for c in range(32)))
    total = 32 * (200 // 32 + 1)
    assert missing == []
    assert len(employers_on_disk(tmp_path)) == total
    assert await ledger.last_seq("manager:shiling") == total
    assert len(commits) < total / 2, f"{len(commits)} COMMITs for {total} transactions"


async def test_a_lone_transaction_commits_alone(ledger: SqliteLedger, tmp_path: Path) -> None:
    """With nothing queued behind it, a transaction commits as it ends: one COMMIT each,
    no savepoint, and no waiting for company."""
    statements: list[str] = []
    ledger._writer.set_trace_callback(statements.append)
    for i in range(3):
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, (f"e{i}",))
        assert employers_on_disk(tmp_path) == {f"e{k}" for k in range(i + 1)}
    assert [s.split()[0] for s in statements] == ["BEGIN", "INSERT", "COMMIT"] * 3


async def test_a_group_commits_once_and_later_members_see_earlier_writes(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """Members run one after another on the writer, each seeing what those before it wrote
    (a row, a recipient's seq), and the whole group is one COMMIT."""
    seen: list[object] = []

    def member(i: int) -> Body:
        async def body(tx: Tx) -> None:
            row = await tx.one("SELECT COUNT(*) FROM employers")
            assert row is not None
            seen.append(row[0])
            await tx.execute(EMPLOYER_SQL, (f"e{i}",))
            await tx.message("manager:shiling", {"i": i})
            seen.append(tx.outbox[-1].seq)
        return body

    commits.clear()
    outcomes = await one_group(ledger, [member(i) for i in range(5)])
    assert outcomes == [None] * 5
    assert commits == ["COMMIT"]
    assert seen == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert employers_on_disk(tmp_path) == {f"e{i}" for i in range(5)}


async def test_a_failing_member_is_undone_alone(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """In a group of five, the third breaks a unique key after writing a row of its own and a
    message: it raises LedgerConflict as before and leaves nothing; the others commit, in the
    same COMMIT, with seqs that follow on without a hole."""
    async def clash(tx: Tx) -> None:
        await tx.execute(EMPLOYER_SQL, ("mine",))
        await tx.message("manager:shiling", {"n": "lost"})
        await tx.execute(EMPLOYER_SQL, ("e0",))

    async def plain_failure(tx: Tx) -> None:
        await tx.execute(EMPLOYER_SQL, ("also-mine",))
        raise RuntimeError("boom")

    async def talk(tx: Tx) -> None:
        await tx.message("manager:shiling", {"n": "kept"})

    commits.clear()
    outcomes = await one_group(ledger, [employer("e0"), talk, clash, plain_failure, talk,
                                        employer("e4")])
    assert isinstance(outcomes[2], LedgerConflict)
    assert isinstance(outcomes[3], RuntimeError)
    assert [o for i, o in enumerate(outcomes) if i not in (2, 3)] == [None] * 4
    assert commits == ["COMMIT"]
    assert employers_on_disk(tmp_path) == {"e0", "e4"}
    assert on_disk(tmp_path, "SELECT seq, body FROM messages ORDER BY seq") == [
        (1, '{"n":"kept","seq":1}'), (2, '{"n":"kept","seq":2}')]


async def test_a_failed_commit_fails_every_member_and_frees_the_writer(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """When the group's COMMIT fails (a deferred foreign key: a stand-in for a full disk at
    commit), every member raises its error, none of their writes is kept, and the next
    transaction commits."""
    async def broken_at_commit(tx: Tx) -> None:
        await tx.execute("PRAGMA defer_foreign_keys = ON")
        await tx.execute(OFFER_SQL, ("o1",))

    outcomes = await one_group(ledger, [employer("e0"), broken_at_commit, employer("e2"),
                                        employer("e3")])
    assert all(isinstance(o, LedgerConflict) and "FOREIGN KEY" in str(o) for o in outcomes), (
        outcomes)
    assert employers_on_disk(tmp_path) == set()
    assert not ledger._writer.in_transaction
    async with ledger.transaction() as tx:
        await tx.execute(EMPLOYER_SQL, ("after",))
    assert employers_on_disk(tmp_path) == {"after"}


async def test_an_error_that_ends_the_whole_transaction_fails_the_members_before_it(
    ledger: SqliteLedger, tmp_path: Path
) -> None:
    """A full disk makes SQLite roll back the whole transaction, not only the statement: the
    members before the failing one lost their writes, so they are told (503-style
    LedgerUnavailable), never acknowledged; the writer is left clean."""
    async def fill_the_disk(tx: Tx) -> None:
        await tx.execute("PRAGMA max_page_count = 2")
        for i in range(100):
            await tx.execute(EMPLOYER_SQL, (f"big{i}" + "x" * 3000,))

    outcomes = await one_group(ledger, [employer("e0"), employer("e1"), fill_the_disk,
                                        employer("e3")])
    assert isinstance(outcomes[0], LedgerUnavailable)
    assert isinstance(outcomes[1], LedgerUnavailable)
    assert isinstance(outcomes[2], sqlite3.OperationalError)
    assert "full" in str(outcomes[2])
    async with ledger.transaction() as tx:
        await tx.execute("PRAGMA max_page_count = 1073741823")
    assert outcomes[3] is None  # it came after, in a group of its own
    assert employers_on_disk(tmp_path) == {"e3"}


async def test_a_cancel_inside_a_members_body_undoes_that_member_only(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """A member cancelled while its body awaits (a SIGTERM, a client gone) is rolled back to
    its savepoint and raises CancelledError; the others in its group commit."""
    async def cancelled_mid_way(tx: Tx) -> None:
        await tx.execute(EMPLOYER_SQL, ("cancelled",))
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_soon(task.cancel)
        await asyncio.sleep(1)

    commits.clear()
    outcomes = await one_group(ledger, [employer("e0"), cancelled_mid_way, employer("e2")])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert commits == ["COMMIT"]
    assert employers_on_disk(tmp_path) == {"e0", "e2"}


async def test_a_cancel_while_the_group_commits_keeps_the_commit_and_lands_after_it(
    ledger: SqliteLedger, tmp_path: Path
) -> None:
    """A member cancelled after its body, while it waits for the group's COMMIT, is committed
    and told so: its ``async with`` returns, and the cancel lands at its next await (as for a
    transaction's own COMMIT, ``test_ledger``)."""
    reached: list[str] = []
    queued = asyncio.Event()

    async def holder() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, ("e0",))
            await queued.wait()

    async def member() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, ("cancelled-at-commit",))
        reached.append("committed")
        await asyncio.sleep(0)
        reached.append("after the next await")

    async def last() -> None:
        async with ledger.transaction() as tx:
            # The member before has ended its turn and waits for this one to COMMIT.
            cancelled.cancel()
            await tx.execute(EMPLOYER_SQL, ("e2",))
            await asyncio.sleep(0.05)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    cancelled = asyncio.create_task(member())
    third = asyncio.create_task(last())
    while ledger._queued < 2:
        await asyncio.sleep(0)
    queued.set()
    async with asyncio.timeout(30):
        await first
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await third
    assert reached == ["committed"]
    assert employers_on_disk(tmp_path) == {"e0", "cancelled-at-commit", "e2"}


async def test_a_group_left_open_for_a_cancelled_arrival_still_commits(
    ledger: SqliteLedger, tmp_path: Path
) -> None:
    """The member that ends its turn while another transaction is queued leaves the COMMIT to
    it; when that one is cancelled before its turn comes, the group is committed all the same
    and its member acknowledged (it used to wait forever)."""
    started = asyncio.Event()
    go = asyncio.Event()
    waiter: list[asyncio.Task[None]] = []

    async def first() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, ("e0",))
            started.set()
            await go.wait()
            # Lands after this member has handed the writer on, before the queued one runs.
            asyncio.get_running_loop().call_soon(waiter[0].cancel)

    async def queued() -> None:
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, ("never",))

    holder = asyncio.create_task(first())
    await started.wait()
    waiter.append(asyncio.create_task(queued()))
    while ledger._queued < 1:
        await asyncio.sleep(0)
    go.set()
    done, _ = await asyncio.wait({holder}, timeout=10)
    if not done:
        # The bug: a COMMIT nobody runs. Let the member go, so that the test ends.
        assert ledger._group is not None
        ledger._group.outcome.set_result(RuntimeError("never committed"))
        pytest.fail("the group was left open with nobody to commit it")
    with pytest.raises(asyncio.CancelledError):
        await waiter[0]
    assert employers_on_disk(tmp_path) == {"e0"}
    async with ledger.transaction() as tx:
        await tx.execute(EMPLOYER_SQL, ("after",))
    assert employers_on_disk(tmp_path) == {"e0", "after"}


async def test_a_group_is_closed_at_its_cap(
    ledger: SqliteLedger, commits: list[str], tmp_path: Path
) -> None:
    """However many are queued, a group holds at most GROUP_MAX members: the writer's lock is
    never held for an unbounded queue."""
    commits.clear()
    n = GROUP_MAX + 10
    outcomes = await one_group(ledger, [employer(f"e{i}") for i in range(n)])
    assert outcomes == [None] * n
    assert len(commits) == 2
    assert len(employers_on_disk(tmp_path)) == n


#: A process posting as fast as it can from 32 clients, printing each acknowledgement, which
#: kills itself (SIGKILL, no clean-up of any kind) right after printing the ``ACKS``-th.
CRASHING_POSTER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from pathlib import Path
    from gigmarket.store.ledger import SqliteLedger

    ACKS = int(sys.argv[2])

    async def main():
        ledger = await SqliteLedger.connect(Path(sys.argv[1]))
        acked = 0

        async def client(c):
            nonlocal acked
            for i in range(10_000):
                async with ledger.transaction() as tx:
                    await tx.execute("INSERT INTO employers (id, created_at, updated_at)"
                                     " VALUES (?, 1, 1)", (f"e{c}-{i}",))
                    await tx.message(f"employer:e{c}", {"i": i})
                print(f"e{c}-{i}", flush=True)
                acked += 1
                if acked == ACKS:
                    os.kill(os.getpid(), signal.SIGKILL)

        await asyncio.gather(*(client(c) for c in range(32)))

    asyncio.run(main())
""")


def test_kill_9_right_after_an_ack_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """A process is SIGKILLed right after printing an acknowledgement, mid-stream of grouped
    commits: every change it acknowledged is in the file afterwards, with its message."""
    path = tmp_path / "ledger.sqlite3"
    proc = subprocess.run([sys.executable, "-c", CRASHING_POSTER, str(path), "500"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    acked = proc.stdout.split()
    assert len(acked) == 500
    db = sqlite3.connect(path)
    try:
        kept = {str(r[0]) for r in db.execute("SELECT id FROM employers")}
        seqs = dict(db.execute("SELECT recipient, last_seq FROM recipients").fetchall())
    finally:
        db.close()
    lost = [a for a in acked if a not in kept]
    assert lost == [], f"{len(lost)} acknowledged changes lost, e.g. {lost[:5]}"
    for a in acked:
        client, i = a.removeprefix("e").split("-")
        assert seqs[f"employer:e{client}"] >= int(i) + 1


async def test_another_writers_lock_is_waited_for_in_the_writers_thread(
    ledger: SqliteLedger, tmp_path: Path
) -> None:
    """The writer tries its lock on the loop without waiting; when another process holds it,
    the transaction queues for it in the writer's thread, the loop running meanwhile, and
    goes on once it is free. A free lock costs no hand-off at all."""
    begins: list[str] = []
    ledger._writer.set_trace_callback(
        lambda sql: begins.append(sql) if sql.startswith(("BEGIN", "PRAGMA busy")) else None)

    async def write(employer_id: str) -> None:
        async with ledger.transaction() as tx:
            await tx.execute(EMPLOYER_SQL, (employer_id,))

    await write("e-free")
    assert begins == ["BEGIN IMMEDIATE"]  # tried once, on the loop, and taken
    other = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        begins.clear()
        waiting = asyncio.create_task(write("e-waited"))
        # Had the wait blocked the loop, this sleep would end only when the lock's 15 s ran
        # out, and the transaction would have failed "locked" by then.
        await asyncio.sleep(0.2)
        assert not waiting.done()
        assert on_disk(tmp_path, "SELECT id FROM employers WHERE id = 'e-waited'") == []
        other.execute("COMMIT")
        await asyncio.wait_for(waiting, 10)
    finally:
        other.close()
    assert begins == ["BEGIN IMMEDIATE", "PRAGMA busy_timeout = 15000", "BEGIN IMMEDIATE",
                      "PRAGMA busy_timeout = 0"]
    assert on_disk(tmp_path, "SELECT id FROM employers WHERE id = 'e-waited'") == [("e-waited",)]
    await write("e-after")  # the writer is back to not waiting
    assert begins[-1] == "BEGIN IMMEDIATE"
