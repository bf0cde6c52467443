"""The migration of issue 10 on a ledger that already holds offers: existing pairs stay
burnt, and afterwards only an offer that expired while its worker was away lets its pair be
offered again, never two pending offers for one worker."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gigmarket.store.dialect import statements as _statements
from gigmarket.store.ledger import Ledger
from gigmarket.store.schema import MIGRATIONS

#: Found by what it does, not by its number: migrations are ordered when branches merge.
MINE = next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE certificates" in m)

_OFFER = ("INSERT INTO offers (id, job_id, worker_id, market_id, round_id, created_at,"
          " expires_at, state, distance_km, travel_minutes, terms)"
          " VALUES (?, 'j1', 'w1', 'm', 'r', 0, 1, ?, 1, 1, '{}')")


def _old_ledger(path: Path) -> None:
    """A ledger as it was before this migration, with one expired offer of pair (w1, j1)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in enumerate(MIGRATIONS[:MINE], start=1):
        for statement in _statements(script):
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    db.execute(_OFFER, ("o1", "expired"))
    db.commit()
    db.close()


async def test_existing_offers_stay_burnt_and_only_absent_ones_free_the_pair(
    tmp_path: Path,
) -> None:
    """Old rows count as present (absent = 0); an absent row does not block a new offer."""
    path = tmp_path / "ledger.sqlite3"
    _old_ledger(path)
    ledger = await Ledger.open(path)
    await ledger.aclose()
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT absent FROM offers WHERE id = 'o1'").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(_OFFER, ("o2", "pending"))
        db.execute("UPDATE offers SET absent = 1 WHERE id = 'o1'")
        db.execute(_OFFER, ("o2", "pending"))
        with pytest.raises(sqlite3.IntegrityError):  # one_pending_offer_per_worker holds
            db.execute(_OFFER.replace("'j1'", "'j2'"), ("o3", "pending"))
    finally:
        db.close()
