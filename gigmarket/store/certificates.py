"""Every statement on the ``certificates`` table, and the worker-to-market tie the manager's
review is checked against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gigmarket.core.certificates import CertificateState, Declared, Held
from gigmarket.store.ledger import Ledger, Row, Tx

Reader = Tx | Ledger


def _held(r: Row) -> Held:
    return Held(r["skill"], r["number"], date.fromisoformat(r["expires_on"]),
                CertificateState(r["state"]))


async def rows_of(q: Reader, worker_id: str) -> list[Row]:
    """A worker's certificates as stored, in skill order (``GET /me`` shows them all)."""
    return await q.all("SELECT * FROM certificates WHERE worker_id = ? ORDER BY skill",
                       (worker_id,))


async def held_by(q: Reader, worker_id: str) -> list[Held]:
    return [_held(r) for r in await rows_of(q, worker_id)]


async def one(q: Reader, worker_id: str, skill: str) -> Row | None:
    return await q.one("SELECT * FROM certificates WHERE worker_id = ? AND skill = ?",
                       (worker_id, skill))


async def declare(tx: Tx, worker_id: str, declared: Declared) -> None:
    """Record a new or changed certificate as pending (a manager must see the card)."""
    await tx.execute(
        "INSERT INTO certificates (worker_id, skill, number, expires_on, state, note,"
        " declared_at) VALUES (?, ?, ?, ?, 'pending', NULL, ?)"
        " ON CONFLICT (worker_id, skill) DO UPDATE SET number = excluded.number,"
        " expires_on = excluded.expires_on, state = 'pending', note = NULL,"
        " declared_at = excluded.declared_at, reviewed_by = NULL, reviewed_at = NULL",
        (worker_id, declared.skill, declared.number, declared.expires_on.isoformat(), tx.now),
    )


async def withdraw(tx: Tx, worker_id: str, skills: Sequence[str]) -> None:
    """Forget certificates the worker no longer declares."""
    await tx.executemany("DELETE FROM certificates WHERE worker_id = ? AND skill = ?",
                         [(worker_id, s) for s in skills])


async def review(tx: Tx, worker_id: str, skill: str, state: CertificateState,
                 note: str | None, manager_id: str) -> None:
    await tx.execute(
        "UPDATE certificates SET state = ?, note = ?, reviewed_by = ?, reviewed_at = ?"
        " WHERE worker_id = ? AND skill = ?",
        (state.value, note, manager_id, tx.now, worker_id, skill),
    )


async def queue(q: Reader, market_id: str, state: CertificateState) -> list[Row]:
    """Certificates in ``state`` of workers who belong to ``market_id``, oldest first."""
    return await q.all(
        "SELECT c.*, w.name, w.phone, w.market_id AS worker_market FROM certificates c"
        " JOIN workers w ON w.id = c.worker_id WHERE c.state = ? AND EXISTS (SELECT 1"
        " FROM market_members mm WHERE mm.kind = 'worker' AND mm.member_id = w.id"
        " AND mm.market_id = ?) ORDER BY c.declared_at LIMIT 500",
        (state.value, market_id),
    )
