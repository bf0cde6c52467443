"""Sign-in: one-time codes sent by SMS, and the sessions their tokens open."""

from __future__ import annotations

from gigmarket.store.ledger import Ledger, Row, Tx


async def put_otp(tx: Tx, phone: str, code_hash: str, expires_at: float) -> None:
    """A new code for the phone replaces any earlier one, with a fresh count of attempts."""
    await tx.execute(
        "INSERT INTO otps (phone, code_hash, expires_at, attempts) VALUES (?, ?, ?, 0)"
        " ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,"
        " expires_at = excluded.expires_at, attempts = 0",
        (phone, code_hash, expires_at),
    )


async def otp(tx: Tx, phone: str) -> Row | None:
    return await tx.one("SELECT * FROM otps WHERE phone = ?", (phone,))


async def otp_failed(tx: Tx, phone: str) -> None:
    await tx.execute("UPDATE otps SET attempts = attempts + 1 WHERE phone = ?", (phone,))


async def otp_used(tx: Tx, phone: str) -> None:
    await tx.execute("DELETE FROM otps WHERE phone = ?", (phone,))


async def open_(tx: Tx, token_hash: str, role: str, user_id: str, ttl_s: float) -> None:
    await tx.execute(
        "INSERT INTO sessions (token_hash, role, user_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)", (token_hash, role, user_id, tx.now, tx.now + ttl_s),
    )


async def get(q: Ledger | Tx, token_hash: str) -> Row | None:
    return await q.one("SELECT * FROM sessions WHERE token_hash = ?", (token_hash,))


async def revoke(tx: Tx, token_hash: str) -> None:
    await tx.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                     (tx.now, token_hash))


async def revoke_all(tx: Tx, user_id: str) -> int:
    """End every live session of the user; how many there were."""
    return await tx.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ?"
                            " AND revoked_at IS NULL", (tx.now, user_id))
