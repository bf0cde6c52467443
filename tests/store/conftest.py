"""Store fixtures: one private embedded Redis for the whole session, flushed before each test,
and a fresh ledger per test on each backend (arq's conftest: flush before, ``aclose`` after):
a SQLite file, and a new database on the session's throwaway PostgreSQL (``tests/pg.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from gigmarket.store.embedded_redis import EmbeddedRedis
from gigmarket.store.ledger import Ledger, SqliteLedger
from gigmarket.store.live import LiveStore
from tests import pg


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


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the test's ledger is: the same tests on both backends (issue 11: the same
    invariants enforced by both). A test that needs a second connection, as a second process
    would have, opens this again."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite3")
    return postgres_database(request, tmp_path)


@pytest_asyncio.fixture
async def ledger(ledger_where: str) -> AsyncIterator[Ledger]:
    opened = await Ledger.open(ledger_where)
    try:
        yield opened
    finally:
        await opened.aclose()


def postgres_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on the session's PostgreSQL; the test is skipped, saying why, on a
    machine without PostgreSQL's server binaries (``.ci/run`` installs them)."""
    if pg.bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    cluster: pg.ThrowawayPostgres = request.getfixturevalue("postgres")
    return cluster.fresh_database(str(tmp_path))


def only_sqlite(ledger: Ledger) -> None:
    """For a test of something only SQLite has (PRAGMAs, the file, WAL)."""
    if not isinstance(ledger, SqliteLedger):
        pytest.skip("SQLite only")
