"""The append-only audit log of managers' actions (issue 9): who did what, to whom, when and
from which address, in which market. The table refuses UPDATE and DELETE (schema triggers);
rows are written in the same transaction as the change they record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gigmarket.store.ledger import Ledger, Tx, dumps


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    manager_id: str
    manager_username: str | None
    action: str
    target_kind: str
    target_id: str
    market_id: str
    address: str | None
    detail: dict[str, Any]


async def append(tx: Tx, *, manager_id: str, action: str, target_kind: str, target_id: str,
                 market_id: str, address: str | None, detail: dict[str, Any]) -> None:
    await tx.execute(
        "INSERT INTO audit_log (at, manager_id, action, target_kind, target_id, market_id,"
        " address, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (tx.now, manager_id, action, target_kind, target_id, market_id, address, dumps(detail)))


async def page(db: Ledger | Tx, market_id: str, *, limit: int,
               before: int | None) -> list[AuditEntry]:
    """The market's entries, newest first, with ids below ``before`` when given."""
    rows = await db.all(
        "SELECT a.*, m.username FROM audit_log a LEFT JOIN managers m ON m.id = a.manager_id"
        " WHERE a.market_id = ? AND a.id < ? ORDER BY a.id DESC LIMIT ?",
        (market_id, before if before is not None else 2**62, limit))
    return [AuditEntry(id=int(r["id"]), at=float(r["at"]), manager_id=r["manager_id"],
                       manager_username=r["username"], action=r["action"],
                       target_kind=r["target_kind"], target_id=r["target_id"],
                       market_id=r["market_id"], address=r["address"],
                       detail=json.loads(r["detail"])) for r in rows]
