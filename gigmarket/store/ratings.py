"""Ratings both ways after the work: one per assignment and side."""

from __future__ import annotations

import json

from gigmarket.store.ledger import Tx


async def given(tx: Tx, assignment_id: str, by_role: str) -> bool:
    return await tx.one("SELECT 1 FROM ratings WHERE assignment_id = ? AND by_role = ?",
                        (assignment_id, by_role)) is not None


async def add(tx: Tx, *, assignment_id: str, by_role: str, rater_id: str, ratee_id: str,
              stars: int, tags: list[str]) -> None:
    await tx.execute(
        "INSERT INTO ratings (assignment_id, by_role, rater_id, ratee_id, stars, tags, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (assignment_id, by_role, rater_id, ratee_id, stars, json.dumps(tags), tx.now),
    )
