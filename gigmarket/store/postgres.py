"""The ledger on PostgreSQL (issue 11, SPEC 11.6): ``GIGMARKET_LEDGER=postgresql://…``.

The driver is asyncpg, not psycopg 3. Measured on this machine kind (issue 11): asyncpg was
1.1–4.7× faster on a 6,400-row insert (a round's offers and messages) and equal on one-row
transactions; and its connection is natively async, so a transaction is a conversation on one
socket, not a chain of hops to a driver thread. Its prepared statements are cached per
connection, and our translation of each statement (:mod:`gigmarket.store.dialect`) is cached
too, so the hot paths parse nothing twice.

What SQLite's single writer gave for free is made explicit here:

- seqs come from an upsert on ``recipients`` with ``RETURNING``, made at the commit for all
  of a transaction's messages in recipient order (:meth:`PostgresTx.store_messages`): the row
  lock it takes is held to the commit, so no two writers share a seq, a reader never sees seq
  n+1 committed before seq n, and no two transactions deadlock over their recipients;
- the exchange feeds are numbered by their counter rows, updated by the triggers in the same
  transaction (see :data:`gigmarket.store.dialect.TRIGGERS`);
- :meth:`PostgresTx.lock` is a transaction-scoped advisory lock for code that reads, decides and
  writes (see :meth:`gigmarket.store.ledger.Tx.lock` for where it is needed);
- a broken constraint (class 23 errors) becomes :class:`~gigmarket.store.ledger.LedgerConflict`;
  a server that cannot be reached, :class:`~gigmarket.store.ledger.LedgerUnavailable` (503).

Transactions run at READ COMMITTED, PostgreSQL's default. Each process has two pools, as the
SQLite ledger has a writer and a reader connection: transactions take theirs from one, and reads
outside a transaction from the other. With one pool, services that read through the ledger while
holding a transaction (many do: a view built inside the transaction that changed it) deadlocked
as soon as every connection was held by a transaction waiting for a read (a thousand concurrent
claims hung the server). A read is one statement that waits for nothing while it holds its
connection, so the readers' pool always drains.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg

from gigmarket.store import dialect
from gigmarket.store.ledger import (
    Ledger,
    LedgerConflict,
    LedgerUnavailable,
    Outgoing,
    Row,
    Tx,
    cancel_again,
    dumps,
    to_the_end,
)
from gigmarket.store.schema import MIGRATIONS

#: Connections per pool (two pools per process: transactions, reads). A web process rarely has
#: more than a few transactions in flight (each is short); the dispatcher has one per market
#: round. PostgreSQL's default 100 connections then serve six processes.
POOL_MAX = 8

#: The advisory lock key that serialises migrations between processes starting together.
_MIGRATION_LOCK = 0x6769676D  # "gigm"


#: A server that is down, restarting, refusing connections or gone mid-conversation.
_DOWN: tuple[type[BaseException], ...] = (
    OSError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)


#: Class 23 (a broken constraint), and class 40: a deadlock between two transactions that
#: locked the same rows in opposite orders, which PostgreSQL ends by rolling one back. Either
#: way the loser changed nothing and may retry: 409, never 500.
_CONFLICTS: tuple[type[BaseException], ...] = (
    asyncpg.IntegrityConstraintViolationError, asyncpg.TransactionRollbackError,
)


def _unavailable(exc: BaseException) -> LedgerUnavailable:
    return LedgerUnavailable(f"the PostgreSQL ledger cannot be reached: {exc!r}")


def _number(text: str) -> int | float:
    """``numeric`` as SQLite would give it: SUM over integers is an int, not a Decimal."""
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _setup(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_number,
                              schema="pg_catalog", format="text")


def _count(status: str) -> int:
    """Rows touched, from a command tag: ``UPDATE 3``, ``INSERT 0 1``, ``DELETE 0``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


@dataclass(kw_only=True)
class PostgresTx(Tx):
    """A transaction on one pooled connection.

    Its messages are stored at the commit, all at once, their recipients locked in name
    order (:meth:`store_messages`). Stored as they came, each message would lock its
    recipient's row from then to the commit, in the order the service happened to write them:
    an accept (the worker, then the employer) and a call-off (the employer, then the worker)
    would wait for each other, and PostgreSQL would end one of them as a deadlock.
    """

    conn: asyncpg.Connection
    pending: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _count(await self.conn.execute(dialect.postgres(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(dialect.postgres(sql), list(rows))

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return cast(Row | None, await self.conn.fetchrow(dialect.postgres(sql), *params))

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return cast(list[Row], await self.conn.fetch(dialect.postgres(sql), *params))

    async def lock(self, key: str) -> None:
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def message(self, recipient: str, body: Mapping[str, Any]) -> None:
        self.pending.append((recipient, body))

    async def message_many(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self.pending.extend(items)

    async def store_messages(self) -> None:
        """Just before the commit: one upsert moves each recipient's ``last_seq`` on by its
        number of messages and returns the new value, so the seqs are reserved in the
        database. Recipients are locked in name order and last, so two transactions messaging
        the same people wait for each other instead of deadlocking."""
        items, self.pending = self.pending, []
        if not items:
            return
        counts = Counter(r for r, _ in items)
        names = sorted(counts)
        rows = await self.conn.fetch(
            "INSERT INTO recipients (recipient, last_seq)"
            " SELECT r, n FROM unnest($1::text[], $2::bigint[]) AS t(r, n) ORDER BY r"
            " ON CONFLICT (recipient) DO UPDATE SET last_seq = recipients.last_seq"
            " + excluded.last_seq RETURNING recipient, last_seq",
            names, [counts[r] for r in names],
        )
        following = {r["recipient"]: int(r["last_seq"]) - counts[r["recipient"]] for r in rows}
        stored: list[tuple[str, int, float, str]] = []
        for recipient, body in items:
            following[recipient] += 1
            seq = following[recipient]
            full = {**body, "seq": seq}
            text = dumps(full)
            stored.append((recipient, seq, self.now, text))
            self.outbox.append(Outgoing(recipient, seq, full, text))
        await self.conn.executemany(
            "INSERT INTO messages (recipient, seq, at, body) VALUES ($1, $2, $3, $4)", stored)


class PostgresLedger(Ledger):
    def __init__(self, pool: asyncpg.Pool, readers: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._readers = readers
        #: The libpq URL it was opened with (for code that must open its own connection).
        self.url = url

    @classmethod
    async def connect(cls, url: str) -> PostgresLedger:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_MAX, init=_setup)
        try:
            async with pool.acquire() as conn:
                await _migrate(conn)
            readers = await asyncpg.create_pool(url, min_size=1, max_size=POOL_MAX, init=_setup)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, readers, url)

    async def aclose(self) -> None:
        await self._readers.close()
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self, now: float | None = None) -> AsyncIterator[Tx]:
        cancelled = False
        try:
            conn = await self._pool.acquire()
        except _DOWN as exc:
            raise _unavailable(exc) from exc
        try:
            run = conn.transaction()
            try:
                await run.start()
            except BaseException as exc:
                # A pooled connection whose server went away fails its first use, sometimes
                # as asyncpg's own "another operation is in progress" on the dead socket.
                if isinstance(exc, _DOWN) or (isinstance(exc, asyncpg.InternalClientError)
                                              or conn.is_closed()):
                    raise _unavailable(exc) from exc
                raise
            tx = PostgresTx(conn=conn, now=time.time() if now is None else now)
            try:
                yield tx
            except BaseException as exc:
                if not conn.is_closed():
                    with contextlib.suppress(*_DOWN):
                        await to_the_end(run.rollback())
                if isinstance(exc, _CONFLICTS):
                    raise _conflict(exc) from exc
                if isinstance(exc, _DOWN):
                    raise _unavailable(exc) from exc
                raise
            async def commit() -> None:
                # The body is done, so the transaction commits: its messages, stored only now
                # (see PostgresTx), are part of the commit.
                try:
                    await tx.store_messages()
                except BaseException:
                    if not conn.is_closed():
                        with contextlib.suppress(*_DOWN):
                            await run.rollback()
                    raise
                await run.commit()

            try:
                # A cancel that comes during COMMIT lands after the connection is back in the
                # pool, at the caller's next await (as on SQLite).
                cancelled = await to_the_end(commit(), ask_again=False)
            except _CONFLICTS as exc:  # a deferred constraint
                raise _conflict(exc) from exc
            except _DOWN as exc:
                raise _unavailable(exc) from exc
        finally:
            await self._pool.release(conn)
        if cancelled:
            cancel_again()

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return cast(Row | None, await self._readers.fetchrow(dialect.postgres(sql), *params))
        except _DOWN as exc:
            raise _unavailable(exc) from exc

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return cast(list[Row], await self._readers.fetch(dialect.postgres(sql), *params))
        except _DOWN as exc:
            raise _unavailable(exc) from exc


def _conflict(exc: BaseException) -> LedgerConflict:
    return LedgerConflict(str(exc), getattr(exc, "constraint_name", None))


async def _migrate(conn: asyncpg.Connection) -> None:
    """The same migrations as SQLite's, translated, recorded in the same ``schema_version``
    table; processes that start together take turns on an advisory lock."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            for statement in dialect.migration(script):
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
