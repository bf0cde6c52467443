"""Employers' rows: reads, the counts their reliability is computed from, their ratings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from gigmarket.store.ledger import Ledger, Row, Tx

#: The counters of an employer's record, each bumped by one when its event happens.
COUNTERS: Final = frozenset({"kept", "no_shows", "late_cancels", "disputes", "upheld_reports"})


async def get(q: Ledger | Tx, employer_id: str) -> Row | None:
    return await q.one("SELECT * FROM employers WHERE id = ?", (employer_id,))


async def count(tx: Tx, employer_id: str, counter: str) -> None:
    """One more kept job, late cancel, unpaid dispute or upheld report on the record."""
    if counter not in COUNTERS:
        raise ValueError(f"not an employer counter: {counter}")
    await tx.execute(f"UPDATE employers SET {counter} = {counter} + 1 WHERE id = ?",
                     (employer_id,))


async def set_reliability(tx: Tx, employer_id: str, value: float) -> None:
    await tx.execute("UPDATE employers SET reliability = ?, updated_at = ? WHERE id = ?",
                     (value, tx.now, employer_id))


async def rate(tx: Tx, employer_id: str, stars: int) -> tuple[int, int]:
    """Add one rating; the employer's rating sum and count after it."""
    row = await tx.one("UPDATE employers SET rating_sum = rating_sum + ?,"
                       " rating_count = rating_count + 1, updated_at = ? WHERE id = ?"
                       " RETURNING rating_sum, rating_count", (stars, tx.now, employer_id))
    assert row is not None
    return int(row["rating_sum"]), int(row["rating_count"])


async def save_profile(tx: Tx, employer_id: str, *, name: str, org_name: str,
                       credit_code: str, verified: int) -> Row:
    row = await tx.one("UPDATE employers SET name = ?, org_name = ?, credit_code = ?,"
                       " verified = ?, updated_at = ? WHERE id = ? RETURNING *",
                       (name, org_name, credit_code, verified, tx.now, employer_id))
    assert row is not None
    return row


async def verify(tx: Tx, employer_id: str) -> None:
    await tx.execute("UPDATE employers SET verified = 1, updated_at = ? WHERE id = ?",
                     (tx.now, employer_id))


async def unverified(q: Ledger | Tx) -> list[Row]:
    """Active registered businesses not yet verified, the longest waiting first."""
    return await q.all("SELECT * FROM employers WHERE verified = 0 AND credit_code IS NOT NULL"
                       " AND state = 'active' ORDER BY updated_at")


async def id_by_phone(q: Ledger | Tx, phone: str) -> str | None:
    row = await q.one("SELECT id FROM employers WHERE phone = ?", (phone,))
    return None if row is None else str(row["id"])


async def create_with_phone(tx: Tx, user_id: str, phone: str) -> None:
    """A new account known only by its phone (signed in with an SMS code)."""
    await tx.execute("INSERT INTO employers (id, phone, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?)", (user_id, phone, tx.now, tx.now))


async def suspend(tx: Tx, employer_id: str) -> None:
    """Suspend the account itself (suspended in every market it belongs to)."""
    await tx.execute("UPDATE employers SET state = 'suspended', updated_at = ? WHERE id = ?",
                     (tx.now, employer_id))


async def of_ids(q: Ledger | Tx, employer_ids: Sequence[str]) -> dict[str, Row]:
    ids = list(dict.fromkeys(employer_ids))
    if not ids:
        return {}
    rows = await q.all(f"SELECT * FROM employers WHERE id IN ({','.join('?' * len(ids))})", ids)
    return {r["id"]: r for r in rows}
