"""The exchange tests run against a real server (tests/e2e's), with one platform added through
the command line as an operator would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import make_server, server, shared_redis  # noqa: F401 - fixtures used here
from tests.e2e.server import ServerProcess
from tests.exchange.platform import FakePlatform


def add_platform(srv: ServerProcess, platform_id: str, *extra: str) -> FakePlatform:
    out = srv.cli("exchange", "add", "--platform", platform_id, *extra)
    secret = out.stdout.strip()
    assert len(secret) == 64 and int(secret, 16) >= 0, out
    return FakePlatform(srv.base_url, platform_id, secret)


@pytest.fixture
async def province(server: ServerProcess) -> AsyncIterator[FakePlatform]:  # noqa: F811
    platform = add_platform(server, "gd-province")
    try:
        yield platform
    finally:
        await platform.aclose()

