"""Gates in batches (issue 13): a large round's offers are gated by several short scripts,
not one long one, with one common expiry and the fence checked by each batch."""

from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from gigmarket.store import keys
from gigmarket.store import live as live_module
from gigmarket.store.live import OFFER_BATCH, LiveStore
from tests.store.test_live import MARKET, TIMEOUT_S, take_lease


async def script_calls(live: LiveStore) -> int:
    """EVALSHA calls the cluster's nodes have served so far."""
    total = 0
    for node in live.redis.get_primaries():  # type: ignore[union-attr]
        stats = await live.redis.info("commandstats", target_nodes=node)  # type: ignore[call-arg]
        total += int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
    return total


async def fill(live: LiveStore, workers: int, jobs: int, headcount: int) -> None:
    async with live.redis.pipeline(transaction=True) as p:
        for i in range(workers):
            p.hset(keys.workers(MARKET), f"w{i}", "{}")
            p.hset(keys.worker_state(MARKET), f"w{i}", "available")
        for j in range(jobs):
            p.hset(keys.jobs(MARKET), f"j{j}", "{}")
            p.hset(keys.job_headcount(MARKET), f"j{j}", headcount)
            p.hset(keys.job_accepted(MARKET), f"j{j}", 0)
            p.hset(keys.job_pending(MARKET), f"j{j}", 0)
        await p.execute()


async def test_a_large_round_is_gated_in_batches_with_one_expiry(live: LiveStore) -> None:
    """1,000 offers take ceil(1000 / OFFER_BATCH) scripts; all are made, all run out together."""
    await fill(live, 1000, 100, 10)
    token = await take_lease(live)
    items = [(f"o{i}", f"w{i}", f"j{i % 100}") for i in range(1000)]
    await live.create_offers(MARKET, token, TIMEOUT_S, [])  # the script loaded on its node
    before = await script_calls(live)
    expires_ms, made = await live.create_offers(MARKET, token, TIMEOUT_S, items)
    calls = await script_calls(live) - before
    assert calls == -(-1000 // OFFER_BATCH) and calls > 1
    assert made == [f"o{i}" for i in range(1000)]
    scores = await live.redis.zrange(keys.offer_expiry(MARKET), 0, -1, withscores=True)
    assert {int(s) for _, s in scores} == {expires_ms}


async def test_a_batch_fenced_midway_keeps_what_the_lease_allowed(
        live: LiveStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lease changes between two batches: the first batch's offers stand and are returned,
    the rest are refused by the fence, and nothing raises."""
    await fill(live, 20, 2, 10)
    token = await take_lease(live)
    monkeypatch.setattr(live_module, "OFFER_BATCH", 5)
    real = live._create
    calls = 0

    async def lose_the_lease_after_one(**kw: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            await live.redis.set(keys.lease(MARKET), "999:successor")
        return await real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(live, "_create", lose_the_lease_after_one)
    items = [(f"o{i}", f"w{i}", f"j{i % 2}") for i in range(20)]
    _, made = await live.create_offers(MARKET, token, TIMEOUT_S, items)
    assert made == [f"o{i}" for i in range(5)]
    assert await live.redis.hlen(keys.offers(MARKET)) == 5


async def test_a_round_fenced_from_the_start_raises(live: LiveStore) -> None:
    """Without the lease, the very first batch is refused: the round is fenced, as before."""
    await fill(live, 3, 1, 3)
    with pytest.raises(ResponseError, match="fenced"):
        await live.create_offers(MARKET, "7:gone", TIMEOUT_S, [("o1", "w0", "j0")])
