"""The durable ledger (台账): SQLite, WAL, ``synchronous=FULL``.

Every state change runs in one :meth:`Ledger.transaction`: the rows it changes, the event that
records it and the websocket messages it causes (each with its recipient's next ``seq``) commit
together or not at all. Only after the commit does anything reach Redis or a socket, so nothing
is acknowledged that a crash could take back.

Each process has one writer connection guarded by an ``asyncio.Lock`` (a connection cannot hold
two transactions) and one reader connection; WAL lets readers proceed while a write commits.
The writer's statements run on the event loop itself, and only what can wait runs in the
writer's own thread: ``COMMIT`` (its fsync is the whole point of the ledger), and a
``BEGIN IMMEDIATE`` that found another process holding the write lock (it is tried on the loop
first, without waiting). Inside a write transaction every page it needs is in memory or the
OS's cache and a statement takes microseconds, while a hand-off to a thread and back cost the
loop more than the statement (issue 13: 48 hand-offs per post through aiosqlite, a third of
the loop's CPU). A read outside a transaction runs whole in the reader's own thread,
statement, rows and close in one hand-off: a read may be a report's scan, which must not stop
the loop. Reads by key were tried on the loop, on a connection of their own: 15 % more posts a
second, but ~3 KiB more memory per held socket at 10k (issue 13), so a read is one hand-off.
Transactions that queue for the writer share one COMMIT (group commit, issue 13: see
:class:`SqliteLedger`), so the reader, like PostgreSQL's readers, sees a transaction's writes
only once its ``async with`` has returned: what a transaction decides on, it reads through
``tx``, which also sees the writes of the transactions before it in its group.
Reads take turns on the reader too: while any statement of a connection is open, its read
transaction (and so its snapshot) lives on, and reads that overlapped back to back would pin
an old snapshot indefinitely, so a row committed a moment ago would not be found.
Writers in other processes queue on SQLite's own lock (``BEGIN IMMEDIATE`` + ``busy_timeout``,
set only while the writer's thread waits: on the loop the writer never waits).

:class:`Ledger` and :class:`Tx` are the API the services use; :meth:`Ledger.open` picks the
backend from the ledger's address: a path or ``sqlite:///PATH`` opens :class:`SqliteLedger`
(here), ``postgresql://…`` opens :class:`gigmarket.store.postgres.PostgresLedger` (issue 11).
Both run the same statements (written for SQLite, translated once by
:mod:`gigmarket.store.dialect`) against the same schema, and both turn a broken constraint into
:class:`LedgerConflict`, which the web layer answers with 409 like any other conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gigmarket import codec
from gigmarket.core.errors import ConflictError
from gigmarket.store.dialect import statements
from gigmarket.store.schema import MIGRATIONS

#: What a query returns: ``row["col"]``, ``row[0]``, ``row.keys()`` and ``dict(row)`` work on
#: both backends (``asyncpg.Record`` on PostgreSQL behaves the same for these).
Row = sqlite3.Row


class LedgerConflict(ConflictError):
    """A write broke one of the schema's invariants (a unique key, a CHECK, a foreign key, the
    append-only audit log): someone else got there first, or the state moved under the caller.

    Raised by either backend in place of its driver's integrity error (``__cause__`` keeps the
    original), so the web layer answers 409 ``conflict``, never 500. ``constraint`` names the
    broken rule where the driver says it (PostgreSQL does; SQLite names the columns instead).
    """

    def __init__(self, detail: str, constraint: str | None = None) -> None:
        super().__init__("this conflicts with a change made at the same time; refresh and retry")
        self.detail = detail
        self.constraint = constraint

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class LedgerUnavailable(Exception):
    """The ledger cannot be reached now (PostgreSQL down or restarting, its connections used
    up). The web layer answers 503 ``unavailable``, as it does for a locked or full SQLite file;
    the client may retry. A transaction cut off during its COMMIT may or may not have
    committed, which is why every change carries a deterministic id or an idempotency key."""


def new_id(prefix: str) -> str:
    """A unique, URL-safe id with a readable prefix: ``j_3f9a…`` for a job."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


dumps = codec.dumps


@dataclass(slots=True)
class Outgoing:
    """A message committed to a recipient's stream, waiting to be published."""

    recipient: str
    seq: int
    body: dict[str, Any]
    #: ``body`` as stored: published as is, never encoded twice.
    text: str


@dataclass(kw_only=True)
class Tx:
    """One write transaction. Collects what must be published after it commits.

    The four statement methods are the backend's; everything else is written once on them.
    """

    now: float
    outbox: list[Outgoing] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Markets whose live pools this change affects: the caller asks them for a round.
    kicks: set[str] = field(default_factory=set)
    #: Work for after the commit and its publishing, once per key (e.g. rewriting the live
    #: records of an employer whose score this change moved).
    after_commit: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    #: ``(recipient, market)`` memberships made: published so that the socket's subscriptions
    #: follow (issue 11, per-market fan-out).
    joined: set[tuple[str, str]] = field(default_factory=set)
    #: Markets whose events this transaction wrote: its messages go to their channels.
    markets: set[str] = field(default_factory=set)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        raise NotImplementedError

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    async def lock(self, key: str) -> None:
        """Hold ``key`` (a market id, say) until this transaction ends: the other writers that
        ask for the same key wait. Call it first in a transaction that reads a row, decides, and
        then writes what it decided (``services/lifecycle.py`` ``_move``, an accept, a round's
        commit): SQLite's single writer serialises those already, so there it costs nothing;
        PostgreSQL takes a transaction-scoped advisory lock.
        """

    async def event(
        self,
        type_: str,
        *,
        market_id: str | None,
        actor: str | None,
        subject: str | None,
        payload: dict[str, Any],
        event_id: str | None = None,
    ) -> str:
        """Append an event. A deterministic ``event_id`` makes a replayed change a no-op."""
        eid = event_id or new_id("ev")
        if market_id:
            self.markets.add(market_id)
        await self.execute(
            "INSERT OR IGNORE INTO events (id, at, market_id, type, actor, subject, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (eid, self.now, market_id, type_, actor, subject, dumps(payload)),
        )
        self.events.append(
            {"id": eid, "at": self.now, "market_id": market_id, "type": type_,
             "actor": actor, "subject": subject, "payload": payload}
        )
        return eid

    async def message(self, recipient: str, body: Mapping[str, Any]) -> None:
        """Give ``body`` the recipient's next seq and store it for replay; the seq is in
        :attr:`outbox` once the message is stored (on SQLite at once, on PostgreSQL at the
        commit: see :class:`gigmarket.store.postgres.PostgresTx`).

        The seq comes from one upsert in the database, not from Python: its row lock (or
        SQLite's write lock) is held to the commit, so concurrent writers never share a seq.
        """
        row = await self.one(
            "INSERT INTO recipients (recipient, last_seq) VALUES (?, 1)"
            " ON CONFLICT (recipient) DO UPDATE SET last_seq = recipients.last_seq + 1"
            " RETURNING last_seq",
            (recipient,),
        )
        assert row is not None
        seq = int(row[0])
        full = {**body, "seq": seq}
        text = dumps(full)
        await self.execute(
            "INSERT INTO messages (recipient, seq, at, body) VALUES (?, ?, ?, ?)",
            (recipient, seq, self.now, text),
        )
        self.outbox.append(Outgoing(recipient, seq, full, text))

    async def message_many(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Many messages at once (a round's offers): as :meth:`message`, in a few statements."""
        raise NotImplementedError

    async def event_many(
        self, type_: str, market_id: str | None, actor: str | None,
        items: Sequence[tuple[str, str, dict[str, Any]]],
    ) -> None:
        """Many events of one type: ``(event_id, subject, payload)`` each."""
        if market_id and items:
            self.markets.add(market_id)
        await self.executemany(
            "INSERT OR IGNORE INTO events (id, at, market_id, type, actor, subject, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(eid, self.now, market_id, type_, actor, subject, dumps(payload))
             for eid, subject, payload in items],
        )


@dataclass(kw_only=True)
class SqliteTx(Tx):
    """A transaction on the process's one SQLite writer connection, its statements run on the
    loop (see the module's docstring): none of these methods gives the loop away."""

    conn: sqlite3.Connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return _fetch_one(self.conn, sql, params)

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return _fetch_all(self.conn, sql, params)

    async def message_many(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Many messages at once (a round's offers): as :meth:`message`, in a few statements.

        Safe to number in Python: we hold the write lock, so no one else moves a seq now.
        """
        last: dict[str, int] = {}
        recipients = sorted({r for r, _ in items})
        for i in range(0, len(recipients), 500):
            chunk = recipients[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in await self.all(
                f"SELECT recipient, last_seq FROM recipients WHERE recipient IN ({marks})",
                chunk,
            ):
                last[row["recipient"]] = int(row["last_seq"])
        rows: list[tuple[str, int, float, str]] = []
        for recipient, body in items:
            seq = last.get(recipient, 0) + 1
            last[recipient] = seq
            full = {**body, "seq": seq}
            text = dumps(full)
            rows.append((recipient, seq, self.now, text))
            self.outbox.append(Outgoing(recipient, seq, full, text))
        await self.executemany(
            "INSERT INTO recipients (recipient, last_seq) VALUES (?, ?)"
            " ON CONFLICT (recipient) DO UPDATE SET last_seq = excluded.last_seq",
            [(r, last[r]) for r in recipients],
        )
        await self.executemany(
            "INSERT INTO messages (recipient, seq, at, body) VALUES (?, ?, ?, ?)", rows
        )


class Ledger:
    """The ledger the services see: transactions, reads, and the replay history."""

    @classmethod
    async def open(cls, where: Path | str) -> Ledger:
        """The ledger at ``where``: a SQLite file (a path or ``sqlite:///PATH``), or PostgreSQL
        (``postgresql://…``, any libpq URL). Either is migrated to the latest schema first."""
        text = str(where)
        if text.startswith(("postgresql://", "postgres://")):
            from gigmarket.store.postgres import PostgresLedger

            return await PostgresLedger.connect(text)
        return await SqliteLedger.connect(Path(text.removeprefix("sqlite:///")))

    async def aclose(self) -> None:
        raise NotImplementedError

    def transaction(self, now: float | None = None) -> AbstractAsyncContextManager[Tx]:
        """One write transaction: everything in it commits together or not at all; a broken
        constraint raises :class:`LedgerConflict` after the rollback."""
        raise NotImplementedError

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        raise NotImplementedError

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    async def last_seq(self, recipient: str) -> int:
        row = await self.one("SELECT last_seq FROM recipients WHERE recipient = ?", (recipient,))
        return int(row[0]) if row else 0

    async def messages_after(
        self, recipient: str, after: int, limit: int = 1000
    ) -> list[dict[str, Any]] | None:
        """Messages with seq > ``after`` in order; ``None`` when the client must take a
        snapshot instead: some were pruned, or more than ``limit`` are missing (the replay
        window). A partial replay is never returned (issue 8: a manager 1,300 behind got the
        first 1,000 and silently lost the rest).

        One statement, so the history and the last seq are read from one snapshot even while
        another process commits.
        """
        rows = await self.all(
            "SELECT r.last_seq, m.seq, m.body FROM recipients r LEFT JOIN messages m"
            " ON m.recipient = r.recipient AND m.seq > ? WHERE r.recipient = ?"
            " ORDER BY m.seq LIMIT ?",
            (after, recipient, limit),
        )
        if not rows:
            return []
        last = int(rows[0]["last_seq"])
        if last - after > limit:
            return None
        found = [r for r in rows if r["seq"] is not None]
        if last > after and (not found or int(found[0]["seq"]) != after + 1):
            return None
        return [codec.loads(r["body"]) for r in found]

    async def prune_messages(self, keep_per_recipient: int) -> int:
        """Drop history older than the last ``keep_per_recipient`` messages of each recipient."""
        async with self.transaction() as tx:
            return await tx.execute(
                "DELETE FROM messages WHERE EXISTS (SELECT 1 FROM recipients r"
                " WHERE r.recipient = messages.recipient AND messages.seq <= r.last_seq - ?)",
                (keep_per_recipient,),
            )


#: The most logical transactions one group commit carries. It bounds how long a group holds
#: SQLite's write lock (writers in other processes wait for it) and how much one failed COMMIT
#: takes back; at 32 concurrent posts a group rarely reaches it.
GROUP_MAX = 64


@dataclass(eq=False, slots=True)
class _Group:
    """Logical transactions sharing one physical SQLite transaction and its COMMIT."""

    #: Set when the group has ended: ``None`` once its COMMIT has returned, or the error that
    #: kept it from committing, which every member still waiting raises.
    outcome: asyncio.Future[BaseException | None]
    members: int = 0


class SqliteLedger(Ledger):
    """The embedded default: one WAL file, one writer connection per process.

    Group commit (issue 13): transactions that queue for the writer share one physical
    transaction and one COMMIT, so one fsync acknowledges many. Each logical transaction still
    has the writer to itself from its first statement to its last, inside its own savepoint
    (the first member of a group needs none: the whole physical transaction is its), so a
    failing one is undone alone and raises what it raised before. Its ``async with`` returns
    only after the COMMIT that holds it has returned (durable before acknowledged); if that
    COMMIT fails, every member raises its error. The group closes when no transaction is
    queued for the writer, or at :data:`GROUP_MAX` members: a lone transaction commits at once,
    with no timer.
    """

    def __init__(self, writer: sqlite3.Connection, reader: sqlite3.Connection) -> None:
        self._writer = writer
        #: Where the writer's statements that may wait run: BEGIN IMMEDIATE and COMMIT.
        self._waits = ThreadPoolExecutor(1, thread_name_prefix="ledger-writer")
        self._reader = reader
        #: The writer's turn: one logical transaction at a time, from BEGIN or SAVEPOINT to its
        #: RELEASE (and the COMMIT, for the member that closes the group).
        self._lock = asyncio.Lock()
        #: The reader's one thread: reads take turns, each ending its statement (and so its
        #: snapshot) before the next begins.
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="ledger-reader")
        #: The physical transaction open on the writer, if any.
        self._group: _Group | None = None
        #: Transactions queued for the writer's turn: while there are some, a finished member
        #: leaves its group open for them.
        self._queued = 0
        #: Closes a group whose queued members were all cancelled before their turn.
        self._closer: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, path: Path) -> SqliteLedger:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await asyncio.to_thread(_open_writer, path)
        reader = await asyncio.to_thread(_open, path)
        return cls(writer, reader)

    async def aclose(self) -> None:
        if self._closer is not None:
            await self._closer
        self._waits.shutdown()
        self._reads.shutdown()
        self._writer.close()
        self._reader.close()

    @asynccontextmanager
    async def transaction(self, now: float | None = None) -> AsyncIterator[Tx]:
        await self._take_turn()
        group = self._group
        cancelled = False
        try:
            if group is None and not self._begin_now():
                cancelled = await to_the_end(asyncio.get_running_loop().run_in_executor(
                    self._waits, _begin_waiting, self._writer), ask_again=False)
            if group is None:
                group = self._group = _Group(asyncio.get_running_loop().create_future())
                group.members = 1
            else:
                group.members += 1
                self._writer.execute("SAVEPOINT member")
            if cancelled:
                raise asyncio.CancelledError
            yield SqliteTx(conn=self._writer, now=time.time() if now is None else now)
            if group.members > 1:
                self._writer.execute("RELEASE member")
        except BaseException as exc:
            # Also when the statement that ends the member fails: otherwise the connection
            # would stay inside this member's savepoint and the group would commit it.
            try:
                if group is not None:
                    cancelled = await self._undo(group, exc) or cancelled
                cancelled = await self._end_turn(group) or cancelled
            finally:
                self._lock.release()
            if cancelled and not isinstance(exc, asyncio.CancelledError):
                cancel_again()
            if isinstance(exc, sqlite3.IntegrityError):
                raise LedgerConflict(str(exc)) from exc
            raise
        try:
            cancelled = await self._end_turn(group) or cancelled
        finally:
            self._lock.release()
        # A cancel while the group commits lands after the outcome is known, as during a
        # COMMIT of our own (see :func:`to_the_end`).
        cancelled = await to_the_end(group.outcome, ask_again=False) or cancelled
        error = group.outcome.result()
        if cancelled:
            cancel_again()
        if isinstance(error, sqlite3.IntegrityError):  # a deferred constraint
            raise LedgerConflict(str(error)) from error
        if error is not None:
            raise error

    async def _take_turn(self) -> None:
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
            if self._group is not None and not self._queued and not self._lock.locked():
                # Cancelled while queued, and the members before it left the COMMIT to it.
                self._closer = asyncio.create_task(self._close_orphan(self._group))

    async def _close_orphan(self, group: _Group) -> None:
        await self._take_turn()
        try:
            if self._group is group:
                await self._commit(group)
        finally:
            self._lock.release()

    async def _undo(self, group: _Group, exc: BaseException) -> bool:
        """Take back what the failed member wrote, and only that; whether a cancel came."""
        cancelled = False
        try:
            if group.members == 1:
                # The physical transaction holds this member alone.
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                self._group = None
                group.outcome.set_result(exc)
            elif not self._writer.in_transaction:
                # SQLite ended the whole transaction on this error (a full disk, an I/O
                # error), taking the members before with it: they were not committed.
                cancelled = await self._abandon(group, _group_lost(exc))
            else:
                self._writer.execute("ROLLBACK TO member")
                self._writer.execute("RELEASE member")
        except BaseException as undo_error:
            # The member's writes cannot be told apart from the others' now: none commits.
            cancelled = await self._abandon(group, undo_error) or cancelled
        return cancelled

    async def _end_turn(self, group: _Group | None) -> bool:
        """Leave the group open for the transactions queued behind, or close it: COMMIT.
        Whether a cancel came meanwhile."""
        if group is None or self._group is not group:
            return False
        if not self._writer.in_transaction:
            # SQLite rolled the whole transaction back on its own (a full disk, an I/O error
            # end the transaction, not the statement): the members before lost their writes.
            return await self._abandon(group, _group_lost(None))
        if self._queued and group.members < GROUP_MAX:
            return False
        return await self._commit(group)

    async def _commit(self, group: _Group) -> bool:
        self._group = None
        try:
            cancelled = await to_the_end(self._waiting("COMMIT"), ask_again=False)
        except BaseException as exc:
            # Also when COMMIT itself fails (disk full, a deferred constraint): otherwise the
            # connection stays inside the transaction and every later write fails.
            return await self._abandon(group, exc)
        group.outcome.set_result(None)
        return cancelled

    async def _abandon(self, group: _Group, error: BaseException) -> bool:
        """End the physical transaction without committing: every member waiting raises
        ``error``. Whether a cancel came meanwhile."""
        cancelled = False
        if self._group is group:
            self._group = None
        if self._writer.in_transaction:
            with contextlib.suppress(Exception):
                self._writer.execute("ROLLBACK")
        if not group.outcome.done():
            group.outcome.set_result(error)
        return cancelled

    def _begin_now(self) -> bool:
        """``BEGIN IMMEDIATE`` on the loop, if the write lock is free now (it is, unless
        another process writes this instant); false if it is held."""
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # also BUSY_RECOVERY
                return False
            raise
        return True

    def _waiting(self, sql: str) -> asyncio.Future[sqlite3.Cursor]:
        """``sql`` run on the writer in its own thread: a statement that waits for the disk
        (COMMIT) while the loop goes on. The caller holds the writer's turn, so nothing else
        uses the connection meanwhile."""
        return asyncio.get_running_loop().run_in_executor(self._waits, self._writer.execute, sql)

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await asyncio.get_running_loop().run_in_executor(
            self._reads, _fetch_one, self._reader, sql, params)

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await asyncio.get_running_loop().run_in_executor(
            self._reads, _fetch_all, self._reader, sql, params)


def _begin_waiting(writer: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE`` in the writer's thread, queueing on SQLite's lock for as long as
    :data:`BUSY_TIMEOUT_MS`; the writer never waits otherwise."""
    writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        writer.execute("BEGIN IMMEDIATE")
    finally:
        writer.execute("PRAGMA busy_timeout = 0")


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Row | None:
    """A statement, its first row, its cursor closed: on the writer inside a transaction, or
    whole in the reader's thread."""
    cur = conn.execute(sql, params)
    try:
        row: Row | None = cur.fetchone()
        return row
    finally:
        cur.close()


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Row]:
    cur = conn.execute(sql, params)
    try:
        return cur.fetchall()
    finally:
        cur.close()


async def to_the_end(step: Awaitable[Any], *, ask_again: bool = True) -> bool:
    """Await ``step`` (a COMMIT or ROLLBACK) to its end even when the task is cancelled
    meanwhile; then the cancel is asked for again, unless the caller will (``ask_again``
    false: it has a connection to give back first). Whether a cancel came. Both backends."""
    done = asyncio.ensure_future(step)
    cancelled = False
    while not done.done():
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            cancelled = True
        except BaseException:
            break
    error = done.exception()
    if error is not None:
        raise error
    if cancelled and ask_again:
        cancel_again()
    return cancelled


def _group_lost(cause: BaseException | None) -> LedgerUnavailable:
    """What the members of a group that SQLite rolled back on its own raise: nothing of
    theirs was committed, and they may retry (503)."""
    error = LedgerUnavailable("the ledger rolled back a group of transactions after an error"
                              + (f": {cause}" if cause is not None else ""))
    error.__cause__ = cause
    return error


def cancel_again() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.cancel()


_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # FULL: a commit is on disk before we acknowledge it (SPEC 4: durable before acknowledged).
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)
#: How long a connection queues for another process's lock before giving up with "locked".
BUSY_TIMEOUT_MS = 15000


def _open(path: Path) -> sqlite3.Connection:
    """A connection to the ledger's file. ``check_same_thread`` is off because the loop opens
    it and a thread of its own uses it; one user at a time, as :class:`SqliteLedger` sees to."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_writer(path: Path) -> sqlite3.Connection:
    """The writer connection, migrated."""
    conn = _open(path)
    try:
        _migrate(conn)
        # From here on the writer tries its lock without waiting (see _begin_waiting).
        conn.execute("PRAGMA busy_timeout = 0")
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            for statement in statements(script):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
