"""The privacy consent a worker gave before the kiosk took their ID number (PIPL art. 14, 29)."""

from __future__ import annotations

from gigmarket.store.ledger import Tx


async def record(tx: Tx, worker_id: str, version: str) -> None:
    await tx.execute("UPDATE workers SET consent_version = ?, consent_at = ? WHERE id = ?",
                     (version, tx.now, worker_id))
