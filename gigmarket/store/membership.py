"""Which markets a worker or an employer belongs to (SPEC 11.3), where an employer is
suspended, and the workers of a market the desk may look up.

A worker belongs to each market they have checked in to or registered at (a kiosk); an
employer to each market it has posted in, and to the market whose manager verified it (its
registration, before any posting).
Membership only grows: a manager keeps authority over someone who once worked in their market,
for disputes and reports that come later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from gigmarket.store.ledger import Ledger, Row, Tx

MemberKind = Literal["worker", "employer"]


async def join(tx: Tx, kind: MemberKind, member_id: str, market_id: str) -> None:
    """Record that ``member_id`` belongs to ``market_id`` (a no-op when it already does)."""
    await tx.execute(
        "INSERT OR IGNORE INTO market_members (kind, member_id, market_id, since)"
        " VALUES (?, ?, ?, ?)", (kind, member_id, market_id, tx.now))
    tx.joined.add((f"{kind}:{member_id}", market_id))


async def markets_of(db: Ledger | Tx, kind: MemberKind, member_id: str) -> tuple[str, ...]:
    """The markets ``member_id`` belongs to, sorted."""
    rows = await db.all("SELECT market_id FROM market_members WHERE kind = ? AND member_id = ?"
                        " ORDER BY market_id", (kind, member_id))
    return tuple(str(r["market_id"]) for r in rows)


async def members_without_market(db: Ledger | Tx, kind: MemberKind,
                                 member_ids: list[str]) -> set[str]:
    """Those of ``member_ids`` that belong to no market yet."""
    if not member_ids:
        return set()
    marks = ",".join("?" * len(member_ids))
    rows = await db.all(f"SELECT DISTINCT member_id FROM market_members WHERE kind = ?"
                        f" AND member_id IN ({marks})", (kind, *member_ids))
    return set(member_ids) - {str(r["member_id"]) for r in rows}


async def suspend_employer_in(tx: Tx, employer_id: str, market_id: str,
                              manager_id: str) -> None:
    await tx.execute(
        "INSERT OR IGNORE INTO employer_suspensions (employer_id, market_id, at, by_manager)"
        " VALUES (?, ?, ?, ?)", (employer_id, market_id, tx.now, manager_id))


async def employer_suspended_in(db: Ledger | Tx, employer_id: str) -> tuple[str, ...]:
    """The markets that suspended ``employer_id``, sorted."""
    rows = await db.all("SELECT market_id FROM employer_suspensions WHERE employer_id = ?"
                        " ORDER BY market_id", (employer_id,))
    return tuple(str(r["market_id"]) for r in rows)


#: Objects that live in exactly one market, by the table that holds them.
_SINGLE_MARKET_TABLES = {"job": "jobs", "dispute": "disputes", "report": "reports",
                         "kiosk": "kiosks", "assignment": "assignments"}


async def market_of(db: Ledger | Tx, kind: str, object_id: str) -> str | None:
    """The market of a job, dispute, report, kiosk or assignment; ``None`` when there is none."""
    table = _SINGLE_MARKET_TABLES[kind]
    row = await db.one(f"SELECT market_id FROM {table} WHERE id = ?", (object_id,))
    return None if row is None else str(row["market_id"])


async def exists(db: Ledger | Tx, kind: MemberKind, member_id: str) -> bool:
    table = "workers" if kind == "worker" else "employers"
    return await db.one(f"SELECT 1 FROM {table} WHERE id = ?", (member_id,)) is not None


async def members_of(db: Ledger | Tx, kind: MemberKind, market_id: str) -> set[str]:
    """Every worker or employer that belongs to ``market_id``."""
    rows = await db.all("SELECT member_id FROM market_members WHERE kind = ? AND market_id = ?",
                        (kind, market_id))
    return {str(r["member_id"]) for r in rows}


async def search_workers(db: Ledger | Tx, markets: Sequence[str], text: str,
                         limit: int) -> list[Row]:
    """Workers of ``markets`` whose ID number ends with ``text`` or whose name starts with it."""
    marks = ",".join("?" * len(markets))
    return await db.all(
        "SELECT id, name, id_number_masked, phone, market_id, state, pin_must_change"
        " FROM workers w WHERE (w.id_number_masked LIKE ? OR w.name LIKE ?)"
        " AND EXISTS (SELECT 1 FROM market_members mm WHERE mm.kind = 'worker'"
        f" AND mm.member_id = w.id AND mm.market_id IN ({marks}))"
        " ORDER BY w.name LIMIT ?",
        ("%" + _like(text), _like(text) + "%", *markets, limit))


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")
