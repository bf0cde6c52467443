"""Cluster fixtures: one throwaway 3-node Redis Cluster for the whole session (about 3 s to
start), emptied before each test that uses the live store on it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from gigmarket.store.embedded_redis import redis_server_version
from gigmarket.store.live import LiveStore
from tests.cluster.redis_cluster import ThrowawayCluster


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayCluster]:
    version = redis_server_version(shutil.which("redis-server") or "redis-server")
    if shutil.which("redis-cli") is None or version is None or version < (7, 0, 0):
        # Like the browser tests without Chromium: .ci/run installs Debian's redis-server.
        pytest.skip("a Redis Cluster needs redis-server 7+ and redis-cli on PATH "
                    "(Debian: apt-get install redis-server)")
    with ThrowawayCluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest_asyncio.fixture
async def live(redis_cluster: ThrowawayCluster) -> AsyncIterator[LiveStore]:
    """The live store on the cluster, as ``GIGMARKET_REDIS_CLUSTER=1`` builds it."""
    redis_cluster.flush()  # our own nodes only: their ports were free when we started them
    store = LiveStore.from_url(redis_cluster.url, cluster=True)
    try:
        yield store
    finally:
        await store.aclose()
