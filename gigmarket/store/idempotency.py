"""Idempotency keys: the first result of a request, returned again to its repeats."""

from __future__ import annotations

from typing import Any

from gigmarket.store.ledger import Row, Tx, dumps


async def recall(tx: Tx, user_id: str, key: str) -> Row | None:
    """The hash of the request first made with ``key`` and its response, if any."""
    return await tx.one("SELECT request_hash, response FROM idempotency WHERE user_id = ?"
                        " AND key = ?", (user_id, key))


async def remember(tx: Tx, user_id: str, key: str, request_hash: str, status: int,
                   response: Any) -> None:
    await tx.execute(
        "INSERT INTO idempotency (user_id, key, request_hash, status, response, at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (user_id, key, request_hash, status, dumps(response),
                                       tx.now),
    )
