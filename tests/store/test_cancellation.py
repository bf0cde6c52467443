"""A loop over Redis stops on every cancel (``gigmarket.cancellation``).

On Python 3.11 redis-py 8 loses about half the cancels that land during a command (its sends
go through ``asyncio.wait_for``). A dispatcher whose loop lost its cancel never stopped on
SIGTERM; each loop that runs until cancelled now checks at every turn."""

from __future__ import annotations

import asyncio
import random

from gigmarket.cancellation import raise_if_cancelled
from gigmarket.store.live import LiveStore


async def test_a_loop_over_redis_stops_on_every_cancel(live: LiveStore) -> None:
    async def stats_like_loop() -> None:
        while True:
            raise_if_cancelled()
            await live.watched(["shiling", "baiyun"])

    rng = random.Random(20261124)
    for _ in range(200):
        task = asyncio.create_task(stats_like_loop())
        # Land the cancel anywhere in a command: before, during or after its send and read.
        await asyncio.sleep(rng.random() * 0.003)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert task in done, "a cancel was lost: the loop is still running"
        assert task.cancelled()


async def test_the_check_leaves_a_task_nobody_cancelled_alone() -> None:
    raise_if_cancelled()  # nothing asked this task to stop

    async def handled_its_own_cancel() -> str:
        me = asyncio.current_task()
        assert me is not None
        me.cancel()
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            me.uncancel()  # handled, as the socket endpoint handles its own closing
        raise_if_cancelled()
        return "went on"

    assert await handled_its_own_cancel() == "went on"
