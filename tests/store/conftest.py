"""Store fixtures: one private embedded Redis for the whole session, flushed before each test,
and a fresh SQLite ledger file per test (arq's conftest: flush before, ``aclose`` after)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from gigmarket.store.embedded_redis import EmbeddedRedis
from gigmarket.store.ledger import Ledger
from gigmarket.store.live import LiveStore


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server of our own, on a unix socket in a temp dir."""
    with EmbeddedRedis(tmp_path_factory.mktemp("embedded")) as server:
        yield server.url


@pytest_asyncio.fixture
async def live(redis_url: str) -> AsyncIterator[LiveStore]:
    # FLUSHDB is only safe because this is our private server: never let a URL of the
    # machine's (or anyone's) TCP Redis reach it.
    assert redis_url.startswith("unix://"), redis_url
    store = LiveStore.from_url(redis_url)
    await store.redis.flushdb()
    try:
        yield store
    finally:
        await store.aclose()


@pytest_asyncio.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    opened = await Ledger.open(tmp_path / "ledger.sqlite3")
    try:
        yield opened
    finally:
        await opened.aclose()
