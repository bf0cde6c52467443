"""A worker's kiosk PIN: set, reset to a temporary one that must be changed, and read back."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx


async def set_pin(tx: Tx, worker_id: str, pin_hash: str, *, must_change: bool) -> None:
    await tx.execute("UPDATE workers SET pin_hash = ?, pin_must_change = ?, updated_at = ?"
                     " WHERE id = ?", (pin_hash, int(must_change), tx.now, worker_id))


async def limit_session(tx: Tx, token_hash: str, *, pin_change_only: bool) -> None:
    """Mark a session as good for choosing a new PIN only (or lift that)."""
    await tx.execute("UPDATE sessions SET pin_change_only = ? WHERE token_hash = ?",
                     (int(pin_change_only), token_hash))


async def must_change(q: Ledger | Tx, worker_id: str) -> bool:
    row = await q.one("SELECT pin_must_change FROM workers WHERE id = ?", (worker_id,))
    return bool(row and row["pin_must_change"])


async def worker(q: Ledger | Tx, worker_id: str) -> Row | None:
    return await q.one("SELECT id, name, id_number_masked, id_number_index, phone, market_id"
                       " FROM workers WHERE id = ?", (worker_id,))
