"""The web process renews its sockets' presence in one sweep (issue 13: no task per socket),
against a real Redis."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from gigmarket.services import presence
from gigmarket.store.live import LiveStore


async def test_a_sweep_renews_every_socket_it_is_given_and_no_other(live: LiveStore) -> None:
    """Entries of a short lease run out unless a sweep renews them: the swept ones stay
    present after the lease, the one left out goes absent, in batches of any size."""
    held = [(f"w{i}", f"sock{i}") for i in range(presence.REFRESH_BATCH + 7)]
    for w, s in [*held, ("gone", "sock-x")]:
        await live.touch_presence(w, s, 0.5)
    ctx: Any = SimpleNamespace(live=live)
    await asyncio.sleep(0.3)
    await presence.refresh(ctx, held)  # renews each for TTL_S from now
    await asyncio.sleep(0.4)           # past the first lease
    assert await live.present_among([w for w, _ in held]) == {w for w, _ in held}
    assert not await live.is_present("gone")


async def test_leaving_drops_only_that_socket(live: LiveStore) -> None:
    ctx: Any = SimpleNamespace(live=live)
    await live.touch_presence("w", "phone", 30)
    await live.touch_presence("w", "kiosk", 30)
    await presence.leave(ctx, "w", "phone")
    assert await live.is_present("w")
    await presence.leave(ctx, "w", "kiosk")
    assert not await live.is_present("w")


async def test_presence_among_many_reads_each_worker_across_chunks(
    live: LiveStore, monkeypatch: Any
) -> None:
    """A round asks about its thousands of offered workers in a few calls: over several
    chunks, the present are found, the never-seen and the run-out are not, in any order."""
    monkeypatch.setattr("gigmarket.store.live.PRESENCE_CHUNK", 7)
    here = [f"here{i}" for i in range(16)]
    for w in here:
        await live.touch_presence(w, "sock", 30)
    await live.touch_presence("lapsed", "sock", 0.05)
    await asyncio.sleep(0.1)
    asked = [x for pair in zip(here, [f"never{i}" for i in range(16)], strict=True)
             for x in pair] + ["lapsed"]
    assert await live.present_among(asked) == set(here)
    assert await live.present_among(["never"]) == set()
