"""The live store's gates, lease, rebuild and counters on a real 3-node Redis Cluster: the same
tests as on a single Redis (``tests/store/test_live.py``), run here against the cluster's
``live`` fixture. A script or MULTI that crossed slots would fail here with CROSSSLOT."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from gigmarket import settings
from gigmarket.store import keys
from gigmarket.store.live import LiveStore
from tests.store.test_live import (  # noqa: F401  (collected here against the cluster)
    test_a_lapsed_lease_goes_to_the_next_owner,
    test_a_pair_is_never_offered_again,
    test_a_record_replaced_or_a_pair_allowed_again_is_noted_as_a_change,
    test_accept_succeeds_once,
    test_an_expired_offer_cannot_be_accepted,
    test_another_workers_accept_is_forbidden,
    test_close_offer_by_another_worker_is_forbidden,
    test_close_offer_returns_the_worker_and_frees_the_slot,
    test_closing_does_not_return_a_worker_who_left,
    test_concurrent_create_calls_never_overfill,
    test_create_offers_makes_only_what_fits,
    test_create_offers_refuses_a_wrong_lease_token,
    test_create_offers_without_any_lease_is_fenced,
    test_due_offers_lists_the_expired_ones,
    test_full_exactly_when_the_last_slot_is_taken,
    test_hit_passes_up_to_the_limit_then_refuses,
    test_lease_is_held_by_one_owner_at_a_time,
    test_no_accept_once_the_job_is_closed,
    test_only_if_expired_refuses_an_unexpired_offer,
    test_racing_accepts_never_exceed_headcount,
    test_racing_accepts_of_one_offer_win_once,
    test_rebuild_replaces_the_market_and_marks_it_built,
    test_snapshot_reads_back_what_was_put,
)


async def test_the_fixture_is_a_cluster_of_three_primaries(live: LiveStore) -> None:
    """The store talks to a real cluster, not to one node that happens to answer."""
    assert isinstance(live.redis, RedisCluster)
    await live.redis.ping()  # the client learns the nodes and slots on its first command
    assert len(live.redis.get_primaries()) == 3


async def test_markets_spread_over_the_nodes(live: LiveStore) -> None:
    """Different markets land on different slots, so a province's markets share the nodes."""
    assert isinstance(live.redis, RedisCluster)
    await live.redis.ping()
    slots = {live.redis.keyslot(keys.lease(f"m{i}")) for i in range(30)}
    nodes = {live.redis.get_node_from_key(keys.lease(f"m{i}")).name for i in range(30)}
    assert len(slots) > 20 and len(nodes) == 3


def test_every_key_of_a_market_shares_its_hash_slot() -> None:
    """Every per-market key and channel carries the ``{market}`` tag: one slot per market."""
    for market in ("shiling", "huashan", "m-17"):
        named = [*keys.market_keys(market), keys.lease(market), keys.built(market),
                 keys.kick(market), keys.last_round(market)]
        assert {k[k.index("{") + 1: k.index("}")] for k in named} == {market}
        assert len({key_slot(k.encode()) for k in named}) == 1


async def test_presence_of_workers_on_several_nodes(live: LiveStore) -> None:
    """Presence keys belong to no market and sit on several nodes; asking about many workers
    at once still answers for each."""
    for i in range(6):
        await live.touch_presence(f"w{i}", "s1", 30)
    await live.touch_presence_many([(f"w{i}", "s1") for i in range(6, 12)], 30)
    await live.drop_presence("w3", "s1")
    present = await live.present_among([f"w{i}" for i in range(14)])
    assert present == {f"w{i}" for i in range(12)} - {"w3"}


def test_the_cluster_switch_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``GIGMARKET_REDIS_CLUSTER=1`` beside ``REDIS_URL`` means a cluster; unset, one Redis."""
    monkeypatch.setenv("GIGMARKET_DATA", str(tmp_path))
    monkeypatch.delenv("GIGMARKET_REDIS_CLUSTER", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:7000")
    assert settings.load().redis_cluster is False
    monkeypatch.setenv("GIGMARKET_REDIS_CLUSTER", "1")
    assert settings.load().redis_cluster is True
    monkeypatch.delenv("REDIS_URL")
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        settings.load()  # the embedded Redis is never a cluster
