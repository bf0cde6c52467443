"""Market tenancy (SPEC 11.3): the one check every manager action makes, and the audit row
every manager action writes.

A manager acts on a worker, an employer, a job, a kiosk, a report, a dispute or a certificate
only when that object belongs to one of their markets. Workers and employers may belong to
several markets (``gigmarket.store.membership``); the markets a manager may act in are the
intersection, and a change that concerns markets (a suspension, the ledger event) is made in
those markets only.

Usage, in a service::

    markets = await require_manager_of(ctx, principal, "employer", employer_id)
    async with ctx.ledger.transaction() as tx:
        ...change...
        await audit(tx, principal, "employer.verify", "employer", employer_id, markets)

Certificates belong to their worker: check them with ``kind="worker"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from gigmarket.core.errors import ForbiddenError, NotFoundError
from gigmarket.core.model import Role
from gigmarket.services.auth import require
from gigmarket.services.context import Context, Principal
from gigmarket.store import audit as audit_log
from gigmarket.store import membership
from gigmarket.store.ledger import Tx

TargetKind = Literal["worker", "employer", "job", "kiosk", "report", "dispute", "assignment",
                     "market"]


async def markets_of(ctx: Context, kind: TargetKind, target_id: str) -> tuple[str, ...]:
    """The markets the object belongs to; :class:`NotFoundError` when there is no such object."""
    if kind == "market":
        ctx.market(target_id)
        return (target_id,)
    if kind in ("worker", "employer"):
        if not await membership.exists(ctx.ledger, kind, target_id):
            raise NotFoundError(f"no such {kind}", field=f"{kind}_id")
        return await membership.markets_of(ctx.ledger, kind, target_id)
    market_id = await membership.market_of(ctx.ledger, kind, target_id)
    if market_id is None:
        raise NotFoundError(f"no such {kind}", field=f"{kind}_id")
    return (market_id,)


async def require_manager_of(ctx: Context, principal: Principal, kind: TargetKind,
                             target_id: str) -> tuple[str, ...]:
    """The caller's markets that the object belongs to; 403 ``not_your_market`` when none."""
    require(principal, Role.MANAGER)
    mine = tuple(m for m in await markets_of(ctx, kind, target_id) if m in principal.markets)
    if not mine:
        raise ForbiddenError(f"this {kind} does not belong to your market",
                             code="not_your_market", field=f"{kind}_id")
    return mine


async def audit(tx: Tx, principal: Principal, action: str, kind: TargetKind, target_id: str,
                markets: Iterable[str], **detail: Any) -> None:
    """One audit row per affected market, in the transaction that makes the change."""
    for market_id in sorted(set(markets)):
        await audit_log.append(tx, manager_id=principal.user_id, action=action,
                               target_kind=kind, target_id=target_id, market_id=market_id,
                               address=principal.address, detail=detail)
