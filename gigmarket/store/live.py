"""The live store: a market's pools in Redis, and the atomic gates (Lua) on them.

Redis holds what dispatch needs fast and what several processes must agree on at once: who is
available, which jobs have free slots, the pending offers and their clocks, the pairs never to
offer again, the round lease. The SQLite ledger remains the truth; every gate here is followed
by a ledger transaction that re-checks, and anything the ledger refuses is put back in line
with it (:meth:`LiveStore.rebuild`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ResponseError

from gigmarket import codec
from gigmarket.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from gigmarket.store import keys

log = logging.getLogger("gigmarket.live")

#: Offers gated per script call: a few hundred keep each call to a few ms of Redis time.
OFFER_BATCH = 250


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


def _drop_routing_keys(client: RedisCluster) -> None:
    """redis-py 8.1's Cluster MULTI hands the ``keys=`` routing hint on to the reply parsers
    (``SMEMBERS``' then fails with a TypeError), where a plain command removes it first; the
    parsers here take it and let it go."""
    def tolerant(parse: Callable[..., Any]) -> Callable[..., Any]:
        def parse_without_keys(response: Any, **kwargs: Any) -> Any:
            kwargs.pop("keys", None)
            return parse(response, **kwargs)
        return parse_without_keys

    for command, parse in list(client.response_callbacks.items()):
        client.response_callbacks[command] = tolerant(parse)


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


#: A single Redis, or any node of a Redis Cluster (SPEC 11.6): the live store speaks to both the
#: same way, since every command and script touches the keys of one market (one hash slot) or
#: one key that belongs to no market.
RedisClient = aioredis.Redis | RedisCluster


#: Workers whose presence one script reads (a round's thousand offers: about a millisecond).
PRESENCE_CHUNK = 1000


class LiveStore:
    def __init__(self, client: RedisClient) -> None:
        self.redis = client
        self.cluster = isinstance(client, RedisCluster)
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
        # The change-stream entry is written by the script itself: a Cluster pipeline cannot
        # queue a script, and MULTI around one would be its only reason to exist.
        self._replace_record = client.register_script(
            "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end"
            " redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])"
            " redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'j', ARGV[1]) return 1"
        )
        self._due = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])"
        )
        self._announce = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)"
            " redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])"
            " return redis.call('ZCARD', KEYS[1])"
        )
        self._hit = client.register_script(
            "local n = redis.call('INCR', KEYS[1])"
            " if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
        )

        # Presence (issue 10) is timed by the Redis clock, like offers: web processes on
        # several hosts need not agree on the time.
        self._touch = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)"
            " redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])"
            " redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1"
        )
        # The same for many sockets in one call (standalone Redis): a web process renews all
        # of its sockets every few seconds, and one call each cost its loop ~0.1 ms a socket.
        self._touch_many = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " local ttl = tonumber(ARGV[1])"
            " for i, k in ipairs(KEYS) do"
            " redis.call('ZREMRANGEBYSCORE', k, '-inf', now)"
            " redis.call('ZADD', k, now + ttl, ARGV[i + 1])"
            " redis.call('PEXPIRE', k, ttl) end return #KEYS"
        )
        self._present = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')"
        )
        # The same for many workers in one call: a round asks about thousands, and one command
        # each cost the loop ~45 µs to pack and parse (issue 13: 0.19 s of a 10k x 2k round).
        self._present_many = client.register_script(
            "local t = redis.call('TIME')"
            " local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"
            " local out = {}"
            " for i, k in ipairs(KEYS) do"
            " out[i] = redis.call('ZCOUNT', k, '(' .. now, '+inf') end return out"
        )

    @classmethod
    def from_url(cls, url: str, max_connections: int = 64, *, cluster: bool = False) -> LiveStore:
        # A blocking pool: under a burst (a thousand claims at once) requests wait a moment
        # for a connection instead of failing with "too many connections".
        #
        # Few, quick retries: redis-py's default backs off for seconds per command, which
        # turned a lost Redis into requests hanging and a dispatcher that would not stop
        # (issue 8). A down Redis should fail fast (503) and be noticed by the supervisor.
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 2)
        if cluster:
            # The Cluster client keeps a pool per node and learns the slots from the node named;
            # it has no blocking pool, so its ceiling is set higher than a burst needs.
            client = RedisCluster.from_url(
                url, max_connections=max_connections * 4, decode_responses=True, retry=retry,
                socket_connect_timeout=2)
            _drop_routing_keys(client)
            return cls(client)
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=20, decode_responses=True,
            retry=retry, socket_connect_timeout=2)
        return cls(aioredis.Redis.from_pool(pool))  # owns the pool: aclose closes it

    async def aclose(self) -> None:
        await self.redis.aclose()

    # -- offers -------------------------------------------------------------------------------

    async def create_offers(
        self, market: str, lease_token: str, timeout_s: float,
        items: list[tuple[str, str, str]] | list[tuple[str, str, str, int]],
    ) -> tuple[int, list[str]]:
        """Create ``(offer_id, worker_id, job_id)`` offers that still fit; an item with a
        fourth element runs out after that many ms instead of ``timeout_s``.

        Returns the expiry (ms, Redis clock) of the common timeout and the ids actually made.

        The gate runs in batches of :data:`OFFER_BATCH` (issue 13): one script for a cold
        round's 4,416 offers blocked Redis for 76–172 ms, every other client waiting. Each batch
        is fenced by the lease on its own. A batch fenced after earlier ones went through ends
        the round there: the offers already made were made under our lease and are returned,
        to be recorded like any other.
        """
        keys_ = [
            keys.worker_state(market), keys.worker_offer(market), keys.job_headcount(market),
            keys.job_accepted(market), keys.job_pending(market), keys.offers(market),
            keys.offer_expiry(market), keys.offered_pairs(market), keys.lease(market),
        ]
        timeout_ms = str(int(timeout_s * 1000))
        expires_ms: int | None = None
        made: list[str] = []
        for start in range(0, max(len(items), 1), OFFER_BATCH):
            batch = items[start : start + OFFER_BATCH]
            argv = [lease_token, timeout_ms, codec.dumps(batch),
                    "" if expires_ms is None else str(expires_ms)]
            try:
                result = await self._create(keys=keys_, args=argv)
            except ResponseError as e:
                if expires_ms is None or "fenced" not in str(e):
                    raise
                log.warning("offers of %s fenced after %d of %d: the lease changed",
                            market, start, len(items))
                break
            got = [_s(x) for x in result]
            if expires_ms is None:
                expires_ms = int(got[0])
            made += got[1:]
        assert expires_ms is not None
        return expires_ms, made

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
        # Read by the clock of the node that holds the market (the one its gates use): on a
        # Cluster, TIME sent on its own would go to whichever node the client picks.
        ids = await self._due(keys=[keys.offer_expiry(market)], args=[limit])
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
            note_change(p, market, "w", worker_id)
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
            note_change(p, market, "w", worker_id)
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
            note_change(p, market, "j", job_id)
            await p.execute()

    async def replace_job_record(self, market: str, job_id: str, record: dict[str, Any]) -> bool:
        """Replace an open job's record, leaving its slot counts alone (offers may be moving
        them); a job that has left dispatch meanwhile stays out. True when replaced."""
        done = await self._replace_record(
            keys=[keys.jobs(market), keys.pool_changes(market)],
            args=[job_id, codec.dumps(record), CHANGES_KEPT])
        return bool(done)

    async def close_job(self, market: str, job_id: str) -> None:
        """Take a job out of dispatch; headcount 0 makes every later offer for it not fit."""
        async with self.redis.pipeline(transaction=True) as p:
            p.hdel(keys.jobs(market), job_id)
            p.hset(keys.job_headcount(market), job_id, 0)
            p.hdel(keys.why_job(market), job_id)
            note_change(p, market, "j", job_id)
            await p.execute()

    async def job_taken(self, market: str, job_id: str) -> int:
        """Offers out plus workers hired for a job as the gates count them: an offer a round
        has made counts here before the round's ledger commit does."""
        async with self.redis.pipeline(transaction=True) as p:
            p.hget(keys.job_accepted(market), job_id)
            p.hget(keys.job_pending(market), job_id)
            accepted, pending = await p.execute()
        return int(accepted or 0) + int(pending or 0)

    async def forget_job(self, market: str, job_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            for k in (keys.jobs(market), keys.job_headcount(market), keys.job_accepted(market),
                      keys.job_pending(market), keys.why_job(market)):
                p.hdel(k, job_id)
            note_change(p, market, "j", job_id)
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

    async def allow_pair(self, market: str, worker_id: str, job_id: str) -> None:
        """Let a pair be offered again (its offer expired while the worker was away)."""
        async with self.redis.pipeline(transaction=True) as p:
            p.srem(keys.offered_pairs(market), f"{worker_id}|{job_id}")
            # Both ends count as changed, so a local round (issue 13) looks at the pair again
            # rather than waiting for the next cold round.
            note_change(p, market, "w", worker_id)
            note_change(p, market, "j", job_id)
            await p.execute()

    # -- presence (issue 10) --------------------------------------------------------------------

    async def touch_presence(self, worker_id: str, socket_id: str, ttl_s: float) -> None:
        """The socket ``socket_id`` of ``worker_id`` is live for ``ttl_s`` more seconds."""
        await self._touch(keys=[keys.presence(worker_id)],
                          args=[socket_id, str(int(ttl_s * 1000))])

    async def touch_presence_many(self, held: Sequence[tuple[str, str]], ttl_s: float) -> None:
        """:meth:`touch_presence` for each ``(worker_id, socket_id)``: on a single Redis one
        script per :data:`PRESENCE_CHUNK`; on a Cluster, whose keys sit on several nodes, one
        call each, :data:`PRESENCE_CHUNK` at a time. Raises if any failed."""
        ttl_ms = str(int(ttl_s * 1000))
        for i in range(0, len(held), PRESENCE_CHUNK):
            chunk = held[i : i + PRESENCE_CHUNK]
            if not self.cluster:
                await self._touch_many(keys=[keys.presence(w) for w, _ in chunk],
                                       args=[ttl_ms, *(s for _, s in chunk)])
                continue
            results = await asyncio.gather(
                *(self.touch_presence(w, s, ttl_s) for w, s in chunk), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    raise r

    async def drop_presence(self, worker_id: str, socket_id: str) -> None:
        await self.redis.zrem(keys.presence(worker_id), socket_id)

    async def is_present(self, worker_id: str) -> bool:
        """Whether any web process holds a live socket of the worker."""
        return int(await self._present(keys=[keys.presence(worker_id)])) > 0

    async def present_among(self, worker_ids: list[str]) -> set[str]:
        """The workers of ``worker_ids`` with a live socket somewhere (one round trip)."""
        if not worker_ids:
            return set()
        if not self.cluster:
            # One script per chunk of PRESENCE_CHUNK keys: Redis is never held for long.
            found: set[str] = set()
            for i in range(0, len(worker_ids), PRESENCE_CHUNK):
                chunk = worker_ids[i : i + PRESENCE_CHUNK]
                counts = await self._present_many(keys=[keys.presence(w) for w in chunk])
                found.update(w for w, n in zip(chunk, counts, strict=True) if int(n) > 0)
            return found
        # On a Cluster the workers' keys sit on several nodes: a script cannot span them.
        # One clock reading for all; a heartbeat lives for seconds, far longer than the
        # nodes' clocks differ.
        now_ms = int(await self.now() * 1000)
        async with self.redis.pipeline(transaction=False) as p:
            for w in worker_ids:
                p.zcount(keys.presence(w), f"({now_ms}", "+inf")
            counts = await p.execute()
        return {w for w, n in zip(worker_ids, counts, strict=True) if int(n) > 0}

    # -- claims and reopened slots (issue 5) ------------------------------------------------------

    async def claim_job(self, market: str, worker_id: str, job_id: str, *,
                        offered_before: bool = False) -> bool:
        """Take a free slot of ``job_id`` for ``worker_id``; returns whether the job is now full.

        ``offered_before``: a late take of the pair's own expired offer (issue 14), so the
        pair's mark in the offered set does not refuse it; the caller has checked that the
        ledger's offer of this pair ran out (not declined) within ``late_take_s``.

        Raises :class:`ConflictError` (``job_full``, ``not_available``, ``holding_offer``,
        ``excluded``) when the gate refuses.
        """
        keys_ = [
            keys.worker_state(market), keys.worker_offer(market), keys.job_headcount(market),
            keys.job_accepted(market), keys.job_pending(market), keys.offered_pairs(market),
        ]
        r = [_s(x) for x in await self._claim(keys=keys_, args=[worker_id, job_id,
                                                                 int(offered_before)])]
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

    async def lease(
        self, market: str, token: str, owner: str, ttl_s: float,
        fresh: Callable[[], Awaitable[int]],
    ) -> str | None:
        """Renew ``token`` or take the free lease; the held token, or None (another holds it).

        ``fresh`` gives a number never used for this market before (the ledger's
        :func:`~gigmarket.store.lease_tokens.next_token`); it is called only when the lease is
        free, so waiting dispatchers do not burn numbers.
        """
        ms = str(int(ttl_s * 1000))
        r = await self._lease(keys=[keys.lease(market)], args=[token, ms, owner, ""])
        if r is not None and _s(r) == "free":
            number = await fresh()
            r = await self._lease(keys=[keys.lease(market)], args=[token, ms, owner, str(number)])
        return None if not r else _s(r)

    async def announce_dispatcher(self, owner: str, ttl_s: float) -> int:
        """``owner`` dispatches for ``ttl_s`` more seconds; how many dispatchers are alive now
        (those whose last announcement has not run out, by the Redis clock)."""
        return int(await self._announce(keys=[keys.dispatchers()],
                                        args=[owner, str(int(ttl_s * 1000))]))

    async def retire_dispatcher(self, owner: str) -> None:
        await self.redis.zrem(keys.dispatchers(), owner)

    async def lease_holder(self, market: str) -> tuple[str, int] | None:
        """Who holds the market's lease now, and its token: ``("HOST:PID", N)``."""
        value = await self.redis.get(keys.lease(market))
        if value is None:
            return None
        number, _, owner = _s(value).partition(":")
        return owner, int(number)

    async def release_lease(self, market: str, token: str) -> None:
        # Only our own lease; a compare-and-delete keeps us from freeing a successor's.
        await self.redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1])"
            " end return 0",
            1, keys.lease(market), token,
        )

    async def is_built(self, market: str) -> bool:
        return bool(await self.redis.exists(keys.built(market)))

    async def unbuilt(self, market: str) -> None:
        """The market's pools no longer match the ledger: the dispatcher rebuilds them before
        its next round (it cannot now, the ledger being away)."""
        await self.redis.delete(keys.built(market))

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

    async def mark_watched(self, markets: list[str], ttl_s: float) -> None:
        """Someone watches these markets' live figures for ``ttl_s`` more seconds."""
        if not markets:
            return
        async with self.redis.pipeline(transaction=False) as p:
            for market in markets:
                p.set(keys.watched(market), "1", px=int(ttl_s * 1000))
            await p.execute()

    async def watched(self, markets: list[str]) -> set[str]:
        """Those of ``markets`` someone watches now."""
        if not markets:
            return set()
        async with self.redis.pipeline(transaction=False) as p:
            for market in markets:
                p.exists(keys.watched(market))
            found = await p.execute()
        return {m for m, n in zip(markets, found, strict=True) if int(n)}

    async def kick(self, market: str) -> None:
        await self.publish_market(keys.kick(market), "1")

    async def publish(self, channel: str, payload: str) -> None:
        """To every process listening (a broadcast channel)."""
        await self.redis.publish(channel, payload)

    async def publish_market(self, channel: str, payload: str) -> None:
        """To the processes subscribed to a market's channel: sharded on a Cluster, so only the
        node of the market's slot carries it (a plain PUBLISH is copied to every node)."""
        if isinstance(self.redis, RedisCluster):
            await self.redis.spublish(channel, payload)
        else:
            await self.redis.publish(channel, payload)

    async def clear_hits(self, bucket: str, ident: str) -> None:
        """Forget the attempts counted in a window (the desk reset a forgotten PIN)."""
        await self.redis.delete(keys.rate(bucket, ident))

    async def hit(self, bucket: str, ident: str, limit: int, window_s: int) -> bool:
        """Count one attempt; ``False`` when over ``limit`` in the window (fixed window)."""
        # INCR then EXPIRE on the first hit, atomically; EXPIRE … NX would need Redis 7.
        count = await self._hit(keys=[keys.rate(bucket, ident)], args=[window_s])
        return int(count) <= limit

    async def spent(self, bucket: str, ident: str, limit: int) -> bool:
        """Whether ``limit`` attempts are already counted in the window (counting none)."""
        count = await self.redis.get(keys.rate(bucket, ident))
        return count is not None and int(count) >= limit

    async def refund(self, bucket: str, ident: str) -> None:
        """Give one counted attempt back (a sign-in that succeeded after its code was sent)."""
        key = keys.rate(bucket, ident)
        if int(await self.redis.get(key) or 0) > 0:
            await self.redis.decr(key)


# -- the dispatcher's incremental pools (issue 13, the fast workstream) -----------------------
#
# Every write of a worker's or job's record above also appends its id to the market's change
# stream, in the same MULTI, so the dispatcher can keep decoded pools in memory and re-read only
# what changed. States and slot counts (moved by the Lua gates) are small and read whole.

#: Changes kept per market; a dispatcher further behind than this resyncs from scratch.
CHANGES_KEPT = 20_000


def note_change(p: Any, market: str, kind: str, record_id: str) -> None:
    """Queue ``kind`` (``w`` worker, ``j`` job) ``record_id`` on the change stream of a
    pipeline ``p`` that writes that record."""
    p.xadd(keys.pool_changes(market), {kind: record_id}, maxlen=CHANGES_KEPT, approximate=True)


@dataclass(frozen=True, slots=True)
class PoolCounts:
    """What the gates move, read whole each round, and where the change stream stands."""

    worker_state: dict[str, str]
    headcount: dict[str, int]
    accepted: dict[str, int]
    pending: dict[str, int]
    offered_pairs: set[str]
    #: Changes after the cursor asked for: ``(stream id, kind, record id)``.
    changes: list[tuple[str, str, str]]
    #: The stream's oldest kept id ("" when empty) and newest id ("0-0" when empty).
    first_id: str
    last_id: str
    #: The ``built`` mark: it changes when the pools are rebuilt from the ledger.
    built: str | None


def _ints(values: dict[str, Any]) -> dict[str, int]:
    return {_s(k): int(v) for k, v in values.items()}


async def pool_counts(live: LiveStore, market: str, after: str) -> PoolCounts:
    """One MULTI: states, counts, offered pairs, and the changes after stream id ``after``."""
    stream = keys.pool_changes(market)
    async with live.redis.pipeline(transaction=True) as p:
        p.hgetall(keys.worker_state(market))
        p.hgetall(keys.job_headcount(market))
        p.hgetall(keys.job_accepted(market))
        p.hgetall(keys.job_pending(market))
        p.smembers(keys.offered_pairs(market))
        p.xrange(stream, f"({after}" if after != "0-0" else "-", "+")
        p.xrange(stream, "-", "+", count=1)
        p.xrevrange(stream, "+", "-", count=1)
        p.get(keys.built(market))
        ws, jh, ja, jp, pairs, changes, first, last, built = await p.execute()
    out: list[tuple[str, str, str]] = []
    for sid, fields in changes:
        for kind, rid in fields.items():
            out.append((_s(sid), _s(kind), _s(rid)))
    return PoolCounts(
        worker_state={_s(k): _s(v) for k, v in ws.items()}, headcount=_ints(jh),
        accepted=_ints(ja), pending=_ints(jp), offered_pairs={_s(x) for x in pairs},
        changes=out, first_id=_s(first[0][0]) if first else "",
        last_id=_s(last[0][0]) if last else "0-0", built=None if built is None else _s(built))


async def pool_records(
    live: LiveStore, market: str, worker_ids: list[str], job_ids: list[str]
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The current records (JSON, None when gone) of some workers and jobs."""
    async with live.redis.pipeline(transaction=False) as p:
        p.hmget(keys.workers(market), worker_ids or ["-"])
        p.hmget(keys.jobs(market), job_ids or ["-"])
        w, j = await p.execute()
    return (dict(zip(worker_ids, [None if v is None else _s(v) for v in w], strict=False)),
            dict(zip(job_ids, [None if v is None else _s(v) for v in j], strict=False)))


async def pool_resync(live: LiveStore, market: str) -> tuple[LiveSnapshot, str, str | None]:
    """The whole snapshot with the change stream's newest id and the ``built`` mark, read in
    one MULTI: changes after that id are exactly those the snapshot does not hold."""
    async with live.redis.pipeline(transaction=True) as p:
        p.hgetall(keys.workers(market))
        p.hgetall(keys.worker_state(market))
        p.hgetall(keys.jobs(market))
        p.hgetall(keys.job_headcount(market))
        p.hgetall(keys.job_accepted(market))
        p.hgetall(keys.job_pending(market))
        p.smembers(keys.offered_pairs(market))
        p.xrevrange(keys.pool_changes(market), "+", "-", count=1)
        p.get(keys.built(market))
        w, ws, j, jh, ja, jp, x, last, built = await p.execute()
    snap = LiveSnapshot(worker_json=w, worker_state=dict(ws), job_json=j, headcount=_ints(jh),
                        accepted=_ints(ja), pending=_ints(jp), offered_pairs=set(x))
    return snap, _s(last[0][0]) if last else "0-0", None if built is None else _s(built)


async def forget_pairs(live: LiveStore, market: str, pairs: list[str]) -> None:
    """Drop ``worker|job`` pairs of jobs that have left dispatch for good."""
    for i in range(0, len(pairs), 1000):
        await live.redis.srem(keys.offered_pairs(market), *pairs[i:i + 1000])


async def note_round(
    live: LiveStore, market: str, worker_reasons: dict[str, str], settled_workers: list[str],
    job_reasons: dict[str, str], figures: dict[str, Any],
) -> None:
    """A round's figures, and the reasons of the rows it looked at (not of everyone):
    ``settled_workers`` had an eligible partner, so no stored reason speaks for them now."""
    async with live.redis.pipeline(transaction=True) as p:
        if settled_workers:
            p.hdel(keys.why_worker(market), *settled_workers)
        if worker_reasons:
            p.hset(keys.why_worker(market), mapping=dict(worker_reasons))  # type: ignore[arg-type]
        if job_reasons:
            p.hset(keys.why_job(market), mapping=dict(job_reasons))  # type: ignore[arg-type]
        p.hset(keys.last_round(market), mapping={k: codec.dumps(v) for k, v in figures.items()})
        await p.execute()
