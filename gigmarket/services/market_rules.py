"""A market's rules, changed live from the console (issue 12).

A change is checked (``core.rule_changes``), stored with the manager who made it, and put in
force in this process at once; every other process (web and dispatcher) picks it up within
``WATCH_INTERVAL_S`` by :func:`watch`, which reads one small table. Nothing restarts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from gigmarket.cancellation import raise_if_cancelled
from gigmarket.core import rule_changes
from gigmarket.services.auth import require_market
from gigmarket.services.context import Context, Principal
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.store import market_rules as store
from gigmarket.store.ledger import LedgerUnavailable

log = logging.getLogger("gigmarket.rules")

WATCH_INTERVAL_S = 1.0


async def refresh(ctx: Context) -> None:
    """Put the stored rules of every market in force in this process."""
    stored = await store.all_rules(ctx.ledger)
    live = {}
    for market_id, s in stored.items():
        market = ctx.settings.markets.get(market_id)
        if market is not None:
            live[market_id] = dataclasses.replace(
                market, rules=rule_changes.apply(market.rules, s.overrides))
    ctx.live_markets = live


async def watch(ctx: Context) -> None:
    """Keep this process's rules current: a changed version is reloaded within a second."""
    seen: dict[str, int] | None = None
    while True:
        raise_if_cancelled()
        try:
            now = await store.versions(ctx.ledger)
            if now != seen:
                await refresh(ctx)
                if seen is not None:
                    log.info("market rules changed: %s", now)
                seen = now
        except LedgerUnavailable as e:
            log.warning("reading the market rules failed (%s); keeping the ones in force", e)
        except Exception:
            log.exception("reading the market rules failed; keeping the ones in force")
        await asyncio.sleep(WATCH_INTERVAL_S)


async def _view(ctx: Context, market_id: str) -> dict[str, Any]:
    stored = (await store.all_rules(ctx.ledger)).get(market_id)
    changed = None
    if stored is not None:
        changed = {"version": stored.version, "at": ctx.iso(stored.changed_at, market_id),
                   "manager": {"id": stored.changed_by,
                               "username": await store.username(ctx.ledger, stored.changed_by)}}
    history = await store.history(ctx.ledger, market_id)
    for h in history:
        h["at"] = ctx.iso(h["at"], market_id)
    return {
        "market_id": market_id,
        "rules": rule_changes.editable(ctx.market(market_id).rules),
        "defaults": rule_changes.editable(ctx.settings.markets[market_id].rules),
        "limits": {name: {"min": lim.low, "max": lim.high, "integer": lim.integer,
                          "nullable": lim.nullable}
                   for name, lim in rule_changes.EDITABLE.items()},
        "changed": changed,
        "history": history,
    }


async def get_rules(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    ctx.market(market_id)
    return await _view(ctx, market_id)


async def change_rules(ctx: Context, principal: Principal, market_id: str,
                       body: object) -> dict[str, Any]:
    markets = await require_manager_of(ctx, principal, "market", market_id)
    current = rule_changes.editable(ctx.market(market_id).rules)
    change = rule_changes.parse_change(body, current)
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await store.save(tx, market_id, change, principal.user_id, current)
        await audit(tx, principal, "market.rules", "market", market_id, markets,
                    change=change, before={k: current[k] for k in change})
        # The dispatcher should judge the next round by the new reach and floors.
        tx.kicks.add(market_id)
    await refresh(ctx)
    await ctx.publish(tx)
    return await _view(ctx, market_id)
