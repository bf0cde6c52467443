"""Reading the audit log of managers' actions: a market's managers page through it, newest
first (``GET /markets/{m}/audit?limit=N&before=ID``)."""

from __future__ import annotations

from typing import Any

from gigmarket.core.errors import ValidationError
from gigmarket.services.auth import require_market
from gigmarket.services.context import Context, Principal
from gigmarket.store import audit as audit_log

MAX_LIMIT = 500


def _int_param(value: str | None, name: str, default: int | None, low: int,
               high: int) -> int | None:
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}",
                              code="bad_value", field=name)
    return int(value)


async def page(ctx: Context, principal: Principal, market_id: str, limit: str | None,
               before: str | None) -> dict[str, Any]:
    require_market(principal, market_id)
    n = _int_param(limit, "limit", 100, 1, MAX_LIMIT)
    assert n is not None
    below = _int_param(before, "before", None, 1, 2**62)
    entries = await audit_log.page(ctx.ledger, market_id, limit=n + 1, before=below)
    more = len(entries) > n
    entries = entries[:n]
    return {
        "items": [{
            "id": e.id, "at": ctx.iso(e.at, e.market_id),
            "manager": {"id": e.manager_id, "username": e.manager_username},
            "action": e.action, "target": {"kind": e.target_kind, "id": e.target_id},
            "market_id": e.market_id, "address": e.address, "detail": e.detail,
        } for e in entries],
        "next": entries[-1].id if more else None,
    }
