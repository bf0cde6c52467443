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


def test_garbage_that_came_since_the_last_step_is_collected_not_frozen() -> None:
    """A websocket's HTTP protocol object is left in a cycle after the upgrade: the step
    collects it before it freezes the survivors."""
    pacer = Pacer(freeze_every_s=1, full_every_s=3600)
    held, gone = cycle()
    del held
    pacer.step()
    assert gone() is None


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
    """What closed sockets leave in cycles waits no longer than until it would be a quarter
    of what is frozen; sockets arriving bring nothing forward."""
    monkeypatch.setattr(collector, "_closed_sockets", 0)
    pacer = Pacer(freeze_every_s=1, full_every_s=3600)
    assert pacer.step() == "freeze"
    frozen = gc.get_freeze_count()
    assert pacer.step() == "freeze"
    quarter = frozen // (4 * collector.CYCLE_OBJECTS_PER_CLOSED_SOCKET)
    for _ in range(int(quarter * 0.8)):
        collector.socket_closed()
    assert pacer.step() == "freeze"
    for _ in range(int(quarter * 0.4) + 10):
        collector.socket_closed()
    assert pacer.step() == "full"
    assert collector._closed_sockets == 0
    assert pacer.step() == "freeze"
