"""Per-market channels (issue 11) on one Redis and on the 3-node cluster: a feed hears exactly
the markets it holds, lets go of one it removes, and after its connections are cut comes back on
exactly the same channels, telling its owner to catch up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import redis

from gigmarket.store import keys
from gigmarket.store.channels import Feed
from gigmarket.store.embedded_redis import EmbeddedRedis
from gigmarket.store.live import LiveStore
from tests.cluster.redis_cluster import ThrowawayCluster

MARKETS = [f"m{i}" for i in range(8)]


@pytest.fixture(scope="module")
def single_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with EmbeddedRedis(tmp_path_factory.mktemp("single")) as server:
        yield server.url


@pytest_asyncio.fixture(params=["single", "cluster"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LiveStore]:
    if request.param == "cluster":
        cluster: ThrowawayCluster = request.getfixturevalue("redis_cluster")
        live = LiveStore.from_url(cluster.url, cluster=True)
    else:
        live = LiveStore.from_url(request.getfixturevalue("single_redis"))
    try:
        yield live
    finally:
        await live.aclose()


class Heard:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.gaps = 0
        self.arrived = asyncio.Event()

    def message(self, channel: str, data: str) -> None:
        self.messages.append((channel, data))
        self.arrived.set()

    def gap(self) -> None:
        self.gaps += 1
        self.arrived.set()

    async def until(self, check: object, timeout_s: float = 20) -> None:
        async with asyncio.timeout(timeout_s):
            while not check():  # type: ignore[operator]
                self.arrived.clear()
                await self.arrived.wait()


async def test_a_feed_hears_only_the_markets_it_holds(store: LiveStore) -> None:
    """Subscribed to half the markets, a publish to every market reaches it for that half only;
    a removed market is heard no more."""
    heard = Heard()
    feed = Feed(store, heard.message, heard.gap, broadcast=(keys.REVOKE,))
    await feed.start()
    try:
        held = MARKETS[:4]
        await feed.add(*[keys.fanout(m) for m in held])
        # Published to every market until each held one was heard: a subscription is sent,
        # not confirmed, when add() returns.
        async with asyncio.timeout(30):
            while not {d for _, d in heard.messages} >= set(held):
                for market in MARKETS:
                    await store.publish_market(keys.fanout(market), market)
                await asyncio.sleep(0.1)
        assert {d for c, d in heard.messages} == set(held)
        assert feed.channels == {keys.fanout(m) for m in held}

        await feed.remove(keys.fanout("m0"))
        await store.publish_market(keys.fanout("m0"), "after")
        await store.publish_market(keys.fanout("m1"), "after")
        await heard.until(lambda: (keys.fanout("m1"), "after") in heard.messages)
        assert (keys.fanout("m0"), "after") not in heard.messages
        assert feed.received[keys.fanout("m0")] == heard.messages.count((keys.fanout("m0"), "m0"))
    finally:
        await feed.aclose()


def pubsub_clients(store: LiveStore) -> list[redis.Redis]:
    """Plain clients to every node of the store's Redis (to cut connections from outside)."""
    if store.cluster:
        return [redis.Redis(host=n.host, port=int(n.port))
                for n in store.redis.get_primaries()]  # type: ignore[union-attr]
    path = store.redis.connection_pool.connection_kwargs["path"]  # type: ignore[union-attr]
    return [redis.Redis(unix_socket_path=path)]


async def test_cut_subscriptions_come_back_on_the_same_channels(store: LiveStore) -> None:
    """Every pub/sub connection is killed server-side: the feed reports a gap, and once back it
    hears its markets again, and still not the others."""
    heard = Heard()
    feed = Feed(store, heard.message, heard.gap, broadcast=(keys.REVOKE,))
    await feed.start()
    try:
        held = ["m2", "m5", "m7"]
        await feed.add(*[keys.fanout(m) for m in held])
        await store.publish(keys.REVOKE, "before")
        await heard.until(lambda: (keys.REVOKE, "before") in heard.messages)
        killed = 0
        for client in pubsub_clients(store):
            with client:
                killed += client.client_kill_filter(_type="pubsub")
        assert killed >= (2 if store.cluster else 1)  # broadcast + a market node on a cluster
        await heard.until(lambda: heard.gaps >= 1)

        async def publish_until_heard() -> None:
            while not {d for _, d in heard.messages} >= {f"back:{m}" for m in held}:
                for market in MARKETS:
                    await store.publish_market(keys.fanout(market), f"back:{market}")
                await asyncio.sleep(0.2)

        async with asyncio.timeout(30):
            await publish_until_heard()
        assert {d for _, d in heard.messages if d.startswith("back:")} == {
            f"back:{m}" for m in held}
        assert feed.channels == {keys.fanout(m) for m in held}
    finally:
        await feed.aclose()
