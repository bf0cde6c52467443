"""A PostgreSQL ledger whose server goes away answers "unavailable" (503), never a traceback
(issue 8's rule for the SQLite file, kept on the second backend)."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from gigmarket.store.ledger import Ledger, LedgerUnavailable
from gigmarket.web.errors import on_unavailable
from tests import pg


async def test_a_stopped_server_makes_reads_and_writes_unavailable() -> None:
    """Reads and transactions on a ledger whose server stopped raise LedgerUnavailable, and
    the web layer turns that into 503 ``unavailable``."""
    if pg.bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    cluster = pg.ThrowawayPostgres().start()  # its own: this test stops it
    try:
        ledger = await Ledger.open(cluster.fresh_database("down"))
        try:
            assert await ledger.last_seq("worker:w1") == 0
            cluster.stop()
            with pytest.raises(LedgerUnavailable):
                await ledger.last_seq("worker:w1")
            with pytest.raises(LedgerUnavailable):
                async with ledger.transaction() as tx:
                    await tx.message("worker:w1", {"type": "hello"})
        finally:
            await ledger.aclose()
    finally:
        cluster.stop()
    request = Request({"type": "http", "method": "POST", "path": "/api/v1/jobs",
                       "headers": [], "query_string": b""})
    answer = await on_unavailable(request, LedgerUnavailable("down"))
    assert answer.status_code == 503
    assert json.loads(bytes(answer.body))["error"]["code"] == "unavailable"
