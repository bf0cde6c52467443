"""Fixtures for every test directory: the session's throwaway PostgreSQL (``tests/pg.py``).

Started on first use only, so a run that never touches PostgreSQL never starts it; stopped at
the end of the session, also when the end-to-end servers used it (``GIGMARKET_TEST_LEDGER``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.ThrowawayPostgres]:
    yield pg.shared()


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres_at_the_end() -> Iterator[None]:
    yield
    pg.stop_shared()
