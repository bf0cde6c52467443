"""Market managers' accounts: username, password hash and the markets they manage."""

from __future__ import annotations

import json

from gigmarket.store.ledger import Ledger, Row, Tx


async def by_username(q: Ledger | Tx, username: str) -> Row | None:
    return await q.one("SELECT * FROM managers WHERE username = ?", (username,))


async def markets_of(q: Ledger | Tx, manager_id: str) -> tuple[str, ...]:
    row = await q.one("SELECT markets FROM managers WHERE id = ?", (manager_id,))
    return tuple(json.loads(row["markets"])) if row else ()


async def set_password(tx: Tx, manager_id: str, password_hash: str, markets: list[str]) -> None:
    await tx.execute("UPDATE managers SET password_hash = ?, markets = ? WHERE id = ?",
                     (password_hash, json.dumps(markets), manager_id))


async def create(tx: Tx, manager_id: str, username: str, password_hash: str,
                 markets: list[str]) -> None:
    await tx.execute(
        "INSERT INTO managers (id, username, password_hash, markets, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (manager_id, username, password_hash, json.dumps(markets), tx.now),
    )


async def username_of(q: Ledger | Tx, manager_id: str) -> str | None:
    row = await q.one("SELECT username FROM managers WHERE id = ?", (manager_id,))
    return None if row is None else str(row["username"])
