"""Markets' rules as changed from the console: the current overrides and their history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gigmarket.store.ledger import Ledger, Tx


@dataclass(frozen=True, slots=True)
class StoredRules:
    market_id: str
    overrides: dict[str, Any]
    version: int
    changed_by: str
    changed_at: float


async def all_rules(ledger: Ledger) -> dict[str, StoredRules]:
    rows = await ledger.all("SELECT * FROM market_rules")
    return {r["market_id"]: StoredRules(r["market_id"], json.loads(r["overrides"]),
                                        int(r["version"]), r["changed_by"],
                                        float(r["changed_at"])) for r in rows}


async def versions(ledger: Ledger) -> dict[str, int]:
    """Each changed market's version: cheap enough to ask every second."""
    rows = await ledger.all("SELECT market_id, version FROM market_rules")
    return {r["market_id"]: int(r["version"]) for r in rows}


async def save(tx: Tx, market_id: str, change: dict[str, Any], manager_id: str,
               before: dict[str, Any]) -> StoredRules:
    """Merge ``change`` into the market's overrides and log who changed what, from what."""
    row = await tx.one("SELECT overrides, version FROM market_rules WHERE market_id = ?",
                       (market_id,))
    overrides = {**(json.loads(row["overrides"]) if row else {}), **change}
    version = (int(row["version"]) if row else 0) + 1
    await tx.execute(
        "INSERT INTO market_rules (market_id, overrides, version, changed_by, changed_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (market_id) DO UPDATE SET"
        " overrides = excluded.overrides, version = excluded.version,"
        " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        (market_id, json.dumps(overrides, sort_keys=True), version, manager_id, tx.now),
    )
    await tx.event("market.rules_changed", market_id=market_id, actor=manager_id,
                   subject=market_id, event_id=f"rules:{market_id}:{version}",
                   payload={"version": version, "changed": change,
                            "before": {k: before.get(k) for k in change}})
    return StoredRules(market_id, overrides, version, manager_id, tx.now)


async def history(ledger: Ledger, market_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest changes, newest first, with the manager's name."""
    rows = await ledger.all(
        "SELECT e.at, e.actor, e.payload, m.username FROM events e"
        " LEFT JOIN managers m ON m.id = e.actor"
        " WHERE e.market_id = ? AND e.type = 'market.rules_changed'"
        " ORDER BY e.seq DESC LIMIT ?", (market_id, limit))
    return [{"at": float(r["at"]), "manager": {"id": r["actor"], "username": r["username"]},
             **json.loads(r["payload"])} for r in rows]


async def username(ledger: Ledger, manager_id: str) -> str | None:
    row = await ledger.one("SELECT username FROM managers WHERE id = ?", (manager_id,))
    return str(row["username"]) if row else None
