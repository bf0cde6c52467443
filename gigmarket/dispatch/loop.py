"""The dispatcher: for each market it can lease, rounds on a timer and on a kick, expiry
sweeps, and the managers' once-a-second figures.

Exactly one process runs a market's rounds at a time: the lease (a Redis key with a fencing
token numbered by the ledger) is renewed every second by its own task, whatever a round is doing;
offers are created only under the token (the Lua gate checks it), so a dispatcher that stalls
past its lease cannot write after its successor starts.

Redis may vanish or come back empty at any moment (issue 8): every loop here survives that, the
kick listener resubscribes with backoff, and a market whose pools are gone (no ``built`` mark:
FLUSHALL, or a Redis that ``serve`` restarted empty) is rebuilt from the ledger by the next turn
of its loop, within a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gigmarket import codec, protocol
from gigmarket.cancellation import raise_if_cancelled
from gigmarket.core.errors import DomainError, NotFoundError
from gigmarket.core.market import Market, Rules
from gigmarket.core.model import OfferState
from gigmarket.dispatch.pools import MarketPools
from gigmarket.dispatch.round import run_round
from gigmarket.dispatch.solver import Solver, SolverDied
from gigmarket.services import jobs as job_service
from gigmarket.services import lifecycle, market_rules
from gigmarket.services import markets as market_service
from gigmarket.services import offers as offer_service
from gigmarket.services.context import Context, market_recipient
from gigmarket.services.live_records import rebuild_market
from gigmarket.store import keys, lease_tokens, recoveries
from gigmarket.store.channels import Feed
from gigmarket.store.ledger import LedgerUnavailable
from gigmarket.store.recoveries import Recovery

log = logging.getLogger("gigmarket.dispatch")

#: A dead dispatcher's markets are free this long after its last renewal: short, so a restarted
#: dispatcher (or another one) takes over within seconds; renewals run every LEASE_RENEW_S in
#: their own task, so a long round does not let the lease lapse.
LEASE_TTL_S = 4.0
LEASE_RENEW_S = 1.0
#: A dispatcher counts as alive this long after its last announcement (every LEASE_RENEW_S):
#: a dead one's share goes to the others after at most this plus the lease's TTL.
ANNOUNCE_TTL_S = 5.0
#: Backoff of the kick subscription after Redis went away: first retry, ceiling.
RESUBSCRIBE_S = (0.1, 2.0)
#: Expiry sweeps at least this often: an offer closes within this much of its deadline.
SWEEP_INTERVAL_S = 0.25
STATS_INTERVAL_S = 1.0
#: Rounds between full ones look only near what changed (issue 13); a full round this often
#: re-judges everyone (waiting times and fairness weigh in the costs as the day goes on).
FULL_ROUND_S = 30.0
PRUNE_INTERVAL_S = 300.0
#: Unconfirmed completions are checked this often (their deadline is hours, not seconds).
DISPUTE_SWEEP_INTERVAL_S = 1.0

#: Redis is unreachable: expected during a fault, logged as one line, not a traceback.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError)


def share(markets: int, dispatchers: int) -> int:
    """The most markets one of ``dispatchers`` live dispatchers holds: ceil(M / N) (SPEC 11.6)."""
    return -(-markets // max(1, dispatchers))


class Dispatcher:
    def __init__(self, ctx: Context, solver: Solver, markets: list[Market] | None = None) -> None:
        self.ctx = ctx
        self.solver = solver
        self.markets = markets or list(ctx.settings.markets.values())
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._kicks = {m.id: asyncio.Event() for m in self.markets}
        self.tokens: dict[str, str] = {}
        #: Markets this dispatcher may hold now: its share among the live dispatchers.
        self.quota = len(self.markets)
        self._counting: set[asyncio.Task[None]] = set()
        #: Each market's pools, kept between rounds (issue 13).
        self.pools = {m.id: MarketPools(m.id) for m in self.markets}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._listen_kicks())
            tg.create_task(self._lease_loop())
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
        """Kicks from web processes, on each market's channel (sharded on a Cluster); the feed
        resubscribes with backoff whenever Redis drops us (a dropped subscription used to end
        the whole dispatcher, issue 8)."""
        channels = {keys.kick(m.id): m.id for m in self.markets}

        def on_kick(channel: str, data: str) -> None:
            market_id = channels.get(channel)
            if market_id:
                self._kicks[market_id].set()

        feed = Feed(self.ctx.live, on_kick, self._kicks_lost)
        try:
            while True:
                raise_if_cancelled()
                try:
                    await feed.start()
                    await feed.add(*channels)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    log.warning("kick subscription not made (%r); retrying", e)
                    await asyncio.sleep(RESUBSCRIBE_S[1])
            # Kicks sent before we listened are lost: run a round now instead.
            self._kicks_lost()
            await asyncio.Event().wait()
        finally:
            await feed.aclose()

    def _kicks_lost(self) -> None:
        log.info("kick subscription (re)made: a round in each market")
        for event in self._kicks.values():
            event.set()

    async def _lease_loop(self) -> None:
        while True:
            raise_if_cancelled()
            try:
                alive = await self.ctx.live.announce_dispatcher(self.owner, ANNOUNCE_TTL_S)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                alive = 0  # unknown: keep what we hold, take nothing new
                log.debug("dispatcher announcement not made (%r)", e)
            self.quota = share(len(self.markets), alive) if alive else len(self.tokens)
            # Hand back what is over our share (another dispatcher joined): the successor
            # takes it at its next turn, its gate fenced by a new token.
            for market_id in sorted(self.tokens)[self.quota:]:
                token = self.tokens.pop(market_id)
                log.info("handing %s over (%d dispatchers share %d markets)",
                         market_id, alive, len(self.markets))
                with contextlib.suppress(Exception):
                    await self.ctx.live.release_lease(market_id, token)
            for market in self.markets:
                if market.id not in self.tokens and len(self.tokens) >= self.quota:
                    continue  # our share is full: leave it to another dispatcher
                try:
                    await self._hold_lease(market)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    # Redis unreachable: keep the token, so that a short blip ends with our own
                    # lease renewed (the gate refuses our rounds meanwhile anyway); a lease
                    # lapsed or taken meanwhile is found out at the next renewal.
                    log.debug("lease of %s not renewed (%r)", market.id, e)
            await asyncio.sleep(LEASE_RENEW_S)

    async def _next_token(self, market_id: str) -> int:
        return await lease_tokens.next_token(self.ctx.ledger, market_id)

    async def _hold_lease(self, market: Market) -> bool:
        held = self.tokens.get(market.id, "")
        token = await self.ctx.live.lease(market.id, held, self.owner, LEASE_TTL_S,
                                          fresh=lambda: self._next_token(market.id))
        if token is None:
            if self.tokens.pop(market.id, None):
                log.warning("lost the lease of %s", market.id)
            return False
        if token != held:
            log.info("holding the lease of %s (%s)", market.id, token)
            # Another dispatcher may have run the market meanwhile: read it afresh.
            self.pools[market.id].invalidate()
            # Counted aside: a busy ledger must not hold up the other markets' renewals.
            task = asyncio.create_task(self._count(Recovery.LEASE_CHANGE))
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)
        self.tokens[market.id] = token
        return True

    async def _count(self, kind: Recovery) -> None:
        with contextlib.suppress(Exception):
            await recoveries.count(self.ctx.ledger, kind)

    async def _ensure_built(self, market: Market) -> None:
        if await self.ctx.live.is_built(market.id):
            return
        counts = await rebuild_market(self.ctx, market.id)
        log.info("rebuilt %s from the ledger: %s", market.id, counts)
        await recoveries.count(self.ctx.ledger, Recovery.REBUILD)
        self._kicks[market.id].set()  # its waiting workers need not wait for the timer

    async def _market_loop(self, market: Market) -> None:
        kick = self._kicks[market.id]
        next_round = 0.0
        next_full = 0.0
        judged_by: Rules | None = None
        next_disputes = 0.0
        failing = False
        while True:
            raise_if_cancelled()
            try:
                if market.id not in self.tokens:
                    await asyncio.sleep(SWEEP_INTERVAL_S)
                    continue
                await self._ensure_built(market)
                await self._sweep(market)
                # The rules in force now: a manager's change (committed before its kick)
                # applies from the very next round (issue 12).
                await market_rules.refresh(self.ctx)
                market = self.ctx.market(market.id)
                rules = market.rules
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
                    token = self.tokens.get(market.id)
                    if token is None:  # lost meanwhile (the lease task noticed first)
                        continue
                    # New rules (reach, wage floor) change who fits whom everywhere.
                    full = time.monotonic() >= next_full or rules != judged_by
                    figures = await run_round(self.ctx, market, token, self.solver,
                                              self.pools[market.id], full=full)
                    if full:
                        next_full = time.monotonic() + FULL_ROUND_S
                        judged_by = rules
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
                if failing:
                    log.info("dispatch of %s running again", market.id)
                    failing = False
            except asyncio.CancelledError:
                raise
            except (*REDIS_DOWN, SolverDied, LedgerUnavailable) as e:
                # A fault the supervisors repair, or the ledger's server away until it is back:
                # one line, not a traceback per turn.
                if not failing:
                    log.warning("dispatch of %s interrupted (%r); retrying", market.id, e)
                failing = True
                await asyncio.sleep(0.5)
            except ResponseError as e:
                if "fenced" not in str(e):
                    log.exception("dispatch loop of %s failed; retrying", market.id)
                else:
                    # The lease changed under the round (Redis lost it, or a successor took
                    # it): the gate refused every offer, which is its job.
                    log.warning("round of %s fenced: the lease changed; nothing was offered",
                                market.id)
                    self.tokens.pop(market.id, None)
                failing = True
                await asyncio.sleep(0.5)
            except Exception:
                log.exception("dispatch loop of %s failed; retrying", market.id)
                failing = True
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
            raise_if_cancelled()
            held = [m.id for m in self.markets if m.id in self.tokens]
            try:
                # Only where a manager watches (issue 11): with hundreds of markets, figures
                # nobody reads would cost more than the rounds.
                watched = await self.ctx.live.watched(held)
            except REDIS_DOWN:
                watched = set()  # the market loop says so once; figures resume with Redis
            for market_id in held:
                if market_id not in watched:
                    continue
                try:
                    figures = await market_service.stats(self.ctx, market_id)
                    # Figures are a state, not history: they are not stored for replay.
                    payload = [{"r": market_recipient(market_id), "e": True,
                                "m": protocol.stats(figures)}]
                    await self.ctx.live.publish_market(keys.fanout(market_id),
                                                       codec.dumps(payload))
                except REDIS_DOWN:
                    pass
                except Exception:
                    log.exception("stats of %s failed", market_id)
            await asyncio.sleep(STATS_INTERVAL_S)

    async def _prune_loop(self) -> None:
        while True:
            raise_if_cancelled()
            await asyncio.sleep(PRUNE_INTERVAL_S)
            try:
                n = await self.ctx.ledger.prune_messages(
                    self.ctx.settings.history_per_recipient)
                if n:
                    log.info("pruned %d old websocket messages", n)
            except Exception:
                log.exception("pruning failed")

    async def release(self, timeout_s: float = 2.0) -> None:
        """Free our leases for a successor; bounded, as Redis may be the thing that is gone."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout_s):
                # Out of the count first, so the others' shares grow as our leases free up.
                await self.ctx.live.retire_dispatcher(self.owner)
                for market_id, token in list(self.tokens.items()):
                    await self.ctx.live.release_lease(market_id, token)
        self.tokens.clear()
