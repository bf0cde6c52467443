"""The cyclic garbage collector, paced for a web process that holds thousands of sockets.

Each held socket keeps ~160 objects the collector tracks (uvicorn's and websockets' protocol
objects, starlette's request, our ``Connection``, the suspended coroutines of its handler).
CPython 3.11 collects its oldest generation whenever the objects that survived grew by a
quarter, and such a collection walks every tracked object with the loop stopped. While a crowd
connects that happens again and again: measured at 5,000 sockets (issue 13), pauses of 130,
150, 190 … 890 ms, and post → offer p99 was 700 ms at 20 posts/s against a p50 of 45 ms.

So every :data:`FREEZE_EVERY_S` whatever has survived so far is frozen (:func:`gc.freeze`, a
list splice, not a walk): later collections walk only what came since, and young garbage is
collected as before. The price: an object frozen and later left in a reference cycle is not
freed until it is unfrozen (an object freed by its reference count, most of a closed socket's,
goes at once, frozen or not). So every :data:`FULL_EVERY_S` everything is unfrozen and one
full collection runs: one pause in that time instead of one each time the heap grew by a
quarter, and what a cycle may hold meanwhile is bounded by it. Measured with
``bench/city.py``: post → offer p99 at 5,000 sockets, 20 posts/s, 700 → 78 ms.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Final, Literal

log = logging.getLogger("gigmarket.collector")

#: How often what has survived is frozen.
FREEZE_EVERY_S: Final = 1.0
#: How often everything is unfrozen and collected once, whole.
FULL_EVERY_S: Final = 600.0


class Pacer:
    """Freezes survivors often and collects everything now and then; :meth:`step` decides,
    :meth:`run` steps on a timer."""

    def __init__(self, *, freeze_every_s: float = FREEZE_EVERY_S,
                 full_every_s: float = FULL_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.freeze_every_s = freeze_every_s
        self.full_every_s = full_every_s
        self._clock = clock
        self._next_full = clock() + full_every_s

    def step(self) -> Literal["freeze", "full"]:
        now = self._clock()
        if now < self._next_full:
            gc.freeze()
            return "freeze"
        self._next_full = now + self.full_every_s
        t0 = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        log.debug("full collection: %d unreachable objects in %.0f ms", found,
                  (time.perf_counter() - t0) * 1000)
        return "full"

    async def run(self) -> None:
        """Step until cancelled; on the way out, leave nothing frozen."""
        try:
            while True:
                await asyncio.sleep(self.freeze_every_s)
                self.step()
        finally:
            gc.unfreeze()
