"""Kiosk devices of a market: listing, last contact, revocation (with their device sessions)."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx

#: Last contact is written at most this often per kiosk: a kiosk calls the API all day long.
CONTACT_EVERY_S = 60.0


async def device(q: Ledger | Tx, kiosk_id: str) -> Row | None:
    return await q.one("SELECT * FROM kiosks WHERE id = ?", (kiosk_id,))


async def of_market(q: Ledger | Tx, market_id: str) -> list[Row]:
    return await q.all("SELECT * FROM kiosks WHERE market_id = ? ORDER BY revoked_at IS NOT NULL,"
                       " station_id, created_at", (market_id,))


async def contact(ledger: Ledger, kiosk_id: str, now: float) -> None:
    """Note that the kiosk was heard from, unless that was noted within ``CONTACT_EVERY_S``."""
    async with ledger.transaction(now) as tx:
        await tx.execute("UPDATE kiosks SET last_contact_at = ? WHERE id = ?"
                         " AND (last_contact_at IS NULL OR last_contact_at < ?)",
                         (now, kiosk_id, now - CONTACT_EVERY_S))


async def revoke(tx: Tx, kiosk_id: str, by: str) -> list[str]:
    """Revoke the kiosk and every live session of its device token; their token hashes."""
    await tx.execute("UPDATE kiosks SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                     (tx.now, by, kiosk_id))
    rows = await tx.all("SELECT token_hash FROM sessions WHERE user_id = ? AND role = 'kiosk'"
                        " AND revoked_at IS NULL", (kiosk_id,))
    await tx.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND role = 'kiosk'"
                     " AND revoked_at IS NULL", (tx.now, kiosk_id))
    return [r["token_hash"] for r in rows]


async def register(tx: Tx, kiosk_id: str, market_id: str, station_id: str, name: str,
                   by: str) -> None:
    await tx.execute(
        "INSERT INTO kiosks (id, market_id, station_id, name, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (kiosk_id, market_id, station_id, name, by, tx.now),
    )
