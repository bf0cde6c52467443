"""The live store: a market's pools in Redis, and the atomic gates (Lua) on them.

Redis holds what dispatch needs fast and what several processes must agree on at once: who is
available, which jobs have free slots, the pending offers and their clocks, the pairs never to
offer again, the round lease. The SQLite ledger remains the truth; every gate here is followed
by a ledger transaction that re-checks, and anything the ledger refuses is put back in line
with it (:meth:`LiveStore.rebuild`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis

from gigmarket import codec
from gigmarket.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from gigmarket.store import keys


def _script(name: str) -> str:
    return resources.files("gigmarket.store").joinpath(f"lua/{name}.lua").read_text()


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_OFFER_ERRORS: dict[str, type[DomainError]] = {
    "not_found": NotFoundError,
    "not_yours": ForbiddenError,
}

_OFFER_MESSAGES: dict[str, str] = {
    "not_found": "no such pending offer",
    "not_yours": "this offer belongs to another worker",
    "offer_expired": "the offer has expired",
    "job_full": "the job is already full",
    "not_expired": "the offer has not expired yet",
}


_CLAIM_MESSAGES: dict[str, str] = {
    "job_full": "every slot of this job is taken",
    "not_available": "check in at this market first (or finish what you hold)",
    "holding_offer": "answer the offer you hold first",
    "excluded": "this job is not open to you",
}


def _offer_error(code: str) -> DomainError:
    cls = _OFFER_ERRORS.get(code, ConflictError)
    message = _OFFER_MESSAGES.get(code, f"the offer is no longer pending ({code})")
    return cls(message, code=code, field="offer_id")


def _bulk_json(values: dict[str, str]) -> dict[str, dict[str, Any]]:
    # One parse of a JSON array is several times faster than one parse per record, and a
    # round reads ten thousand of them.
    parsed = codec.loads("[" + ",".join(values.values()) + "]")
    return dict(zip(values.keys(), parsed, strict=True))


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """A market's pools as read at one instant (one MULTI); records kept as their JSON."""

    worker_json: dict[str, str]
    worker_state: dict[str, str]
    job_json: dict[str, str]
    headcount: dict[str, int]
    accepted: dict[str, int]
    pending: dict[str, int]
    offered_pairs: set[str]

    @property
    def workers(self) -> dict[str, dict[str, Any]]:
        return _bulk_json(self.worker_json)

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return _bulk_json(self.job_json)


@dataclass(frozen=True, slots=True)
class Accepted:
    job_id: str
    expires_ms: int
    full: bool


class LiveStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._create = client.register_script(_script("offers_create"))
        self._accept = client.register_script(_script("offer_accept"))
        self._close = client.register_script(_script("offer_close"))
        self._lease = client.register_script(_script("lease"))
        self._claim = client.register_script(_script("job_claim"))
        # Give a slot back (a worker cancelled): never below zero, whatever raced before. A
        # job absent from the counts (a rebuild keeps open jobs only, not filled ones) takes
        # the ledger's counts instead.
        self._release_slot = client.register_script(
            "local a = redis.call('HGET', KEYS[1], ARGV[1])"
            " if not a then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])"
            " redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) return tonumber(ARGV[2]) end"
            " if tonumber(a) > 0 then return redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end"
            " return 0"
        )
        self._replace_record = client.register_script(
            "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end"
            " redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1"
        )
        self._hit = client.register_script(
            "local n = redis.call('INCR', KEYS[1])"
            " if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
        )

    @classmethod
    def from_url(cls, url: str, max_connections: int = 64) -> LiveStore:
        # A blocking pool: under a burst (a thousand claims at once) requests wait a moment
        # for a connection instead of failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=20, decode_responses=True)
        return cls(aioredis.Redis.from_pool(pool))  # owns the pool: aclose closes it

    async def aclose(self) -> None:
        await self.redis.aclose()

    # -- offers -------------------------------------------------------------------------------

    async def create_offers(
        self, market: str, lease_token: str, timeout_s: float, items: list[tuple[str, str, str]]
    ) -> tuple[int, list[str]]:
        """Create ``(offer_id, worker_id, job_id)`` offers that still fit.

        Returns the expiry (ms, Redis clock) and the ids actually made.
        """
        argv = [lease_token, str(int(timeout_s * 1000)), codec.dumps(items)]
        keys_ = [
            keys.worker_state(market), keys.worker_offer(market), keys.job_headcount(market),
            keys.job_accepted(market), keys.job_pending(market), keys.offers(market),
            keys.offer_expiry(market), keys.offered_pairs(market), keys.lease(market),
        ]
        result = await self._create(keys=keys_, args=argv)
        made = [_s(x) for x in result]
        return int(made[0]), made[1:]

    async def accept_offer(self, market: str, offer_id: str, worker_id: str) -> Accepted:
        keys_ = [
            keys.offers(market), keys.offer_expiry(market), keys.worker_state(market),
            keys.worker_offer(market), keys.job_headcount(market), keys.job_accepted(market),
            keys.job_pending(market),
        ]
        r = [_s(x) for x in await self._accept(keys=keys_, args=[offer_id, worker_id])]
        if r[0] != "ok":
            raise _offer_error(r[1])
        return Accepted(job_id=r[1], expires_ms=int(r[2]), full=r[3] == "1")

    async def close_offer(
        self, market: str, offer_id: str, *, worker_id: str = "", only_if_expired: bool = False
    ) -> tuple[str, str]:
        """Decline, expire or withdraw: returns ``(worker_id, job_id)``."""
        keys_ = [
            keys.offers(market), keys.offer_expiry(market), keys.worker_state(market),
            keys.worker_offer(market), keys.job_pending(market),
        ]
        args = [offer_id, worker_id, "1" if only_if_expired else "0"]
        r = [_s(x) for x in await self._close(keys=keys_, args=args)]
        if r[0] != "ok":
            raise _offer_error(r[1])
        return r[1], r[2]

    async def due_offers(self, market: str, limit: int = 1000) -> list[str]:
        """Pending offers whose clock ran out (by the Redis clock)."""
        sec, usec = await self.redis.time()
        now_ms = int(sec) * 1000 + int(usec) // 1000
        ids = await self.redis.zrangebyscore(
            keys.offer_expiry(market), "-inf", now_ms, start=0, num=limit
        )
        return [_s(i) for i in ids]

    async def now(self) -> float:
        """The Redis clock, in epoch seconds: the one clock offers are timed by."""
        sec, usec = await self.redis.time()
        return int(sec) + int(usec) / 1e6

    # -- pools --------------------------------------------------------------------------------

    async def put_worker(
        self, market: str, worker_id: str, record: dict[str, Any], state: str = "available"
    ) -> None:
        """Put a checked-in worker in the pool (their record replaced)."""
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(keys.workers(market), worker_id, codec.dumps(record))
            p.hset(keys.worker_state(market), worker_id, state)
            await p.execute()

    async def worker_state(self, market: str, worker_id: str) -> str | None:
        state = await self.redis.hget(keys.worker_state(market), worker_id)
        return None if state is None else _s(state)

    async def worker_pending_offer(self, market: str, worker_id: str) -> str | None:
        oid = await self.redis.hget(keys.worker_offer(market), worker_id)
        return None if oid is None else _s(oid)

    async def remove_worker(self, market: str, worker_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            p.hdel(keys.workers(market), worker_id)
            p.hdel(keys.worker_state(market), worker_id)
            p.hdel(keys.why_worker(market), worker_id)
            await p.execute()

    async def put_job(
        self, market: str, job_id: str, record: dict[str, Any], headcount: int, accepted: int,
        pending: int,
    ) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(keys.jobs(market), job_id, codec.dumps(record))
            p.hset(keys.job_headcount(market), job_id, headcount)
            p.hset(keys.job_accepted(market), job_id, accepted)
            p.hset(keys.job_pending(market), job_id, pending)
            await p.execute()

    async def replace_job_record(self, market: str, job_id: str, record: dict[str, Any]) -> bool:
        """Replace an open job's record, leaving its slot counts alone (offers may be moving
        them); a job that has left dispatch meanwhile stays out. True when replaced."""
        done = await self._replace_record(keys=[keys.jobs(market)],
                                          args=[job_id, codec.dumps(record)])
        return bool(done)

    async def close_job(self, market: str, job_id: str) -> None:
        """Take a job out of dispatch; headcount 0 makes every later offer for it not fit."""
        async with self.redis.pipeline(transaction=True) as p:
            p.hdel(keys.jobs(market), job_id)
            p.hset(keys.job_headcount(market), job_id, 0)
            p.hdel(keys.why_job(market), job_id)
            await p.execute()

    async def forget_job(self, market: str, job_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            for k in (keys.jobs(market), keys.job_headcount(market), keys.job_accepted(market),
                      keys.job_pending(market), keys.why_job(market)):
                p.hdel(k, job_id)
            await p.execute()

    async def snapshot(self, market: str) -> LiveSnapshot:
        async with self.redis.pipeline(transaction=True) as p:
            p.hgetall(keys.workers(market))
            p.hgetall(keys.worker_state(market))
            p.hgetall(keys.jobs(market))
            p.hgetall(keys.job_headcount(market))
            p.hgetall(keys.job_accepted(market))
            p.hgetall(keys.job_pending(market))
            p.smembers(keys.offered_pairs(market))
            w, ws, j, jh, ja, jp, x = await p.execute()
        return LiveSnapshot(
            worker_json=w,
            worker_state=dict(ws),
            job_json=j,
            headcount={k: int(v) for k, v in jh.items()},
            accepted={k: int(v) for k, v in ja.items()},
            pending={k: int(v) for k, v in jp.items()},
            offered_pairs=set(x),
        )

    async def exclude_pairs(self, market: str, pairs: list[tuple[str, str]]) -> None:
        if pairs:
            await self.redis.sadd(keys.offered_pairs(market), *[f"{w}|{j}" for w, j in pairs])

    # -- claims and reopened slots (issue 5) ------------------------------------------------------

    async def claim_job(self, market: str, worker_id: str, job_id: str) -> bool:
        """Take a free slot of ``job_id`` for ``worker_id``; returns whether the job is now full.

        Raises :class:`ConflictError` (``job_full``, ``not_available``, ``holding_offer``,
        ``excluded``) when the gate refuses.
        """
        keys_ = [
            keys.worker_state(market), keys.worker_offer(market), keys.job_headcount(market),
            keys.job_accepted(market), keys.job_pending(market), keys.offered_pairs(market),
        ]
        r = [_s(x) for x in await self._claim(keys=keys_, args=[worker_id, job_id])]
        if r[0] != "ok":
            raise ConflictError(_CLAIM_MESSAGES.get(r[1], r[1]), code=r[1], field="job_id")
        return r[1] == "1"

    async def release_slot(
        self, market: str, job_id: str, record: dict[str, Any], headcount: int,
        accepted: int, pending: int,
    ) -> None:
        """A hired slot is free again: the job back in dispatch with one fewer accepted.

        ``accepted`` and ``pending`` are the ledger's counts after the release, used only when
        the live store holds none for the job.
        """
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(keys.jobs(market), job_id, codec.dumps(record))
            p.hset(keys.job_headcount(market), job_id, headcount)
            await p.execute()
        await self._release_slot(keys=[keys.job_accepted(market), keys.job_pending(market)],
                                 args=[job_id, accepted, pending])

    async def claim_snapshot(
        self, market: str, worker_id: str, job_ids: list[str]
    ) -> LiveSnapshot:
        """One worker and some jobs (at least one), as a round would see them."""
        pairs = [f"{worker_id}|{j}" for j in job_ids]
        async with self.redis.pipeline(transaction=True) as p:
            p.hget(keys.workers(market), worker_id)
            p.hget(keys.worker_state(market), worker_id)
            for k in (keys.jobs(market), keys.job_headcount(market), keys.job_accepted(market),
                      keys.job_pending(market)):
                p.hmget(k, job_ids)
            for pair in pairs:
                p.sismember(keys.offered_pairs(market), pair)
            w, ws, j, jh, ja, jp, *seen = await p.execute()

        def ints(values: list[Any]) -> dict[str, int]:
            return {jid: int(v) for jid, v in zip(job_ids, values, strict=True) if v is not None}

        return LiveSnapshot(
            worker_json={worker_id: _s(w)} if w is not None else {},
            worker_state={worker_id: _s(ws)} if ws is not None else {},
            job_json={jid: _s(v) for jid, v in zip(job_ids, j, strict=True) if v is not None},
            headcount=ints(jh),
            accepted=ints(ja),
            pending=ints(jp),
            offered_pairs={pair for pair, hit in zip(pairs, seen, strict=True) if hit},
        )

    # -- explanations and figures ---------------------------------------------------------------

    async def set_round_result(
        self, market: str, worker_reasons: dict[str, str], job_reasons: dict[str, str],
        figures: dict[str, Any],
    ) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(keys.why_worker(market), keys.why_job(market))
            if worker_reasons:
                p.hset(keys.why_worker(market), mapping=dict(worker_reasons))  # type: ignore[arg-type]
            if job_reasons:
                p.hset(keys.why_job(market), mapping=dict(job_reasons))  # type: ignore[arg-type]
            p.hset(keys.last_round(market), mapping={k: codec.dumps(v) for k, v in figures.items()})
            await p.execute()

    async def why(self, market: str) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
        async with self.redis.pipeline(transaction=False) as p:
            p.hgetall(keys.why_worker(market))
            p.hgetall(keys.why_job(market))
            p.hgetall(keys.last_round(market))
            w, j, r = await p.execute()
        return dict(w), dict(j), {k: codec.loads(v) for k, v in r.items()}

    async def why_worker(self, market: str, worker_id: str) -> str | None:
        r = await self.redis.hget(keys.why_worker(market), worker_id)
        return None if r is None else _s(r)

    async def last_round(self, market: str) -> dict[str, Any]:
        r = await self.redis.hgetall(keys.last_round(market))
        return {_s(k): codec.loads(v) for k, v in r.items()}

    # -- lease, rebuild, signals ----------------------------------------------------------------

    async def lease(self, market: str, token: str, owner: str, ttl_s: float) -> str | None:
        r = await self._lease(
            keys=[keys.lease(market), keys.lease_counter(market)],
            args=[token, str(int(ttl_s * 1000)), owner],
        )
        return None if not r else _s(r)

    async def release_lease(self, market: str, token: str) -> None:
        # Only our own lease; a compare-and-delete keeps us from freeing a successor's.
        await self.redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1])"
            " end return 0",
            1, keys.lease(market), token,
        )

    async def is_built(self, market: str) -> bool:
        return bool(await self.redis.exists(keys.built(market)))

    async def rebuild(
        self,
        market: str,
        workers: dict[str, tuple[dict[str, Any], str]],
        jobs: dict[str, tuple[dict[str, Any], int, int, int]],
        pending_offers: list[tuple[str, str, str, int]],
        offered_pairs: list[tuple[str, str]],
    ) -> None:
        """Replace a market's pools with the ledger's view, in one MULTI."""
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(*keys.market_keys(market))
            for wid, (record, state) in workers.items():
                p.hset(keys.workers(market), wid, codec.dumps(record))
                p.hset(keys.worker_state(market), wid, state)
            for jid, (record, head, acc, pend) in jobs.items():
                p.hset(keys.jobs(market), jid, codec.dumps(record))
                p.hset(keys.job_headcount(market), jid, head)
                p.hset(keys.job_accepted(market), jid, acc)
                p.hset(keys.job_pending(market), jid, pend)
            for oid, w, j, exp_ms in pending_offers:
                p.hset(keys.offers(market), oid, f"{w}|{j}|{exp_ms}|pending")
                p.zadd(keys.offer_expiry(market), {oid: exp_ms})
                p.hset(keys.worker_offer(market), w, oid)
            if offered_pairs:
                p.sadd(keys.offered_pairs(market), *[f"{w}|{j}" for w, j in offered_pairs])
            p.set(keys.built(market), str(time.time()))
            await p.execute()

    async def kick(self, market: str) -> None:
        await self.redis.publish(keys.kick(market), "1")

    async def publish(self, channel: str, payload: str) -> None:
        await self.redis.publish(channel, payload)

    async def hit(self, bucket: str, ident: str, limit: int, window_s: int) -> bool:
        """Count one attempt; ``False`` when over ``limit`` in the window (fixed window)."""
        # INCR then EXPIRE on the first hit, atomically; EXPIRE … NX would need Redis 7.
        count = await self._hit(keys=[keys.rate(bucket, ident)], args=[window_s])
        return int(count) <= limit
