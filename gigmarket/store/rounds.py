"""What a dispatch round writes: its offers, the jobs' pending counts, and the rounds log.

The workers it offered move through :mod:`gigmarket.store.transitions` like every other
state change; this module holds the round's other statements (issue 11: no SQL outside
``store/``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gigmarket.core.model import WorkerState
from gigmarket.store import transitions
from gigmarket.store.ledger import Ledger, Row, Tx

#: Ids per ``IN (…)``: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


async def rows_by_id(q: Ledger | Tx, table: str, ids: Sequence[str],
                     columns: str = "*") -> dict[str, Row]:
    """Rows of ``table`` (a name from this module's callers, never from input) by id."""
    out: dict[str, Row] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i : i + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for r in await q.all(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", chunk):
            out[r["id"]] = r
    return out


async def add_offers(tx: Tx, rows: Sequence[tuple[Any, ...]]) -> None:
    """Pending offers: ``(id, job_id, worker_id, market_id, round_id, created_at, expires_at,
    distance_km, travel_minutes, terms)`` each."""
    await tx.executemany(
        "INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at,"
        " expires_at, state, distance_km, travel_minutes, terms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)", rows)


async def add_pending(tx: Tx, per_job: Mapping[str, int]) -> None:
    """Each job's pending count grows by the offers the round made for it."""
    await tx.executemany("UPDATE jobs SET pending = pending + ?, updated_at = ? WHERE id = ?",
                         [(n, tx.now, j) for j, n in per_job.items()])


async def mark_offered(tx: Tx, worker_ids: Sequence[str]) -> None:
    """The round's workers, each checked available in this transaction, are now offered."""
    for i in range(0, len(worker_ids), _CHUNK):
        chunk = list(worker_ids[i : i + _CHUNK])
        marks = ",".join("?" * len(chunk))
        await transitions.move_where(tx, WorkerState.OFFERED, f"id IN ({marks})", chunk,
                                     only_from={WorkerState.AVAILABLE})


async def log_round(tx: Tx, values: Sequence[Any]) -> None:
    """``(id, market_id, at, workers, jobs, pairs, offers, candidates_ms, solve_ms,
    total_ms)``: one line of the rounds log."""
    await tx.execute(
        "INSERT INTO rounds (id, market_id, at, workers, jobs, pairs, offers,"
        " candidates_ms, solve_ms, total_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
