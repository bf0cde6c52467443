"""The dispatcher: for each market it can lease, rounds on a timer and on a kick, expiry
sweeps, and the managers' once-a-second figures.

Exactly one process runs a market's rounds at a time: the lease (a Redis key with a fencing
token) is renewed every loop; offers are created only under the token (the Lua gate checks it),
so a dispatcher that stalls past its lease cannot write after its successor starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time

from gigmarket.core.errors import DomainError, NotFoundError
from gigmarket.core.market import Market
from gigmarket.core.model import OfferState
from gigmarket.dispatch.round import run_round
from gigmarket.dispatch.solver import Solver
from gigmarket.services import jobs as job_service
from gigmarket.services import lifecycle
from gigmarket.services import markets as market_service
from gigmarket.services import offers as offer_service
from gigmarket.services.context import Context, market_recipient
from gigmarket.services.live_records import rebuild_market
from gigmarket.store import keys

log = logging.getLogger("gigmarket.dispatch")

LEASE_TTL_S = 10.0
#: Expiry sweeps at least this often: an offer closes within this much of its deadline.
SWEEP_INTERVAL_S = 0.25
STATS_INTERVAL_S = 1.0
PRUNE_INTERVAL_S = 300.0
#: Unconfirmed completions are checked this often (their deadline is hours, not seconds).
DISPUTE_SWEEP_INTERVAL_S = 1.0


class Dispatcher:
    def __init__(self, ctx: Context, solver: Solver, markets: list[Market] | None = None) -> None:
        self.ctx = ctx
        self.solver = solver
        self.markets = markets or list(ctx.settings.markets.values())
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._kicks = {m.id: asyncio.Event() for m in self.markets}
        self.tokens: dict[str, str] = {}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._listen_kicks())
            for market in self.markets:
                tg.create_task(self._market_loop(market))
            tg.create_task(self._stats_loop())
            tg.create_task(self._prune_loop())

    async def kick(self, market_id: str) -> None:
        """In-process kick (a dispatcher embedded with the web process, and tests)."""
        event = self._kicks.get(market_id)
        if event is not None:
            event.set()

    async def _listen_kicks(self) -> None:
        pubsub = self.ctx.live.redis.pubsub()
        channels = {keys.kick(m.id): m.id for m in self.markets}
        await pubsub.subscribe(*channels)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    market_id = channels.get(message["channel"])
                    if market_id:
                        self._kicks[market_id].set()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _hold_lease(self, market: Market) -> bool:
        token = await self.ctx.live.lease(market.id, self.tokens.get(market.id, ""), self.owner,
                                          LEASE_TTL_S)
        if token is None:
            if self.tokens.pop(market.id, None):
                log.warning("lost the lease of %s", market.id)
            return False
        if market.id not in self.tokens:
            log.info("holding the lease of %s (%s)", market.id, token)
            if not await self.ctx.live.is_built(market.id):
                counts = await rebuild_market(self.ctx, market.id)
                log.info("rebuilt %s from the ledger: %s", market.id, counts)
        self.tokens[market.id] = token
        return True

    async def _market_loop(self, market: Market) -> None:
        kick = self._kicks[market.id]
        rules = market.rules
        next_round = 0.0
        next_disputes = 0.0
        while True:
            try:
                if not await self._hold_lease(market):
                    await asyncio.sleep(1.0)
                    continue
                await self._sweep(market)
                now = time.monotonic()
                if now >= next_disputes:
                    next_disputes = now + DISPUTE_SWEEP_INTERVAL_S
                    opened = await lifecycle.open_overdue_disputes(self.ctx, market.id)
                    if opened:
                        log.info("%s: %d unconfirmed completions became disputes",
                                 market.id, opened)
                    expired = await job_service.expire_stale_jobs(self.ctx, market.id)
                    if expired:
                        log.info("%s: %d jobs expired unfilled", market.id, expired)
                if kick.is_set() or now >= next_round:
                    if kick.is_set():
                        # Debounce: a burst of posts and check-ins becomes one round.
                        await asyncio.sleep(rules.debounce_ms / 1000)
                    kick.clear()
                    figures = await run_round(self.ctx, market, self.tokens[market.id],
                                              self.solver)
                    if figures.offers:
                        log.info("round %s: %d offers (%d workers, %d jobs, %.0f ms)",
                                 market.id, figures.offers, figures.workers, figures.jobs,
                                 figures.total_ms)
                    next_round = time.monotonic() + rules.batch_interval_s
                timeout = max(0.0, min(SWEEP_INTERVAL_S, next_round - time.monotonic()))
                # asyncio.timeout, not wait_for: on 3.11 wait_for can turn a cancellation that
                # lands during its own timeout into TimeoutError, which this loop would swallow
                # and the dispatcher would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await kick.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch loop of %s failed; retrying", market.id)
                await asyncio.sleep(1.0)

    async def _sweep(self, market: Market) -> None:
        for offer_id in await self.ctx.live.due_offers(market.id):
            try:
                await offer_service.close(self.ctx, offer_id, OfferState.EXPIRED,
                                          only_if_expired=True)
            except NotFoundError:
                # Gated in Redis but never recorded: a dispatcher died between the gate and
                # the ledger. Drop it from the live store, or its worker stays "offered".
                with contextlib.suppress(DomainError):
                    await self.ctx.live.close_offer(market.id, offer_id, only_if_expired=True)
                log.warning("dropped offer %s: in the live store, not in the ledger", offer_id)
            except DomainError as e:
                # Accepted or declined in the same instant: theirs won; nothing to expire.
                log.debug("not expiring %s: %s", offer_id, e)

    async def _stats_loop(self) -> None:
        while True:
            for market in self.markets:
                if market.id not in self.tokens:
                    continue
                try:
                    figures = await market_service.stats(self.ctx, market.id)
                    # Figures are a state, not history: they are not stored for replay.
                    payload = [{"r": market_recipient(market.id), "e": True,
                                "m": {"type": "stats", "stats": figures}}]
                    await self.ctx.live.publish(keys.FANOUT,
                                                json.dumps(payload, ensure_ascii=False))
                except Exception:
                    log.exception("stats of %s failed", market.id)
            await asyncio.sleep(STATS_INTERVAL_S)

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_INTERVAL_S)
            try:
                n = await self.ctx.ledger.prune_messages(
                    self.ctx.settings.history_per_recipient)
                if n:
                    log.info("pruned %d old websocket messages", n)
            except Exception:
                log.exception("pruning failed")

    async def release(self) -> None:
        for market_id, token in list(self.tokens.items()):
            with contextlib.suppress(Exception):
                await self.ctx.live.release_lease(market_id, token)
        self.tokens.clear()
