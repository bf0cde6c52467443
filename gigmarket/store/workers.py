"""Workers' rows: reads, the counts their reliability is computed from, their ratings.

Their state moves through :mod:`gigmarket.store.transitions`.
"""

from __future__ import annotations

import json
from typing import Any, Final

from gigmarket.store.ledger import Ledger, Row, Tx

#: The counters of a worker's record (SPEC 5), each bumped by one when its event happens.
COUNTERS: Final = frozenset({"kept", "no_shows", "late_cancels"})


async def get(q: Ledger | Tx, worker_id: str) -> Row | None:
    return await q.one("SELECT * FROM workers WHERE id = ?", (worker_id,))


async def count(tx: Tx, worker_id: str, counter: str) -> None:
    """One more kept job, no-show or late cancel on the worker's record."""
    if counter not in COUNTERS:
        raise ValueError(f"not a worker counter: {counter}")
    await tx.execute(f"UPDATE workers SET {counter} = {counter} + 1 WHERE id = ?", (worker_id,))


async def set_reliability(tx: Tx, worker_id: str, value: float) -> None:
    await tx.execute("UPDATE workers SET reliability = ?, updated_at = ? WHERE id = ?",
                     (value, tx.now, worker_id))


async def rate(tx: Tx, worker_id: str, stars: int) -> tuple[int, int]:
    """Add one rating; the worker's rating sum and count after it."""
    row = await tx.one("UPDATE workers SET rating_sum = rating_sum + ?,"
                       " rating_count = rating_count + 1, updated_at = ? WHERE id = ?"
                       " RETURNING rating_sum, rating_count", (stars, tx.now, worker_id))
    assert row is not None
    return int(row["rating_sum"]), int(row["rating_count"])


async def set_key_group(tx: Tx, worker_id: str, key_group: str | None) -> Row | None:
    return await tx.one("UPDATE workers SET key_group = ?, updated_at = ? WHERE id = ?"
                        " RETURNING *", (key_group, tx.now, worker_id))


async def id_by_phone(q: Ledger | Tx, phone: str) -> str | None:
    row = await q.one("SELECT id FROM workers WHERE phone = ?", (phone,))
    return None if row is None else str(row["id"])


async def create_with_phone(tx: Tx, user_id: str, phone: str) -> None:
    """A new account known only by its phone (signed in with an SMS code)."""
    await tx.execute("INSERT INTO workers (id, phone, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?)", (user_id, phone, tx.now, tx.now))


async def by_id_number(q: Ledger | Tx, index: str) -> Row | None:
    """The worker registered with this ID number (by its keyed index, never the number)."""
    return await q.one("SELECT * FROM workers WHERE id_number_index = ?", (index,))


async def by_phone(q: Ledger | Tx, phone: str) -> Row | None:
    return await q.one("SELECT * FROM workers WHERE phone = ?", (phone,))


async def register_identity(tx: Tx, worker_id: str, *, phone: str | None, name: str,
                            id_number_enc: bytes, id_number_index: str, id_number_masked: str,
                            pin_hash: str, new: bool) -> None:
    """Register a worker by ID card and PIN at a kiosk; ``new`` when no row has their phone."""
    if new:
        await tx.execute(
            "INSERT INTO workers (id, phone, name, id_number_enc, id_number_index,"
            " id_number_masked, pin_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (worker_id, phone, name, id_number_enc, id_number_index, id_number_masked,
             pin_hash, tx.now, tx.now),
        )
    else:
        await tx.execute(
            "UPDATE workers SET name = ?, id_number_enc = ?, id_number_index = ?,"
            " id_number_masked = ?, pin_hash = ?, updated_at = ? WHERE id = ?",
            (name, id_number_enc, id_number_index, id_number_masked, pin_hash, tx.now,
             worker_id),
        )


async def id_number_taken(tx: Tx, index: str, by_other_than: str) -> bool:
    return await tx.one("SELECT 1 FROM workers WHERE id_number_index = ? AND id != ?",
                        (index, by_other_than)) is not None


async def save_profile(tx: Tx, worker_id: str, *, name: str, skills: list[str],
                       min_wage: tuple[int, str] | None,
                       identity: tuple[bytes, str, str] | None,
                       max_travel_minutes: tuple[int | None] | None = None) -> Row:
    """Name and skills; the minimum wage ``(fen, unit)``, the ID number
    ``(sealed, index, masked)`` and the own longest trip ``(minutes or None,)`` only when
    given. The row after it."""
    sets = ["name = ?", "skills = ?", "updated_at = ?"]
    params: list[Any] = [name, json.dumps(skills), tx.now]
    if min_wage is not None:
        sets += ["min_wage_fen = ?", "min_wage_unit = ?"]
        params += list(min_wage)
    if identity is not None:
        sets += ["id_number_enc = ?", "id_number_index = ?", "id_number_masked = ?"]
        params += list(identity)
    if max_travel_minutes is not None:
        sets.append("max_travel_minutes = ?")
        params += list(max_travel_minutes)
    row = await tx.one(f"UPDATE workers SET {', '.join(sets)} WHERE id = ? RETURNING *",
                       [*params, worker_id])
    assert row is not None
    return row


async def place(tx: Tx, worker_id: str, *, market_id: str | None, lat: float | None = None,
                lon: float | None = None, station_id: str | None = None,
                checked_in_at: float | None = None,
                available_until: float | None = None) -> Row:
    """Where the worker waits (or, with ``market_id=None``, that they left), leaving their
    state alone: a state change goes through :mod:`gigmarket.store.transitions` instead."""
    row = await tx.one(
        "UPDATE workers SET market_id = ?, lat = COALESCE(?, lat), lon = COALESCE(?, lon),"
        " station_id = ?, checked_in_at = COALESCE(?, checked_in_at), available_until = ?,"
        " updated_at = ? WHERE id = ? RETURNING *",
        (market_id, lat, lon, station_id, checked_in_at, available_until, tx.now, worker_id))
    assert row is not None
    return row
