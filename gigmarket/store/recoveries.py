"""How often the server recovered from something: restarts, rebuilds, lease changes (issue 8).

Counted in the ledger, not in memory or Redis: the processes that recover (the dispatcher, its
solver, ``serve``'s supervisor) are not the web process that serves ``/metrics``, and a count
kept in Redis would vanish with the very loss it counts. The supervisor thread has no event loop,
so it counts through a plain ``sqlite3`` connection (:func:`count_now`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from enum import StrEnum
from pathlib import Path

from gigmarket.store.ledger import Ledger


class Recovery(StrEnum):
    DISPATCHER_RESTART = "dispatcher_restart"  #: serve started a dead dispatcher again
    SOLVER_RESTART = "solver_restart"  #: a dispatcher replaced its dead solver process
    REDIS_RESTART = "redis_restart"  #: serve started a dead embedded Redis again
    REBUILD = "rebuild"  #: a market's live pools were rebuilt from the ledger
    LEASE_CHANGE = "lease_change"  #: a dispatcher took a market's lease (a new token)


_UPSERT = (
    "INSERT INTO recoveries (kind, count, last_at) VALUES (?, 1, ?)"
    " ON CONFLICT (kind) DO UPDATE SET count = recoveries.count + 1, last_at = excluded.last_at"
)


async def count(ledger: Ledger, kind: Recovery) -> None:
    async with ledger.transaction() as tx:
        await tx.execute(_UPSERT, (kind.value, tx.now))


def count_now(ledger_path: Path | str, kind: Recovery) -> None:
    """:func:`count` for a thread without an event loop."""
    if isinstance(ledger_path, str) and not ledger_path.startswith("sqlite:///"):
        asyncio.run(_count_once(ledger_path, kind))  # PostgreSQL: its own short connection
        return
    conn = sqlite3.connect(ledger_path, timeout=15, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_UPSERT, (kind.value, time.time()))
        conn.execute("COMMIT")
    finally:
        conn.close()


async def _count_once(url: str, kind: Recovery) -> None:
    ledger = await Ledger.open(url)
    try:
        await count(ledger, kind)
    finally:
        await ledger.aclose()


async def counts(ledger: Ledger) -> dict[Recovery, int]:
    rows = await ledger.all("SELECT kind, count FROM recoveries")
    found = {r["kind"]: int(r["count"]) for r in rows}
    return {k: found.get(k.value, 0) for k in Recovery}


async def ledger_commits(ledger: Ledger) -> None:
    """Prove the ledger can commit now: a real write transaction of one tiny row.

    It writes a page through the journal and commits it, so a full disk, a read-only file or a
    lock held too long fail here as they would for any write.
    """
    async with ledger.transaction() as tx:
        await tx.execute(
            "INSERT INTO recoveries (kind, count, last_at) VALUES ('ready_probe', 0, ?)"
            " ON CONFLICT (kind) DO UPDATE SET last_at = excluded.last_at",
            (tx.now,),
        )
