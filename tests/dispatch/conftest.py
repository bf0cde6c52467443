"""Dispatch fixtures: one private embedded Redis for the session (flushed by each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gigmarket.store.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server of our own, on a unix socket in a temp dir."""
    with EmbeddedRedis(tmp_path_factory.mktemp("embedded")) as server:
        yield server.url
