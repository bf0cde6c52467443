"""The collector's pacing (issue 13): survivors frozen often, everything collected now and
then, nothing left frozen on the way out. Real ``gc``, a fake clock."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from gigmarket import collector
from gigmarket.collector import Pacer


class Node:
    other: Node


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


def test_a_frozen_cycle_waits_for_the_full_collection() -> None:
    clock = [0.0]
    pacer = Pacer(freeze_every_s=1, full_every_s=10, clock=lambda: clock[0])
    kept = Node()
    held, gone = cycle()
    assert pacer.step() == "freeze"
    assert gc.get_freeze_count() > 0
    del held   # garbage now, but frozen while it was alive
    gc.collect()
    assert gone() is not None, "the collector walked a frozen object"
    clock[0] = 9.9
    assert pacer.step() == "freeze"
    gc.collect()
    assert gone() is not None
    clock[0] = 10.0
    assert pacer.step() == "full"
    assert gone() is None, "the full collection left a cycle of garbage"
    assert gc.get_freeze_count() > 0, "survivors are frozen again after it"
    assert kept is not None
    clock[0] = 15.0
    assert pacer.step() == "freeze"   # the next full one is ten seconds after the last
    clock[0] = 20.0
    assert pacer.step() == "full"


def test_young_garbage_is_still_collected_between_freezes() -> None:
    pacer = Pacer(freeze_every_s=1, full_every_s=3600)
    pacer.step()
    held, gone = cycle()   # made after the freeze: young, walked as before
    del held
    gc.collect()
    assert gone() is None


async def test_running_pacer_freezes_and_leaves_nothing_frozen_when_stopped() -> None:
    task = asyncio.create_task(Pacer(freeze_every_s=0.01, full_every_s=3600).run())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if gc.get_freeze_count():
            break
    assert gc.get_freeze_count() > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.get_freeze_count() == 0


def test_closed_sockets_bring_the_full_collection_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    """What closed sockets leave in cycles waits only until they are a quarter of the sockets
    held (and at least CLOSES_MIN); sockets arriving bring nothing forward."""
    monkeypatch.setattr(collector, "_held_sockets", 0)
    monkeypatch.setattr(collector, "_closed_sockets", 0)
    pacer = Pacer(freeze_every_s=1, full_every_s=3600)
    for _ in range(8000):
        collector.socket_opened()
    assert pacer.step() == "freeze"
    for _ in range(1500):
        collector.socket_closed()
    assert pacer.step() == "freeze"   # 1,500 of 6,500 held: under a quarter
    for _ in range(200):
        collector.socket_closed()
    assert pacer.step() == "full"     # 1,700 of 6,300: a quarter
    assert collector._closed_sockets == 0
    assert pacer.step() == "freeze"
    for _ in range(6000):
        collector.socket_closed()     # a few hundred held: CLOSES_MIN rules
    for _ in range(5900):
        collector.socket_opened()
    assert collector._closed_sockets >= collector.CLOSES_MIN
    assert pacer.step() == "full"
