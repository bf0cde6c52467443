"""What a dispatcher that died between the Redis gate and the ledger leaves behind is cleaned up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gigmarket.dispatch.loop import Dispatcher
from gigmarket.services.context import Context
from gigmarket.settings import Settings, default_config_dir, load_catalogue
from gigmarket.store import lease_tokens
from gigmarket.store.ledger import Ledger
from gigmarket.store.live import LiveStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    skills, markets = load_catalogue(default_config_dir())
    return Settings(data_dir=tmp_path, config_dir=default_config_dir(), redis_url=None,
                    ledger_path=tmp_path / "ledger.sqlite3", dev=True, secret_key=b"k" * 32,
                    allowed_origins=(), skills=skills, markets=markets)


async def test_an_offer_gated_but_never_recorded_is_dropped_and_its_worker_freed(
    live: LiveStore, ledger: Ledger, settings: Settings
) -> None:
    """An offer in Redis with no ledger row (the dispatcher was killed before its commit)
    expires like any other, and the sweep drops it: the worker is available again and the
    job's slot is free."""
    ctx = Context(settings=settings, ledger=ledger, live=live)
    token = await live.lease("shiling", "", "test", 30,
                             fresh=lambda: lease_tokens.next_token(ledger, "shiling"))
    assert token is not None
    await live.put_worker("shiling", "w1", {"lat": 23.46, "lon": 113.15, "skills": ["loading"]})
    await live.put_job("shiling", "j1", {"employer_id": "e1"}, headcount=1, accepted=0, pending=0)
    _, made = await live.create_offers("shiling", token, 0.05, [("of_ghost", "w1", "j1")])
    assert made == ["of_ghost"]
    assert await live.worker_state("shiling", "w1") == "offered"
    await asyncio.sleep(0.2)  # past its expiry (the outcome is asserted, not the time)
    dispatcher = Dispatcher(ctx, solver=None)  # type: ignore[arg-type]  # sweeps need no solver
    await dispatcher._sweep(settings.markets["shiling"])
    assert await live.worker_state("shiling", "w1") == "available"
    assert await live.due_offers("shiling") == []
    snap = await live.snapshot("shiling")
    assert snap.pending.get("j1") == 0
